"""The mapping review of a biller's page (onboarding.review), and what every Solutions
Engineering tool of the page (the review, test connection) must hold: no secret, CSRF,
who may see."""

import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billers.models import Customer, FieldMapping, Invoice, MappingRule
from billers.services.settings import biller_setting_set
from partners.models import PartnerCall
from partners.sandbox.citizenserve import SAMPLE_RECORD
from tests.support.invoicefiles import HEADER, imt_row
from tests.support.partners import CITIZENSERVE_KEY, IMT_INTEGRATOR_ID

pytestmark = pytest.mark.django_db

OTHER_SECRET = "paperless-password-never-shown-77"


def _review_url(biller):
    return reverse("admin:billers_biller_mapping_review", args=[biller.pk])


def _test_url(biller):
    return reverse("admin:billers_biller_test_connection", args=[biller.pk])


def _review(client, biller, *, sample="", invoice_number=""):
    response = client.post(
        _review_url(biller), {"sample": sample, "invoice_number": invoice_number}
    )
    assert response.status_code == 200
    return response, response.content.decode()


def _row(html: str, file_spec_id: int) -> str:
    match = re.search(rf'<tr id="mapping-{file_spec_id}"[^>]*>.*?</tr>', html, re.S)
    assert match, file_spec_id
    return match.group(0)


def _rows_marked(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="mapping-(\d+)" class="mapping-error">', html)]


def _bif_lines(response) -> list[str]:
    return list(response.context["review"].bif_lines)


# -- the pages and their links ------------------------------------------------------


def test_the_biller_page_links_to_its_tools(admin_client, presets):
    biller = presets["peoria"]
    html = admin_client.get(reverse("admin:billers_biller_change", args=[biller.pk])).content
    assert _review_url(biller).encode() in html
    assert _test_url(biller).encode() in html


def test_the_review_page_shows_the_mapping_grouped_by_record_type(admin_client, presets):
    response = admin_client.get(_review_url(presets["imt"]))
    html = response.content.decode()

    assert response.status_code == 200
    groups = response.context["review"].groups
    assert [g.record_type for g in groups] == ["FH", "IH", "CR", "ID"]
    for record_type in ("IH", "CR", "ID"):
        assert f'id="record-type-{record_type}"' in html
    row = _row(html, 407)  # as the design shows it: PastDue from past_due_amount, in file
    assert "PastDue" in row and "past_due_amount" in row and ">Y<" in row and ">FALSE<" in row
    assert "year of InvoiceDate" in _row(html, 346)
    assert "constant “164”" in _row(html, 252)
    assert "Result (" not in html and 'id="bif-rows"' not in html  # nothing reviewed yet


# -- a pasted sample ------------------------------------------------------------------


def test_a_pasted_citizenserve_answer_shows_the_bif_rows_it_makes(admin_client, presets):
    response, html = _review(admin_client, presets["peoria"], sample=json.dumps([SAMPLE_RECORD]))

    review = response.context["review"]
    assert review.problem == "" and review.errors == ()
    fh, ih, cr, id_ = _bif_lines(response)
    assert fh.startswith(f"FH|{presets['peoria'].biller_guid}|") and fh.endswith("|1|70.00")
    ih = ih.split("|")
    assert ih[:4] == ["IH", "N", "", "PBL19-010007"]
    assert ih[6:9] == ["70.00", "24", "10539 W ALICE Avenue"]  # Custom1 from setting 8
    assert cr == "CR|PBL19-010007|JOSE L SALAZAR|JOSE SALAZAR 10539 W ALICE Avenue|PEORIA|AZ|85345"
    assert id_ == "ID"
    for line in (cr, id_):
        assert line in html
    assert "ROCKY POINT SHRIMP" in html  # the record as received
    assert "<code>25.00</code>" in _row(html, 93)  # BalanceDue's BIF value on its row
    assert _rows_marked(html) == []


def test_a_bad_value_and_a_missing_field_mark_exactly_their_rows(admin_client, presets):
    sample = HEADER + "\n" + imt_row("INV9", due="next Tuesday", name="")

    response, html = _review(admin_client, presets["imt"], sample=sample)

    assert sorted(_rows_marked(html)) == [12, 60]
    assert "&#x27;next Tuesday&#x27; is not a date" in _row(html, 12)
    assert "required, and partner field &#x27;customer_name&#x27; is empty" in _row(html, 60)
    assert "is not a date" not in _row(html, 11)  # InvoiceDate is fine
    assert "the hub would not write this record" in html
    ih = _bif_lines(response)[1].split("|")
    assert ih[3:7] == ["INV9", "2026-10-01", "", "50.00"]  # the failing due date is empty


def test_a_pasted_record_with_a_non_date_due_date_marks_that_row(admin_client, presets):
    record = {**SAMPLE_RECORD, "totalamountdue": "seventy"}

    _, html = _review(admin_client, presets["peoria"], sample=json.dumps(record))

    assert _rows_marked(html) == [13]
    assert "&#x27;seventy&#x27; is not an amount" in _row(html, 13)


@pytest.mark.parametrize(
    "sample, message",
    [
        ('{"licensenumber": "PBL19-010007",', "The sample is not valid JSON"),
        ("[]", "A JSON array must hold exactly one record; this one holds 0."),
        ('"PBL19-010007"', "The JSON sample must be one record: an object {...}."),
        ("42", "The JSON sample must be one record"),
        ("licensenumber|totalamountdue", "the header line and one data line; this one has 1"),
        (HEADER, "this one has 1 line."),
        (HEADER + "\nINV1|2026-10-01", "The data line has 2 columns; the header has 15."),
        (
            HEADER + "\n" + imt_row("A") + "\n" + imt_row("B"),
            "header line and one data line; this one has 3 lines",
        ),
    ],
)
def test_bad_input_is_a_clear_message_not_an_error(admin_client, presets, sample, message):
    response, html = _review(admin_client, presets["imt"], sample=sample)

    assert response.context["review"].problem
    assert message.replace("'", "&#x27;") in html
    assert 'id="bif-rows"' not in html


@pytest.mark.parametrize(
    "data", [{"sample": "", "invoice_number": ""}, {"sample": "{}", "invoice_number": "X1"}]
)
def test_the_form_wants_a_sample_or_an_invoice_number(admin_client, presets, data):
    response = admin_client.post(_review_url(presets["imt"]), data)

    assert response.status_code == 200
    assert "Give a sample record or an invoice number" in response.content.decode()
    assert not response.context["review"].ran


# -- a live lookup ---------------------------------------------------------------------


def test_a_live_review_maps_the_invoice_the_sandbox_has(admin_client, peoria, citizenserve_sandbox):
    response, html = _review(admin_client, peoria, invoice_number="PBL19-010026")

    review = response.context["review"]
    assert review.problem == "" and review.outcome == "success"
    assert review.exchange["url"].startswith(citizenserve_sandbox.url)
    assert review.exchange["status_code"] == 200
    assert _bif_lines(response)[2].startswith("CR|PBL19-010026|JOHN SMITH|")
    assert "SMITH LANDSCAPING" in html  # the record as received
    assert "Result (live lookup)" in html


def test_a_live_review_of_a_missing_invoice_says_so(admin_client, imt, imt_sandbox):
    response, html = _review(admin_client, imt, invoice_number="NO-SUCH-1")

    assert "The partner has no invoice &#x27;NO-SUCH-1&#x27;." in html
    assert response.context["review"].outcome == "rejected"
    assert "404" in html  # the partner's answer, shown
    assert 'id="bif-rows"' not in html


def test_a_live_review_with_the_partner_down_says_so(admin_client, peoria, citizenserve_sandbox):
    citizenserve_sandbox.stop()

    response, html = _review(admin_client, peoria, invoice_number="PBL19-010007")

    assert "The partner cannot be reached; nothing was sent" in html
    assert response.context["review"].outcome == "not_sent"


def test_a_live_review_of_imt_says_how_a_balance_is_refreshed(admin_client, imt, imt_sandbox):
    _, html = _review(admin_client, imt, invoice_number="040620220901")

    # IMT's invoice detail is not its invoice file: the mapping's file columns are missing.
    assert "required, and partner field &#x27;customer_id&#x27; is empty" in _row(html, 59)
    assert "IMT&#x27;s own rule, not the mapping: balance due 50.00, past due 50.00" in html


def test_a_review_writes_no_invoice_customer_or_call_record(admin_client, peoria, presets):
    sample = HEADER + "\n" + imt_row("INV-NEW")

    with CaptureQueriesContext(connection) as queries:
        _review(admin_client, peoria, invoice_number="PBL19-010007")
        _review(admin_client, peoria, invoice_number="NO-SUCH-2")
        _review(admin_client, presets["imt"], sample=sample)
        _review(admin_client, peoria, sample=json.dumps(SAMPLE_RECORD))

    writes = [
        q["sql"]
        for q in queries.captured_queries
        if re.match(r"\s*(INSERT|UPDATE|DELETE)", q["sql"], re.I)
        and re.search(r"billers_(invoice|customer)|partners_partnercall", q["sql"])
    ]
    assert writes == []
    assert not Invoice.objects.exists() and not Customer.objects.exists()
    assert not PartnerCall.objects.exists()


# -- secrets, CSRF, who may see -----------------------------------------------------


def test_no_secret_on_any_tool_page_even_when_the_partner_echoes_it(
    admin_client, peoria, imt, imt_sandbox, citizenserve_sandbox
):
    # Given: partners that echo the billers' secrets in their records, and a second secret.
    biller_setting_set(biller=imt, setting_id=113, value=OTHER_SECRET)
    imt_sandbox.ledger.add_invoice(
        {
            "invoice_number": "ECHO1",
            "customer": IMT_INTEGRATOR_ID,
            "amount_due": "10.00",
            "past_due": OTHER_SECRET,
            "invoice_month": "2026-01-01",
            "due_date": IMT_INTEGRATOR_ID,
        }
    )
    citizenserve_sandbox.ledger.add_invoice(
        {**SAMPLE_RECORD, "licensenumber": "ECHO2", "customername": CITIZENSERVE_KEY,
         "description": f"key={CITIZENSERVE_KEY}"}
    )  # fmt: skip
    echoed_file_row = HEADER + "\n" + imt_row("ECHO3", name=IMT_INTEGRATOR_ID, due=OTHER_SECRET)
    # and a mapping row that reads a secret setting into the BIF (Custom3 from setting 13)
    FieldMapping.objects.filter(biller=peoria, file_spec_id=40).update(
        rule=MappingRule.SETTING, rule_value="13"
    )

    # When: every tool page is rendered, with the echoing records.
    pages = {
        "imt review": admin_client.get(_review_url(imt)),
        "imt live": admin_client.post(_review_url(imt), {"invoice_number": "ECHO1"}),
        "imt sample": admin_client.post(_review_url(imt), {"sample": echoed_file_row}),
        "imt sample json": admin_client.post(
            _review_url(imt), {"sample": json.dumps({"invoice_number": IMT_INTEGRATOR_ID})}
        ),
        "imt bad sample": admin_client.post(
            _review_url(imt), {"sample": IMT_INTEGRATOR_ID, "invoice_number": OTHER_SECRET}
        ),
        "imt test": admin_client.post(_test_url(imt), {"invoice_number": "ECHO1"}),
        "imt test page": admin_client.get(_test_url(imt)),
        "peoria live": admin_client.post(_review_url(peoria), {"invoice_number": "ECHO2"}),
        "peoria test": admin_client.post(_test_url(peoria), {"invoice_number": "ECHO2"}),
        "operations": admin_client.get("/admin/operations/"),
    }

    # Then: the pages show the records, with no secret in them.
    assert "ECHO1" in pages["imt live"].content.decode()
    assert "key=***" in pages["peoria live"].content.decode()
    assert "key=***" in pages["peoria test"].content.decode()
    custom3 = _row(pages["peoria live"].content.decode(), 40)
    assert "setting 13" in custom3 and "<code>***</code>" in custom3
    for name, response in pages.items():
        assert response.status_code == 200, name
        html = response.content.decode()
        for secret in (IMT_INTEGRATOR_ID, OTHER_SECRET, CITIZENSERVE_KEY):
            assert secret not in html, (name, secret)


def test_every_tool_form_needs_the_csrf_token(admin_user, presets):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    biller = presets["imt"]

    for url, data in (
        (_review_url(biller), {"sample": HEADER + "\n" + imt_row()}),
        (_test_url(biller), {"invoice_number": ""}),
    ):
        assert client.get(url).status_code == 200
        assert client.post(url, data).status_code == 403, url


def test_someone_not_staff_is_sent_to_the_login_page(client, django_user_model, presets):
    client.force_login(django_user_model.objects.create_user("payer", password="pw"))

    for url in (_review_url(presets["imt"]), _test_url(presets["imt"])):
        for response in (client.get(url), client.post(url, {"invoice_number": "X"})):
            assert response.status_code == 302
            assert reverse("admin:login") in response["Location"]


def test_staff_who_may_not_change_the_biller_cannot_use_the_tools(client, django_user_model,
                                                                  presets):  # fmt: skip
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_biller"))
    client.force_login(user)

    for url in (_review_url(presets["imt"]), _test_url(presets["imt"])):
        assert client.get(url).status_code == 403
        assert client.post(url, {"invoice_number": "X"}).status_code == 403
