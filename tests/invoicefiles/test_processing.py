import datetime
from decimal import Decimal

from billers.models import Customer, Invoice, RefreshSource
from tests.support.invoicefiles import HEADER, imt_file, imt_row


def errors_of(invoice_file):
    return [(e.line, e.field, e.message) for e in invoice_file.errors.all()]


def test_a_good_file_becomes_customers_and_invoices_with_the_rules_applied(upload, imt_biller):
    second = imt_row("INV002", customer="0407", name="John Doe", amount="1,234.5")
    f = upload(imt_file(imt_row("INV001", amount="50.00", past_due="12.50"), second))

    assert (f.status, f.rows, f.accepted, f.rejected) == ("done", 2, 2, 0)
    assert f.encoding == "utf-8"
    invoice = Invoice.objects.get(biller=imt_biller, invoice_number="INV001")
    assert invoice.customer.account_number == "0406"
    assert invoice.customer.name == "Jane Roe" and invoice.customer.zip == "85345"
    assert invoice.invoice_date == datetime.date(2026, 10, 1)
    assert invoice.due_date == datetime.date(2026, 10, 21)
    assert invoice.total_amount_due == Decimal("50.00")
    assert invoice.balance_due == Decimal("50.00")  # BalanceDue matches TotalAmountDue
    assert invoice.past_due == Decimal("12.50")
    assert invoice.record_type == "N"
    assert invoice.balance_forward is True
    assert invoice.biller_bill_year == 2026
    assert invoice.invoice_type.type_id == 164
    assert invoice.biller_invoice_number == "INV001"
    assert invoice.refreshed_via == RefreshSource.FILE
    assert Invoice.objects.get(invoice_number="INV002").total_amount_due == Decimal("1234.50")


def test_columns_in_any_order_and_case(upload, imt_biller):
    names = HEADER.split("|")
    order = list(reversed(range(len(names))))
    header = "|".join(names[i].upper() for i in order)
    row = imt_row("INV009").split("|")
    f = upload(imt_file("|".join(row[i] for i in order), header=header))

    assert (f.status, f.accepted) == ("done", 1)
    assert Invoice.objects.get(invoice_number="INV009").customer.name == "Jane Roe"


def test_a_missing_required_column_rejects_the_file_naming_it(upload):
    header = HEADER.replace("amount_due|", "")
    row = imt_row().split("|")
    del row[3]
    f = upload(imt_file("|".join(row), header=header))

    assert f.status == "failed"
    assert f.error_code == "missing_column"
    assert "'amount_due'" in f.error_message
    assert not Invoice.objects.exists()


def test_a_missing_optional_column_is_fine(upload):
    header = HEADER.replace("|registration value", "")
    f = upload(imt_file(imt_row("INV001").rsplit("|", 1)[0], header=header))

    assert (f.status, f.accepted) == ("done", 1)


def test_bad_rows_are_reported_by_line_and_field_and_good_rows_applied(upload):
    f = upload(imt_file(
        imt_row("INV001"),
        imt_row("INV002", amount="fifty"),
        imt_row("INV003", date="2026-13-45"),
        imt_row("INV004", customer=""),
        imt_row("INV005"),
    ))  # fmt: skip

    assert (f.status, f.rows, f.accepted, f.rejected) == ("done", 5, 2, 3)
    errors = errors_of(f)
    assert [(line, field) for line, field, _ in errors] == [
        (3, "amount_due"), (4, "invoice_date"), (5, "customer_id"),
    ]  # fmt: skip
    assert "'fifty' is not an amount" in errors[0][2]
    assert "required" in errors[2][2]
    assert set(Invoice.objects.values_list("invoice_number", flat=True)) == {"INV001", "INV005"}


def test_a_file_whose_every_row_is_bad_changes_nothing(upload, imt_biller):
    Customer.objects.create(biller=imt_biller, account_number="0406", name="Before")
    f = upload(imt_file(imt_row("INV001", amount="x"), imt_row("INV002", due="never")))

    assert f.status == "failed"
    assert f.error_code == "no_valid_rows"
    assert (f.rows, f.accepted, f.rejected) == (2, 0, 2)
    assert len(errors_of(f)) == 2
    assert not Invoice.objects.exists()
    assert Customer.objects.get(account_number="0406").name == "Before"
    assert not f.bif_path


def test_invoices_are_updated_and_customers_upserted_by_account_number(upload, imt_biller):
    upload(imt_file(imt_row("INV001", amount="50.00", name="Jane Roe")))
    f = upload(imt_file(imt_row("INV001", amount="20.00", name="Jane Q Roe"),
                        imt_row("INV002", amount="30.00", name="Jane Q Roe")))  # fmt: skip

    assert f.status == "done"
    assert Invoice.objects.count() == 2
    assert Customer.objects.filter(biller=imt_biller).count() == 1
    assert Invoice.objects.get(invoice_number="INV001").total_amount_due == Decimal("20.00")
    assert Customer.objects.get(account_number="0406").name == "Jane Q Roe"


def test_the_later_row_of_a_repeated_invoice_number_wins(upload):
    f = upload(imt_file(imt_row("INV001", amount="1.00"), imt_row("INV001", amount="2.00")))

    assert (f.status, f.accepted, f.invoice_count) == ("done", 2, 1)
    assert Invoice.objects.get(invoice_number="INV001").total_amount_due == Decimal("2.00")
    assert "later row" in f.warnings[0]


def test_rows_with_too_many_or_too_few_columns_are_rejected(upload):
    f = upload(imt_file(imt_row("INV001") + "|extra", imt_row("INV002").rsplit("|", 2)[0],
                        imt_row("INV003")))  # fmt: skip

    assert (f.status, f.accepted, f.rejected) == ("done", 1, 2)
    assert [m for _, _, m in errors_of(f)] == [
        "the row has 16 columns; the header has 15",
        "the row has 13 columns; the header has 15",
    ]
