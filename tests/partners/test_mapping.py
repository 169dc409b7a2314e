import datetime
from decimal import Decimal

import pytest

from billers.models import FieldMapping
from partners.mapping import Mapper
from tests.partners.fixtures import CITIZENSERVE_GETQUERY_SAMPLE

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 24)

# The getQuery sample of the CitizenServe document.
CITIZENSERVE_SAMPLE = CITIZENSERVE_GETQUERY_SAMPLE[0]

IMT_ROW = {
    "invoice_number": "040620220901",
    "invoice_date": "2022-09-01",
    "due_date": "2022-10-21",
    "amount_due": "50.00",
    "past_due_amount": "50.00",
    "customer_id": "0406",
    "customer_name": "Pat Payer",
    "address": "1 Main St",
    "address2": "",
    "city": "Springfield",
    "state": "IL",
    "ZIP": "62701",
    "phone": "555-0100",
    "email": "pat@example.test",
    "registration value": "",
}


def _mapper(biller, settings=None, **kwargs):
    from billers.selectors import biller_setting_values

    return Mapper(
        FieldMapping.objects.filter(biller=biller),
        settings=settings if settings is not None else biller_setting_values(biller=biller),
        today=TODAY,
        **kwargs,
    )


def test_peoria_mapping_turns_the_getquery_sample_into_an_invoice(presets):
    mapped = _mapper(presets["peoria"]).apply(CITIZENSERVE_SAMPLE)
    assert mapped.errors == []
    assert mapped.invoice == {
        "invoice_number": "PBL19-010007",
        "invoice_date": TODAY,
        "due_date": TODAY,
        "total_amount_due": Decimal("70.00"),
        "record_type": "N",
        "custom1": "24",  # installationID of setting 8
        "custom2": "10539 W ALICE Avenue",
        "balance_due": Decimal("25.00"),
    }
    assert mapped.customer == {
        "account_number": "PBL19-010007",
        "name": "JOSE L SALAZAR",
        "address1": "JOSE SALAZAR 10539 W ALICE Avenue",
        "city": "PEORIA",
        "state": "AZ",
        "zip": "85345",
    }


def test_imt_mapping_applies_its_rules(presets):
    mapped = _mapper(presets["imt"]).apply(IMT_ROW)
    assert mapped.errors == []
    invoice = mapped.invoice
    assert invoice["invoice_number"] == "040620220901"
    assert invoice["biller_invoice_number"] == "040620220901"
    assert invoice["invoice_date"] == datetime.date(2022, 9, 1)
    assert invoice["biller_bill_year"] == 2022  # year of the invoice date
    assert invoice["balance_forward"] is True
    assert invoice["invoice_type_id"] == 164
    assert invoice["past_due"] == Decimal("50.00")
    assert invoice["balance_due"] == invoice["total_amount_due"] == Decimal("50.00")
    assert mapped.customer["account_number"] == "0406"
    assert mapped.customer["zip"] == "62701"


@pytest.mark.parametrize(
    ("change", "file_spec_id", "says"),
    [
        ({"amount_due": "fifty"}, 13, "'fifty' is not an amount"),
        ({"amount_due": ""}, 13, "required, and partner field 'amount_due' is empty"),
        ({"invoice_date": "31/31/2022"}, 11, "is not a date"),
        ({"customer_id": None}, 59, "required"),
        ({"customer_name": "x" * 201}, 60, "longer than 200 characters"),
    ],
)
def test_a_bad_value_is_named_by_file_spec_id_field_and_problem(
    presets, change, file_spec_id, says
):
    mapped = _mapper(presets["imt"]).apply({**IMT_ROW, **change})
    assert len(mapped.errors) == 1
    error = mapped.errors[0]
    assert error.file_spec_id == file_spec_id
    assert says in error.message
    assert str(error).startswith(f"FileSpecID {file_spec_id} ")


def test_partner_formats_are_checked(presets):
    mapped = _mapper(presets["peoria"]).apply(
        {**CITIZENSERVE_SAMPLE, "customerzip": "85A45", "customercity": "PEORIA 2"}
    )
    problems = {error.file_spec_id: error.message for error in mapped.errors}
    assert problems.keys() == {63, 65}
    assert "is not Numeric" in problems[65] and "is not Alpha" in problems[63]


def test_a_character_limit_is_enforced(presets):
    FieldMapping.objects.filter(biller=presets["imt"], file_spec_id=64).update(char_limit=2)
    mapped = _mapper(presets["imt"]).apply({**IMT_ROW, "state": "Illinois"})
    assert [(e.file_spec_id, e.message) for e in mapped.errors] == [
        (64, "'Illinois' is longer than 2 characters")
    ]


def test_the_accela_prefix_of_setting_30_is_applied_where_set(presets):
    mapped = _mapper(presets["imt"], settings={30: "ACCELA-"}).apply(IMT_ROW)
    assert mapped.invoice["invoice_number"] == "ACCELA-040620220901"
    unprefixed = _mapper(presets["imt"], settings={}).apply(IMT_ROW)
    assert unprefixed.invoice["invoice_number"] == "040620220901"


def test_currency_accepts_the_partners_number_shapes():
    from partners.mapping import to_money

    assert to_money(70) == Decimal("70.00")
    assert to_money("1,234.5") == Decimal("1234.50")
    assert to_money("$10") == Decimal("10.00")
    assert to_money(25.5) == Decimal("25.50")
    with pytest.raises(ValueError):
        to_money("NaN")


def test_the_billers_mapper_maps_today_as_the_billers_day(presets, monkeypatch):
    from partners.selectors import biller_mapper
    from tests.support.clock import clock_at

    # 05:58Z on November 24th is 22:58 on the 23rd in Peoria (America/Phoenix)
    clock_at(monkeypatch, datetime.datetime(2026, 11, 24, 5, 58, tzinfo=datetime.UTC))
    peoria = presets["peoria"]
    mapped = biller_mapper(biller=peoria, settings={}).apply(CITIZENSERVE_SAMPLE)

    # Peoria's InvoiceDate and InvoiceDueDate are "today"
    assert mapped.invoice["invoice_date"] == datetime.date(2026, 11, 23)
    assert mapped.invoice["due_date"] == datetime.date(2026, 11, 23)


@pytest.mark.parametrize(
    ("invoice_date", "day"),
    [
        # a moment with an offset is the day it is in Chicago, and year_of its year
        ("2027-01-01T05:30:00Z", datetime.date(2026, 12, 31)),
        ("2026-12-31T23:30:00-06:00", datetime.date(2026, 12, 31)),
        ("2027-01-01T06:00:00+00:00", datetime.date(2027, 1, 1)),
        # a date, or a moment without an offset, is taken as it is
        ("2027-01-01", datetime.date(2027, 1, 1)),
        ("2027-01-01T00:30:00", datetime.date(2027, 1, 1)),
    ],
)
def test_a_date_and_time_with_an_offset_is_the_billers_day(presets, invoice_date, day):
    imt = presets["imt"]
    mapped = _mapper(imt, time_zone=imt.time_zone).apply({**IMT_ROW, "invoice_date": invoice_date})
    assert mapped.errors == []
    assert mapped.invoice["invoice_date"] == day
    assert mapped.invoice["biller_bill_year"] == day.year
