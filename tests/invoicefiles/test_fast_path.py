"""The SQL conversion (the fast path) against the mapping engine on every row.

A file is converted in SQL where the SQL is certain of the value, and by the
mapping engine elsewhere; `exact=True` has the engine convert every row. Both
must give the same file: the same rows accepted and refused, the same errors,
the same invoices and customers, the same BIF bytes.
"""

import pytest
from django.db import connection

from billers.models import Customer, Invoice, InvoiceType
from billers.selectors import biller_setting_values
from invoicefiles.models import InvoiceFile
from invoicefiles.services.conversion import conversion_sql
from invoicefiles.services.processing import _columns, invoice_file_process
from invoicefiles.services.staging import RAW, TABLE
from invoicefiles.services.storage import files_dir
from invoicefiles.services.uploads import invoice_file_receive
from partners.selectors import biller_mapper
from tests.support.invoicefiles import HEADER, imt_file, imt_row

# Each row has at most one value out of the ordinary, so that the SQL's choice for
# that value decides where the row goes.
GOOD = [
    imt_row("G01"),
    imt_row("G02", amount="1,234.5"),  # the engine reads commas and no cents
    imt_row("G03", past_due="$12"),
    imt_row("G04", amount="050.00"),  # a leading zero
    imt_row("G05", past_due="0"),
    imt_row("G06", amount=" 7.25 "),  # spaces around
    imt_row("G07", date=" 2026-10-01 "),
    imt_row("G08", date="10/01/2026"),  # other date forms
    imt_row("G09", due="20261021"),
    imt_row("G10", date="2024-02-29"),  # a leap day
    imt_row("G11", due="2026-04-30"),
    imt_row("G12", amount="$1,000,000.5"),  # grouped thousands, a dollar sign
    imt_row("G13", amount="-5.00"),  # a credit
    imt_row("G14", amount="9999999999.99"),  # the largest amount
    imt_row("G15", amount="0.10"),
    imt_row("G16", name="José Núñez"),  # not ASCII
    imt_row("G17", city="Peoria\u00a0"),  # a no-break space, stripped
    imt_row("G18", name="Smith Sons\t"),  # a control at the end: stripped
    imt_row("G19", address="1\u2028Main St"),
    imt_row("G20", address2="\x1fApt 4\x1c"),  # controls that str.strip() strips
    imt_row("G21", past_due="", registration="", address2="", email=""),  # optional, empty
    imt_row("G22", customer="0407", name="x" * 200),  # exactly the limit
    imt_row("G23", customer=" 0408"),
    imt_row("G24", name="O'Brien & Sons 100%"),
    imt_row("G01", amount="60.00"),  # repeats G01: the later row wins
]
BAD = [
    imt_row("B01", amount="fifty"),
    imt_row("B02", amount=""),  # required
    imt_row("B03", amount="NaN"),
    imt_row("B04", amount="10000000000.00"),  # too large
    imt_row("B05", amount="1.2.3"),
    imt_row("B06", date="2026-02-30"),
    imt_row("B07", date="2026-13-01"),
    imt_row("B08", date="0000-01-01"),
    imt_row("B09", date="2026-02-29"),  # not a leap year
    imt_row("B10", due=""),  # required
    imt_row("B11", due="soon"),
    imt_row("B12", customer=""),  # required
    imt_row("B13", customer="\u00a0 "),  # only whitespace
    imt_row("B14", name="x" * 201),  # longer than the model's 200
    imt_row("B15" + "9" * 98),  # an invoice number of 101 characters
    imt_row("B16", past_due="abc"),  # optional, but not an amount
    imt_row("B17", zip_code="8" * 21),  # longer than 20
    imt_row("B18", amount="x", date="y", customer=""),  # three errors, one row
    # Amounts refused, never rounded or read in another way (issue 12)
    imt_row("B19", amount="1e3"),
    imt_row("B20", amount="0.001"),
    imt_row("B21", amount="١.٠٠"),  # Arabic-Indic digits
    imt_row("B22", amount="１.００"),  # full-width digits
    imt_row("B23", amount="+1"),
    imt_row("B24", past_due="1,2"),  # not thousands
    imt_row("B25", amount="12345678901"),
    # Control characters inside a text value
    imt_row("B26", name="Smith\tSons"),
    imt_row("B27", address2="Apt\x7f4"),
    imt_row("B28", city="Peo\x1bria"),
    imt_row("B29", name="Jane\x85Roe"),  # a C1 control (NEL)
    imt_row("B30", customer="04\x0209"),
]
# Rows whose shape is wrong: PostgreSQL's COPY refuses them, so this file is read
# row by row (the fallback), quoted fields and all.
SHAPES = [
    imt_row("S01"),
    "",
    imt_row("S02") + "|extra",
    imt_row("S03").rsplit("|", 2)[0],
    imt_row("S04", name='"Smith | Sons ""Ltd"""'),
    imt_row("S05", name='"Bud" Smith'),  # bad quoting
    "   ",
    imt_row("S06", amount="fifty"),
]


def _import(biller, content: bytes, *, exact: bool):
    received = invoice_file_receive(biller=biller, chunks=[content], enqueue=False)
    result = invoice_file_process(file_id=received.invoice_file.pk, exact=exact)
    bif = (files_dir() / result.bif_path).read_bytes() if result.bif_path else b""
    outcome = {
        "file": (
            result.status,
            result.error_code,
            result.rows,
            result.accepted,
            result.rejected,
            result.warnings,
            result.invoice_count,
            result.total_amount,
        ),
        "errors": [(e.line, e.field, e.message) for e in result.errors.all()],
        "invoices": sorted(
            Invoice.objects.filter(biller=biller).values_list(
                "invoice_number",
                "customer__account_number",
                "record_type",
                "invoice_date",
                "due_date",
                "total_amount_due",
                "balance_due",
                "past_due",
                "balance_forward",
                "biller_bill_year",
                "biller_invoice_number",
                "invoice_type__type_id",
                "refreshed_via",
            )
        ),  # fmt: skip
        "customers": sorted(
            Customer.objects.filter(biller=biller).values_list(
                "account_number",
                "name",
                "address1",
                "address2",
                "city",
                "state",
                "zip",
                "phone",
                "email_address",
                "registration_value",
            )
        ),  # fmt: skip
        "bif": bif,
    }
    # Undo, so that the other way starts from the same database.
    Invoice.objects.filter(biller=biller).delete()
    Customer.objects.filter(biller=biller).delete()
    InvoiceFile.objects.filter(pk=result.pk).delete()
    return outcome


@pytest.mark.parametrize(
    "rows",
    [GOOD + BAD, BAD, SHAPES],
    ids=["good-and-bad-values", "only-bad-values", "bad-shapes"],
)
def test_the_sql_conversion_agrees_with_the_mapping_engine(imt_biller, rows):
    content = imt_file(*rows, newline="\r\n")

    engine = _import(imt_biller, content, exact=True)
    fast = _import(imt_biller, content, exact=False)

    assert fast["file"] == engine["file"]
    assert fast["errors"] == engine["errors"]
    assert fast["invoices"] == engine["invoices"]
    assert fast["customers"] == engine["customers"]
    assert fast["bif"] == engine["bif"]


def test_the_agreement_above_is_not_empty(imt_biller):
    content = imt_file(*GOOD, *BAD, newline="\r\n")
    outcome = _import(imt_biller, content, exact=False)

    status, _, rows, accepted, rejected, *_ = outcome["file"]
    assert (status, rows, accepted, rejected) == ("done", len(GOOD) + len(BAD), len(GOOD), len(BAD))
    lines_in_error = {line for line, _, _ in outcome["errors"]}
    assert lines_in_error == set(range(len(GOOD) + 2, len(GOOD) + len(BAD) + 2))
    by_number = {row[0]: row for row in outcome["invoices"]}
    assert str(by_number["G02"][5]) == "1234.50" and str(by_number["G12"][5]) == "1000000.50"
    assert str(by_number["G01"][5]) == "60.00"  # the later row
    assert b"|Smith Sons|" in outcome["bif"] and b"|1 Main St|" in outcome["bif"]
    assert b"|Apt 4|" in outcome["bif"]


def _conversion(biller):
    mapper = biller_mapper(biller=biller, settings=biller_setting_values(biller=biller))
    columns, _ = _columns(HEADER.split("|"), mapper)
    type_ids = set(InvoiceType.objects.filter(biller=biller).values_list("type_id", flat=True))
    return conversion_sql(
        mapper=mapper,
        positions=dict(columns),
        width=15,
        type_ids=type_ids,
        vendor=connection.vendor,
        raw=RAW,
        stage=TABLE,
    )


def test_the_imt_mapping_converts_in_sql(imt_biller):
    """The fast path is taken for IMT's mapping (else every row goes to the engine)."""
    conversion = _conversion(imt_biller)

    assert conversion is not None
    assert {"i_invoice_number", "i_total_amount_due", "c_account_number"} <= set(conversion.columns)


def _remap(biller, file_spec_id, **changes):
    biller.field_mappings.filter(file_spec_id=file_spec_id).update(**changes)


@pytest.mark.parametrize(
    "changes",
    [
        # customer_name: letters only (a pattern the SQL leaves to the engine)
        [(60, {"partner_format": "Alpha"})],
        # customer_id: digits only, at most 4 of them; customer_name at most 12
        [(59, {"partner_format": "Numeric", "char_limit": 4}), (60, {"char_limit": 12})],
        # BalanceDue from past_due_amount (empty: the total), Custom1 from a setting
        [
            (93, {"rule": "partner_field", "partner_field": "past_due_amount"}),
            (38, {"rule": "setting", "rule_value": "8"}),
        ],
        # BillerBillYear from the due date; RecordType a constant the BIF makes safe
        [
            (346, {"rule_value": "InvoiceDueDate"}),
            (8, {"rule": "constant", "rule_value": "\x7f"}),
        ],
    ],
    ids=["alpha", "numeric-and-limits", "balance-and-setting", "year-and-constant"],
)
def test_the_sql_conversion_agrees_with_the_engine_on_other_mappings(imt_biller, changes, request):
    for file_spec_id, change in changes:
        _remap(imt_biller, file_spec_id, **change)
    # Only the Alpha pattern is left to the engine entirely.
    assert (_conversion(imt_biller) is None) == ("alpha" in request.node.name)
    rows = [
        *GOOD,
        *BAD,
        imt_row("M01", customer="12345"),
        imt_row("M02", customer="0x12"),
        imt_row("M03", name="Jane Q. O'Roe-Smith"),
        imt_row("M04", name="R2D2"),
        imt_row("M05", past_due="3.00"),
    ]
    content = imt_file(*rows, newline="\r\n")

    engine = _import(imt_biller, content, exact=True)
    fast = _import(imt_biller, content, exact=False)

    assert fast == engine
    assert engine["file"][0] == "done"
