"""The hub's domain errors: a message for people and a stable code for programs.

`ErrorCode` is the one list of the codes the hub answers with (`{"code",
"message", "extra"}`, see icintegrations.api); `PARTNER_ERRORS` is the one table
from what a partner call ended in to the error a synchronous caller answers
with, the HTTP status being the class's.
"""

from collections.abc import Collection
from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable: programs depend on them (README.md lists them per endpoint)."""

    # The API itself (icintegrations.api, icintegrations.authentication).
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    MALFORMED_REQUEST = "malformed_request"
    INVALID_REQUEST = "invalid_request"
    INTERNAL_ERROR = "internal_error"
    REQUEST_TOO_LARGE = "request_too_large"
    ERROR = "error"
    NOT_READY = "not_ready"  # /readyz: the database or the broker does not answer

    # A partner call (partners.connectors.errors), as the RTDR answers it.
    PARTNER_ERROR = "partner_error"
    PARTNER_UNAVAILABLE = "partner_unavailable"
    PARTNER_TIMEOUT = "partner_timeout"
    PARTNER_BAD_RESPONSE = "partner_bad_response"
    PARTNER_REJECTED = "partner_rejected"
    PARTNER_AUTH_FAILED = "partner_auth_failed"
    PARTNER_NOT_FOUND = "partner_not_found"
    PARTNER_NOT_CONFIGURED = "partner_not_configured"
    PARTNER_BAD_RECORD = "partner_bad_record"  # refused by the mapping, or not storable

    # The RTDR and the bill PDF (partners.services.rtdr, partners.apis).
    BILLER_NOT_FOUND = "biller_not_found"
    INVOICE_NOT_FOUND = "invoice_not_found"  # also a payment's: no such invoice at the hub
    BILL_NOT_AVAILABLE = "bill_not_available"
    INVALID_INVOICE_NUMBER = "invalid_invoice_number"
    INVALID_ZIP = "invalid_zip"

    # A payment (payments.services.payments): the biller's policy, idempotency.
    PAYMENT_NOT_FOUND = "payment_not_found"
    PAYMENT_GUID_CONFLICT = "payment_guid_conflict"
    AMOUNT_NOT_POSITIVE = "amount_not_positive"
    PAID_AT_IN_FUTURE = "paid_at_in_future"
    PAYMENT_SOURCE_NOT_ACCEPTED = "payment_source_not_accepted"
    ACCOUNT_MISMATCH = "account_mismatch"
    PARTIAL_PAYMENT_NOT_ALLOWED = "partial_payment_not_allowed"
    BELOW_MINIMUM_AMOUNT_DUE = "below_minimum_amount_due"
    AMOUNT_EXCEEDS_BALANCE = "amount_exceeds_balance"
    AMOUNT_ABOVE_MAXIMUM = "amount_above_maximum"

    # A reversal (payments.services.reversals).
    UNEXPECTED_RETURN_CODE = "unexpected_return_code"
    ALREADY_REVERSED = "already_reversed"
    UNKNOWN_RETURN_CODE = "unknown_return_code"
    NOT_A_BANK_PAYMENT = "not_a_bank_payment"
    ACH_RETURN_WINDOW_PASSED = "ach_return_window_passed"
    NOT_TO_APPLY = "not_to_apply"
    REASON_REQUIRED = "reason_required"
    REVERSAL_CHANGED = "reversal_changed"
    NOTE_TOO_LONG = "note_too_long"
    INVALID_NOTE = "invalid_note"  # a control character in a tick-off note

    # An operator's action on a delivery (payments.services.operators).
    UNKNOWN_ACTION = "unknown_action"
    WRONG_DELIVERY_STATUS = "wrong_delivery_status"
    PAYMENT_REVERSED = "payment_reversed"
    CONFLICT = "conflict"
    REVERSAL_APPLIED = "reversal_applied"
    NOT_HELD = "not_held"

    # An invoice file (invoicefiles: its API, and a file's own error).
    INVOICE_FILE_NOT_FOUND = "invoice_file_not_found"
    FILE_TOO_LARGE = "file_too_large"
    FILE_MISSING = "file_missing"
    EMPTY_FILE = "empty_file"
    BINARY_FILE = "binary_file"
    UNREADABLE_FILE = "unreadable_file"
    BAD_HEADER = "bad_header"
    LINE_TOO_LONG = "line_too_long"
    DUPLICATE_COLUMN = "duplicate_column"
    MISSING_COLUMN = "missing_column"
    NO_ROWS = "no_rows"
    NO_VALID_ROWS = "no_valid_rows"
    PROCESSING_ERROR = "processing_error"
    INTERRUPTED = "interrupted"
    BIF_NOT_AVAILABLE = "bif_not_available"

    # Set-up by Solutions Engineers (billers and partners services, their commands).
    INVALID_NAME = "invalid_name"
    DUPLICATE_NAME = "duplicate_name"
    NO_BILLERS = "no_billers"
    INVALID_USERNAME = "invalid_username"
    WEAK_PASSWORD = "weak_password"
    ADMIN_USER = "admin_user"
    UNKNOWN_PRESET = "unknown_preset"
    INVALID_PRESET = "invalid_preset"
    INVALID_DOCUMENT = "invalid_document"  # a biller configuration document
    UNSUPPORTED_DOCUMENT_FORMAT = "unsupported_document_format"
    UNKNOWN_SETTING = "unknown_setting"
    INVALID_SETTING_VALUE = "invalid_setting_value"
    EMPTY_SECRET = "empty_secret"
    NO_SANDBOX = "no_sandbox"
    UNKNOWN_TEMPLATE = "unknown_template"  # a partner template (billers.templates)
    BILLER_EXISTS = "biller_exists"  # a new biller's BID is taken
    BILLER_GUID_TAKEN = "biller_guid_taken"
    INVALID_TEMPLATE_VALUE = "invalid_template_value"  # a per-biller value, e.g. installationID
    # Going live (onboarding.go_live): promotion to production and activation.
    GO_LIVE_INCOMPLETE = "go_live_incomplete"  # extra.missing names each unmet item
    ALREADY_IN_PRODUCTION = "already_in_production"
    URL_NOT_AT_PARTNER_TEST = "url_not_at_partner_test"  # extra.settings names them

    # Recorded on a delivery attempt, never answered.
    WORKER_LOST = "worker_lost"  # the lease ran out during the call
    NOT_SUPPORTED = "not_supported"  # the partner has no such call


class ApplicationError(Exception):
    """Raised by services; callers turn it into an HTTP answer or a CLI error.

    `code` is stable (programs may depend on it), `message` is for people and
    never carries a secret, `extra` holds structured details.
    """

    status_code = 400

    def __init__(self, message: str, *, code: str, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}

    def __str__(self):
        return f"{self.message} [{self.code}]"


class NotFoundError(ApplicationError):
    status_code = 404


class PartnerUnavailableError(ApplicationError):
    status_code = 503


class PartnerTimeoutError(ApplicationError):
    status_code = 504


class PartnerFailedError(ApplicationError):
    """The partner answered, but not usefully (credentials refused, a bad record)."""

    status_code = 502


_UNUSABLE = "The partner's answer could not be used."

# What a synchronous caller answers for a partner call that ended in a code:
# the error (its class holds the HTTP status) and its message.
PARTNER_ERRORS: dict[ErrorCode, tuple[type[ApplicationError], str]] = {
    ErrorCode.PARTNER_AUTH_FAILED: (
        PartnerFailedError,
        "The partner refused the hub's credentials for this biller.",
    ),
    ErrorCode.PARTNER_TIMEOUT: (PartnerTimeoutError, "The partner did not answer in time."),
    ErrorCode.PARTNER_REJECTED: (PartnerFailedError, _UNUSABLE),
    ErrorCode.PARTNER_BAD_RECORD: (PartnerFailedError, _UNUSABLE),
    ErrorCode.PARTNER_BAD_RESPONSE: (PartnerFailedError, _UNUSABLE),
    ErrorCode.PARTNER_UNAVAILABLE: (PartnerUnavailableError, "The partner cannot be reached."),
}


def partner_error(
    code: str, *, told_apart: Collection[ErrorCode] = tuple(PARTNER_ERRORS)
) -> ApplicationError:
    """The domain error for a partner call that ended in `code`. A code the
    caller does not tell apart (`told_apart`), or that the table does not list
    (a missing setting, a generic failure), is `partner_unavailable`."""
    if code not in PARTNER_ERRORS or code not in told_apart:
        code = ErrorCode.PARTNER_UNAVAILABLE
    error, message = PARTNER_ERRORS[ErrorCode(code)]
    return error(message, code=ErrorCode(code))
