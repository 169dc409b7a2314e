"""The numbered catalogs of the source documents: the Advanced Settings and the
integration options. One name per ID, used wherever code names a setting or an
option.

The rows themselves (description, kind, unique per biller) are data, seeded by
billers/migrations/0002_settings_catalog.py; tests/billers/test_catalog.py keeps
these enums and those rows in step. An IntEnum equals its int, so a member looks
up a dict keyed by plain ints (a biller's setting values) and filters a query.

This module imports nothing from the project: any module can import it.
"""

from enum import IntEnum, unique


@unique
class SettingId(IntEnum):
    """An Advanced Setting: a value per biller (passwords and keys are secrets)."""

    RTDR_URL = 8  # RTDR EndPoint/WebService URL (IMT: its API base URL)
    RTDR_KEY = 10  # RTDR Key or Password if Applicable (IMT: the integrator ID)
    PAYMENTS_URL = 11  # DataPump Payments EndPoint/WebService URL
    PAYMENTS_PASSWORD = 13  # DataPump Payments EndPoint/WebService Password
    PAPERLESS_PASSWORD = 16  # DataPump Paperless EndPoint/WebService Password
    AUTOPAY_URL = 17  # DataPump AutoPay EndPoint/WebService URL
    AUTOPAY_PASSWORD = 19  # DataPump AutoPay EndPoint/WebService Password
    ACCELA_INVOICE_NUMBER_PREFIX = 30  # Accela InvoiceNumber Prefix, e.g. "ACCELA-"
    PAYMENTS_CC_CODES = 64  # DataPump Payments CC Code, e.g. "Web CC|IVR CC|AutopayCC"
    PAYMENTS_ACH_CODES = 65  # DataPump Payments ACH Code, e.g. "Web Eck|IVR Eck|AutopayEck"
    SECONDARY_PAPERLESS_URL = 111  # Secondary DP Paperless EndPoint URL
    SECONDARY_PAPERLESS_USERNAME = 112  # Secondary DP Paperless EndPoint Username
    SECONDARY_PAPERLESS_PASSWORD = 113  # Secondary DP Paperless EndPoint Password
    JSON_CONFIGURATION = 131  # JSON Configuration, e.g. {"InvoiceOnDemand": {"Integration": ...}}


@unique
class OptionId(IntEnum):
    """An integration option: an On/Off switch per biller (a catalog apart from
    the settings, so its 64 is not setting 64)."""

    RTDR_OVERRIDE_SIX_HOUR_CHECK = 64  # RTDR - Override 6 Hour Previous RTDR Check


# The IC fields the hub cannot work without, per partner: (IC FileSpecID, IC field).
# Every biller of the partner must map each of them, with a rule that gives a value
# (billers.services.mapping_requirements). A partner template (billers/presets/*.json)
# says the same in its `required_mapping`, and may ask for more.
# CitizenServe's RTDR: an invoice is found by its number, owes its total, and belongs
# to a customer (the seeds' Peoria document). IMT's invoice file: its columns that
# are in the file and TRUE in "Required (T/F)" (the seeds' IMT document).
REQUIRED_MAPPING: dict[str, tuple[tuple[int, str], ...]] = {
    "CitizenServe": (
        (10, "InvoiceNumber"),
        (13, "TotalAmountDue"),
        (59, "AccountNumber"),
        (60, "CustomerName"),
    ),
    "IMT": (
        (10, "InvoiceNumber"),
        (11, "InvoiceDate"),
        (12, "InvoiceDueDate"),
        (13, "TotalAmountDue"),
        (59, "AccountNumber"),
        (60, "CustomerName"),
    ),
}
