"""What the payment API takes: the biller's own payment codes (settings 64 and 65),
and strict money input (amounts, instants, GUIDs), each bad value a 400 naming
its field with nothing written."""

import pytest
from django.urls import reverse

from billers.services.settings import biller_setting_set
from icintegrations.errors import ApplicationError
from payments.models import Delivery, Payment, PaymentMethod, PaymentStatus, Reversal
from tests.billers.factories import PortalUserFactory
from tests.payments.test_delivery import ledger_payments
from tests.support.payments import hub_invoice, pay, payment_body, payment_of, pump

pytestmark = pytest.mark.django_db

CARD_CODES = "Web CC|IVR CC|AutopayCC"
BANK_CODES = "Web Eck|IVR Eck|AutopayEck"


@pytest.fixture
def invoice(peoria, citizenserve_sandbox):
    return hub_invoice(peoria, citizenserve_sandbox, "PBL26-810001", balance="100.00")


def error(response):
    return response.status_code, response.json()["code"]


def nothing_written():
    return not Payment.objects.exists() and not Delivery.objects.exists()


# --- item 5: the biller's payment codes ------------------------------------------------


def test_a_code_the_biller_adds_to_setting_64_is_taken_and_posted_as_a_card_payment(
    api, peoria, citizenserve_sandbox, invoice
):
    biller_setting_set(biller=peoria, setting_id=64, value=f"{CARD_CODES}|Kiosk CC")

    response = pay(api, invoice, amount="30.00", payment_source="Kiosk CC")

    assert response.status_code == 202
    assert response.json()["method"] == "card"
    pump()
    payment = payment_of(response)
    assert (payment.status, payment.payment_source) == (PaymentStatus.POSTED, "Kiosk CC")
    (applied,) = ledger_payments(citizenserve_sandbox, payment)
    assert applied["body"]["paymentType"] == "Credit"


def test_a_code_the_biller_adds_to_setting_65_is_a_bank_payment_that_can_be_returned(
    api, peoria, invoice
):
    biller_setting_set(biller=peoria, setting_id=65, value=f"{BANK_CODES}|Kiosk Eck")
    guid = pay(api, invoice, amount="30.00", payment_source="Kiosk Eck").json()["payment_guid"]
    pump()

    response = api.post(
        f"/api/v1/billers/2249/payments/{guid}/ach-return", {"return_code": "R01"}, format="json"
    )

    assert response.status_code == 202
    assert Payment.objects.get().method == PaymentMethod.BANK
    assert Reversal.objects.get().return_code == "R01"


def test_a_code_in_neither_setting_is_a_422_naming_the_accepted_codes(api, peoria, invoice):
    biller_setting_set(biller=peoria, setting_id=64, value="Web CC|Kiosk CC")
    biller_setting_set(biller=peoria, setting_id=65, value="Web Eck")

    response = pay(api, invoice, payment_source="Cash")

    assert error(response) == (422, "payment_source_not_accepted")
    body = response.json()
    assert body["extra"] == {"accepted_sources": ["Web CC", "Kiosk CC", "Web Eck"]}
    assert "Web CC, Kiosk CC, Web Eck" in body["message"]
    assert nothing_written()


def test_a_code_removed_from_the_settings_is_no_longer_taken(api, peoria, invoice):
    biller_setting_set(biller=peoria, setting_id=64, value="Web CC")
    assert error(pay(api, invoice, payment_source="IVR CC")) == (
        422, "payment_source_not_accepted"
    )  # fmt: skip
    assert nothing_written()


def test_the_portal_and_the_void_show_a_code_outside_the_documents(api, client, peoria, invoice):
    biller_setting_set(biller=peoria, setting_id=64, value=f"{CARD_CODES}|Kiosk CC")
    guid = pay(api, invoice, amount="30.00", payment_source="Kiosk CC").json()["payment_guid"]
    pump()
    voided = api.post(f"/api/v1/billers/2249/payments/{guid}/void", {}, format="json")
    assert voided.status_code == 202
    client.force_login(PortalUserFactory(username="peoria-clerk", billers=[peoria]))

    history = client.get(reverse("portal:payments", kwargs={"bid": 2249}), {"source": "Kiosk CC"})
    detail = client.get(reverse("portal:payment", kwargs={"bid": 2249, "payment_guid": guid}))
    to_apply = client.get(reverse("portal:to_apply", kwargs={"bid": 2249}))

    assert history.status_code == detail.status_code == to_apply.status_code == 200
    assert "Kiosk CC" in history.content.decode()
    assert "Kiosk CC" in detail.content.decode()
    assert "Card (Kiosk CC)" in to_apply.content.decode()


def test_the_schema_documents_the_source_as_a_string_not_an_enum(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    fields = schema["components"]["schemas"]["PaymentIn"]["properties"]

    source = fields["payment_source"]
    assert source["type"] == "string" and "enum" not in source
    assert source["example"] == "Web CC" and "AutopayEck" in source["description"]
    assert fields["amount"]["pattern"] == r"^-?[0-9]{1,10}(\.[0-9]{1,2})?$"
    assert fields["service_fee"]["pattern"] == r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
    assert fields["paid_at"]["format"] == "date-time" and fields["paid_at"]["pattern"]
    assert fields["payment_guid"]["format"] == "uuid" and fields["payment_guid"]["pattern"]


def test_a_setting_code_longer_than_a_payment_can_hold_is_refused(peoria):
    with pytest.raises(ApplicationError) as raised:
        biller_setting_set(biller=peoria, setting_id=64, value="Web CC|" + "K" * 33)
    assert raised.value.code == "invalid_list"


# --- item 6: strict input, each a 400 naming the field, nothing written ------------------

BAD = [
    # amounts: ASCII digits, one optional point, at most 2 decimals and 10 integer digits
    ("amount", "١.٠٠"),  # Arabic-Indic digits
    ("amount", "１.００"),  # full-width digits
    ("amount", " 1.00"),
    ("amount", "1.00 "),
    ("amount", "+1"),
    ("amount", "1e3"),
    ("amount", "1E3"),
    ("amount", "0.001"),
    ("amount", "25.555"),
    ("amount", "12345678901.00"),  # 11 integer digits
    ("amount", "1,000.00"),
    ("amount", "1."),
    ("amount", ".50"),
    ("amount", "NaN"),
    ("amount", "Infinity"),
    ("amount", ""),
    ("amount", 25.5),  # a JSON number: refused (documented: amounts are strings)
    ("amount", 25),
    ("amount", None),
    ("service_fee", "-1.00"),
    ("service_fee", "١"),
    ("service_fee", "1e2"),
    ("service_fee", 1.95),
    # paid_at: with its UTC offset, from 2000-01-01 on
    ("paid_at", "2026-12-04"),
    ("paid_at", "2026-12-04T10:00:00"),
    ("paid_at", "2026-12-04 10:00"),
    ("paid_at", "0001-01-01T00:00:00Z"),
    ("paid_at", "0001-01-01T00:00:00+01:00"),  # out of range once in UTC
    ("paid_at", "1999-12-31T23:59:59Z"),
    ("paid_at", "2000-01-01T00:30:00+01:00"),  # 1999-12-31T23:30Z
    ("paid_at", "2026-13-01T10:00:00Z"),
    ("paid_at", "２０２６-12-04T10:00:00Z"),
    ("paid_at", "yesterday"),
    ("paid_at", 1764842400),
    # payment_guid: the canonical text of a UUID, not the nil one
    ("payment_guid", "00000000-0000-0000-0000-000000000000"),
    ("payment_guid", 12345),
    ("payment_guid", 0),
    ("payment_guid", "c9e18d52e77049358da29f262c8ba587"),  # no hyphens
    ("payment_guid", "{c9e18d52-e770-4935-8da2-9f262c8ba587}"),
    ("payment_guid", "urn:uuid:c9e18d52-e770-4935-8da2-9f262c8ba587"),
    ("payment_guid", " c9e18d52-e770-4935-8da2-9f262c8ba587"),
    ("payment_guid", "not-a-guid"),
    # a payment source is text
    ("payment_source", ""),
    ("payment_source", 64),
    ("payment_source", "Web\x00CC"),
]


@pytest.mark.parametrize("field,value", BAD, ids=[f"{f}={v!r}" for f, v in BAD])
def test_a_bad_value_is_a_400_naming_its_field_and_nothing_is_written(api, invoice, field, value):
    response = pay(api, invoice, **{field: value})

    assert error(response) == (400, "invalid_request")
    assert list(response.json()["extra"]) == [field]
    assert nothing_written()


GOOD = [
    ("amount", "25"),
    ("amount", "25.5"),
    ("amount", "0.01"),
    ("amount", "100.00"),
    ("paid_at", "2026-11-24T05:58:40Z"),
    ("paid_at", "2026-11-24T05:58:40.123456-07:00"),
    ("paid_at", "2026-11-24 05:58+00:00"),
    ("paid_at", "2000-01-01T00:00:00Z"),
    ("payment_guid", "C9E18D52-E770-4935-8DA2-9F262C8BA587"),
    ("payment_guid", "c9e18d52-e770-4935-8da2-9f262c8ba587"),
]


@pytest.mark.parametrize("field,value", GOOD, ids=[f"{f}={v!r}" for f, v in GOOD])
def test_a_well_formed_value_is_taken(api, invoice, field, value):
    assert pay(api, invoice, **{field: value}).status_code == 202


def test_a_guid_in_upper_case_is_the_same_payment_as_in_lower_case(api, invoice):
    body = payment_body(invoice, payment_guid="C9E18D52-E770-4935-8DA2-9F262C8BA587")
    first = api.post("/api/v1/billers/2249/payments", body, format="json")
    body["payment_guid"] = body["payment_guid"].lower()
    again = api.post("/api/v1/billers/2249/payments", body, format="json")

    assert (first.status_code, again.status_code) == (202, 202)
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["payment_guid"] == "c9e18d52-e770-4935-8da2-9f262c8ba587"
    assert Payment.objects.count() == 1


def test_paid_at_is_stored_as_the_instant_it_names(api, invoice):
    response = pay(api, invoice, paid_at="2026-11-23T22:58:40-07:00")
    assert payment_of(response).paid_at.isoformat() == "2026-11-24T05:58:40+00:00"
