"""Invoice files: an amount that is not exact cents, or a text value holding a
control character, refuses its row (listed with its field), never rounded or
read another way; the file's other rows are applied."""

import pytest

from billers.models import Invoice
from tests.support.invoicefiles import imt_file, imt_row

pytestmark = pytest.mark.django_db

REFUSED = [
    ({"amount": "0.001"}, "amount_due", "is not an amount"),
    ({"amount": "1e3"}, "amount_due", "is not an amount"),
    ({"amount": "1E3"}, "amount_due", "is not an amount"),
    ({"amount": "١.٠٠"}, "amount_due", "is not an amount"),
    ({"amount": "１.００"}, "amount_due", "is not an amount"),
    ({"amount": "+1"}, "amount_due", "is not an amount"),
    ({"amount": "12.345"}, "amount_due", "is not an amount"),
    ({"amount": "12345678901.00"}, "amount_due", "too large"),
    ({"past_due": "1,2"}, "past_due_amount", "is not an amount"),
    ({"name": "Smith\tSons"}, "customer_name", "control character"),
    ({"name": "Smith\x1b[31mSons"}, "customer_name", "control character"),
    ({"address": "1\x7fMain St"}, "address", "control character"),
    ({"city": "Peo\x85ria"}, "city", "control character"),
    ({"customer": "04\x0206"}, "customer_id", "control character"),
]


@pytest.mark.parametrize(
    "change,field,reason", REFUSED, ids=[repr(change) for change, _, _ in REFUSED]
)
def test_a_bad_value_refuses_its_row_naming_the_field(upload, change, field, reason):
    f = upload(imt_file(imt_row("GOOD01"), imt_row("BAD01", **change)))

    assert (f.status, f.accepted, f.rejected) == ("done", 1, 1)
    (error,) = f.errors.all()
    assert (error.line, error.field) == (3, field)
    assert reason in error.message
    assert list(Invoice.objects.values_list("invoice_number", flat=True)) == ["GOOD01"]


def test_a_file_of_bad_amounts_only_changes_nothing(upload):
    f = upload(imt_file(imt_row("BAD01", amount="0.001"), imt_row("BAD02", amount="1e3")))

    assert (f.status, f.error_code, f.rejected) == ("failed", "no_valid_rows", 2)
    assert not Invoice.objects.exists()


@pytest.mark.parametrize(
    "amount,stored",
    [("0.10", "0.10"), ("5", "5.00"), ("1,234.5", "1234.50"), ("$12", "12.00"),
     (" 7.25 ", "7.25"), ("-5.00", "-5.00"), ("9999999999.99", "9999999999.99")],
)  # fmt: skip
def test_an_exact_amount_in_the_files_usual_forms_is_taken(upload, amount, stored):
    f = upload(imt_file(imt_row("GOOD01", amount=amount)))

    assert (f.status, f.rejected) == ("done", 0)
    assert str(Invoice.objects.get().total_amount_due) == stored


def test_a_control_character_around_a_value_is_stripped_not_refused(upload):
    f = upload(imt_file(imt_row("GOOD01", name="\tJane Roe\x1f")))

    assert (f.status, f.rejected) == ("done", 0)
    assert Invoice.objects.get().customer.name == "Jane Roe"
