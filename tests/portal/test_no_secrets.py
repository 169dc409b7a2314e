"""No partner secret in any portal page, even where a partner's answer (or a
connector's slip) put one into what the hub recorded."""

import uuid

import pytest
from django.urls import get_resolver, reverse

from billers.services.settings import biller_setting_set
from invoicefiles.models import InvoiceFileError, InvoiceFileStatus
from payments.models import AttemptKind, AttemptOutcome, DeliveryKind, DeliveryStatus
from tests.payments.factories import DeliveryAttemptFactory, DeliveryFactory, ReversalFactory
from tests.portal.builders import at, posted_payment, reversal_to_apply
from tests.portal.test_files import stored_file

RTDR_KEY = "rtdr-key-SECRET-5f3a9c"
PAYMENTS_PASSWORD = "pump-pass-SECRET-77b1"
SECRETS = (RTDR_KEY, PAYMENTS_PASSWORD)


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    settings.ICI_INVOICE_FILE_DIR = tmp_path / "invoice-files"


@pytest.fixture
def leaky(catalogs, biller):
    """A biller with secrets, and records that would show them if shown raw."""
    biller_setting_set(biller=biller, setting_id=10, value=RTDR_KEY)
    biller_setting_set(biller=biller, setting_id=13, value=PAYMENTS_PASSWORD)
    raw = {
        "url": f"https://partner.example.test/api?key={RTDR_KEY}",
        "request_headers": {"Authorization": f"Bearer {PAYMENTS_PASSWORD}"},
        "request_body": f'{{"password": "{PAYMENTS_PASSWORD}"}}',
        "response_body": f"Unknown key {RTDR_KEY}",
    }
    payment = posted_payment(biller)
    delivery = payment.deliveries.get()
    delivery.last_error = f"Refused credential {PAYMENTS_PASSWORD}"
    delivery.save(update_fields=["last_error"])
    DeliveryAttemptFactory(
        delivery=delivery, kind=AttemptKind.READ_BACK, started_at=at(5),
        outcome=AttemptOutcome.REJECTED, status_code=401, exchange=raw,
        message=f"401: key {RTDR_KEY} refused", receipt_number=f"x{RTDR_KEY}",
    )  # fmt: skip
    reversal = ReversalFactory(payment=payment)
    reversal_delivery = DeliveryFactory(
        kind=DeliveryKind.REVERSAL, payment=payment, reversal=reversal,
        status=DeliveryStatus.DEAD, attempts=1, last_error=f"Dead: {PAYMENTS_PASSWORD}",
    )  # fmt: skip
    DeliveryAttemptFactory(
        delivery=reversal_delivery, exchange=raw, message=f"No answer to {PAYMENTS_PASSWORD}"
    )
    invoice_file = stored_file(
        biller, status=InvoiceFileStatus.FAILED, error_message=f"Bad {RTDR_KEY}",
        warnings=[f"Odd header {PAYMENTS_PASSWORD}"],
    )  # fmt: skip
    InvoiceFileError.objects.create(
        invoice_file=invoice_file, line=2, field="amount_due", message=f"{RTDR_KEY} is not money"
    )
    reversal_to_apply(biller)
    return {
        "bid": biller.bid,
        "payment_guid": payment.payment_guid,
        "reversal_id": reversal.pk,
        "file_id": invoice_file.pk,
    }


def portal_pages():
    """Every named page of the portal: (name, the URL's parameter names)."""
    patterns = get_resolver().namespace_dict["portal"][1].url_patterns
    return [(p.name, set(p.pattern.regex.groupindex)) for p in patterns]


def test_the_page_list_is_the_portals(db):
    names = {name for name, _ in portal_pages()}
    assert {"payment", "to_apply", "reversal_applied", "files", "file", "file_bif", "activity",
            "payments", "export", "home"} <= names  # fmt: skip


def test_no_partner_secret_is_in_any_page(portal, leaky, biller):
    bodies = {}
    for name, params in portal_pages():
        unknown = params - leaky.keys()
        assert not unknown, f"portal:{name} takes {unknown}: give it a value in `leaky`"
        url = reverse(f"portal:{name}", kwargs={k: leaky[k] for k in params})
        response = portal.get(url)
        assert response.status_code < 500, name
        bodies[name] = _body(response)
    # pages with their variants, and the tick-off's answer (the last: it writes)
    for variant in ("?days=7", "?days=90", "?days=nope"):
        bodies[f"activity{variant}"] = _body(
            portal.get(reverse("portal:activity", kwargs={"bid": biller.bid}) + variant)
        )
    file_url = reverse("portal:file", kwargs={"bid": biller.bid, "file_id": leaky["file_id"]})
    bodies["file?page=2"] = _body(portal.get(file_url + "?page=2"))
    tick = reverse(
        "portal:reversal_applied", kwargs={"bid": biller.bid, "reversal_id": leaky["reversal_id"]}
    )
    bodies["reversal_applied (POST)"] = _body(portal.post(tick, follow=True))

    assert len(bodies) >= 14
    # the pages do show what was around the secrets
    assert "401: key *** refused" in bodies["payment"]
    assert "Bad ***" in bodies["file"]
    for name, body in bodies.items():
        for secret in SECRETS:
            assert secret not in body, f"{secret} in portal:{name}"
            assert secret.lower() not in body.lower(), f"{secret} in portal:{name}"


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def test_the_page_of_another_billers_payment_shows_nothing_of_it(portal, leaky, other_biller):
    theirs = posted_payment(other_biller, receipt="THEIR-RECEIPT")
    url = reverse("portal:payment", kwargs={"bid": leaky["bid"], "payment_guid": uuid.uuid4()})
    assert portal.get(url).status_code == 404
    url = reverse(
        "portal:payment", kwargs={"bid": leaky["bid"], "payment_guid": theirs.payment_guid}
    )
    response = portal.get(url)
    assert response.status_code == 404
    assert "THEIR-RECEIPT" not in response.content.decode()
