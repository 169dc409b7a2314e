"""The go-live checklist, promotion to production and activation: the service
rules and the biller page's panel and buttons."""

import json
from unittest import mock

import pytest
import responses
from django.urls import reverse

from billers.catalog import SettingId
from billers.models import Biller, BillerSetting, FieldMapping, GoLiveEvidence
from billers.services.api_clients import api_client_create
from billers.services.go_live_evidence import go_live_evidence_record
from billers.services.settings import biller_setting_set
from icintegrations.errors import ApplicationError, ErrorCode
from onboarding.go_live import biller_activate, biller_go_live_checklist, biller_promote
from onboarding.review import mapping_review
from partners.services.connection_test import connection_test_run
from tests.billers.factories import PortalUserFactory
from tests.billers.test_admin import _form_data

KINDS = (GoLiveEvidence.Kind.MAPPING_REVIEW, GoLiveEvidence.Kind.CONNECTION_TEST)


def _items(biller) -> dict[str, bool]:
    return {item.key: item.ok for item in biller_go_live_checklist(biller=biller).items}


def _ready(biller, user=None, *, evidence=True):
    """Everything the checklist asks, with the evidence recorded (not run)."""
    cs = biller.partner == "CitizenServe"
    setting = SettingId.PAYMENTS_PASSWORD if cs else SettingId.RTDR_KEY
    biller_setting_set(biller=biller, setting_id=setting, value="test-secret-0001")
    PortalUserFactory(billers=[biller])
    api_client_create(name=f"site-{biller.bid}", bids=[biller.bid])
    if evidence:
        for kind in KINDS:
            go_live_evidence_record(biller=biller, kind=kind, user=user)
    biller.is_active = False
    biller.save()
    return biller


def _stale_evidence(biller):
    """A setting changed after the evidence."""
    biller_setting_set(biller=biller, setting_id=SettingId.PAYMENTS_CC_CODES, value="Web CC")


# -- the checklist ------------------------------------------------------------------


def test_a_biller_from_its_preset_lacks_secrets_evidence_client_and_user(presets):
    items = _items(presets["peoria"])

    assert items == {
        "settings": False,
        "mapping": True,
        "mapping_review": False,
        "connection_test": False,
        "api_client": False,
        "portal_user": False,
    }
    missing = biller_go_live_checklist(biller=presets["peoria"]).missing
    assert "Partner settings: setting 13 not set" in missing


def test_a_ready_biller_has_a_complete_checklist(presets, admin_user):
    biller = _ready(presets["peoria"], admin_user)

    checklist = biller_go_live_checklist(biller=biller)

    assert checklist.complete, checklist.missing
    review = next(item for item in checklist.items if item.key == "mapping_review")
    assert f"by {admin_user.username}" in review.message


@pytest.mark.parametrize("setting_id", [SettingId.RTDR_URL, SettingId.PAYMENTS_URL])
def test_each_url_setting_the_connector_uses_must_be_set(presets, setting_id):
    biller = _ready(presets["peoria"])
    BillerSetting.objects.filter(biller=biller, setting_id=setting_id).delete()

    assert _items(biller)["settings"] is False
    assert f"setting {setting_id} not set" in " ".join(
        biller_go_live_checklist(biller=biller).missing
    )


def test_imt_integrator_id_is_met_by_either_setting(presets):
    biller = _ready(presets["imt"])  # 10 set, 13 not
    assert _items(biller)["settings"] is True


def test_an_incomplete_mapping_fails_its_item(presets):
    biller = _ready(presets["peoria"])
    row = FieldMapping.objects.get(biller=biller, file_spec_id=13)
    FieldMapping.objects.filter(pk=row.pk).delete()  # past the admin's refusal

    assert _items(biller)["mapping"] is False
    assert "13" in " ".join(biller_go_live_checklist(biller=biller).missing)


def test_evidence_is_invalidated_by_a_later_settings_change(presets):
    biller = _ready(presets["peoria"])
    _stale_evidence(biller)

    items = _items(biller)
    assert items["mapping_review"] is False and items["connection_test"] is False


def test_evidence_is_invalidated_by_a_later_mapping_change(presets):
    biller = _ready(presets["peoria"])
    row = FieldMapping.objects.get(biller=biller, file_spec_id=60)
    row.note = "edited"
    row.save()

    assert _items(biller)["mapping_review"] is False
    go_live_evidence_record(biller=biller, kind=GoLiveEvidence.Kind.MAPPING_REVIEW)
    assert _items(biller)["mapping_review"] is True


def test_an_inactive_client_or_user_does_not_count(presets):
    biller = _ready(presets["peoria"])
    biller.api_clients.update(is_active=False)
    for membership in biller.memberships.select_related("user"):
        membership.user.is_active = False
        membership.user.save()

    items = _items(biller)
    assert items["api_client"] is False and items["portal_user"] is False


# -- evidence recorded by the review and the connection test -----------------------


def test_a_live_review_and_a_connection_test_that_pass_record_evidence(peoria, admin_user):
    connection = connection_test_run(biller=peoria, user=admin_user)
    review = mapping_review(biller=peoria, invoice_number="PBL19-010026", user=admin_user)

    assert connection.passed and review.passed
    items = _items(peoria)
    assert items["mapping_review"] is True and items["connection_test"] is True
    assert set(GoLiveEvidence.objects.values_list("by", flat=True)) == {admin_user.pk}


def test_a_sample_review_or_a_failed_check_records_nothing(peoria, citizenserve_sandbox):
    mapping_review(biller=peoria, sample='{"licensenumber": "X"}')
    mapping_review(biller=peoria, invoice_number="NO-SUCH-1")
    biller_setting_set(biller=peoria, setting_id=SettingId.PAYMENTS_PASSWORD, value="wrong")
    BillerSetting.objects.filter(biller=peoria, setting_id=SettingId.RTDR_URL).update(
        value="http://127.0.0.1:9/Portal?Param_1="
    )
    result = connection_test_run(biller=peoria)

    assert not result.passed
    assert not GoLiveEvidence.objects.exists()


def test_imt_counts_a_passing_file_record_review_not_its_balance_answer(imt):
    from tests.support.invoicefiles import HEADER, imt_row

    assert not mapping_review(biller=imt, invoice_number="040620220901").passed  # file columns
    assert not GoLiveEvidence.objects.exists()

    assert mapping_review(biller=imt, sample=HEADER + "\n" + imt_row("INV9")).passed
    assert _items(imt)["mapping_review"] is True


def test_a_citizenserve_sample_review_is_no_evidence(presets):
    from tests.onboarding.test_review import SAMPLE_RECORD

    review = mapping_review(biller=presets["peoria"], sample=json.dumps([SAMPLE_RECORD]))

    assert review.passed and not GoLiveEvidence.objects.exists()


# -- promotion ----------------------------------------------------------------------


def test_promotion_is_refused_while_the_checklist_is_incomplete(presets):
    biller = _ready(presets["peoria"])
    _stale_evidence(biller)

    with pytest.raises(ApplicationError) as refused:
        biller_promote(biller=biller)

    assert refused.value.code == ErrorCode.GO_LIVE_INCOMPLETE
    assert refused.value.extra["missing"] == ["mapping_review", "connection_test"]
    assert "Mapping review with a live record" in refused.value.message
    biller.refresh_from_db()
    assert biller.environment == "test"


@responses.activate  # no URL registered: any partner call would fail the test
def test_promotion_rewrites_urls_clears_secrets_and_calls_no_partner(presets, admin_user):
    biller_setting_set(biller=presets["peoria"], setting_id=SettingId.RTDR_KEY, value="rtdr-key")
    biller = _ready(presets["peoria"])

    with mock.patch(
        "partners.connectors.http.PartnerHttpClient.request",
        side_effect=AssertionError("a partner was called"),
    ) as request:
        promoted = biller_promote(biller=biller, user=admin_user)

    assert request.call_count == 0 and len(responses.calls) == 0
    assert (promoted.environment, promoted.is_active) == ("prod", False)
    values = dict(BillerSetting.objects.filter(biller=biller).values_list("setting_id", "value"))
    assert values[8].startswith("https://www.citizenserve.com/Portal/PortalController?")
    assert "installationID=24" in values[8]
    assert values[11] == "https://www.citizenserve.com/citizenws/service/addlicensepayment"
    secrets = BillerSetting.objects.filter(biller=biller, setting__kind="secret")
    assert [s.secret for s in secrets] == [None, None]
    items = _items(promoted)
    assert items["settings"] is False  # the production secrets are asked for
    assert items["mapping_review"] is False and items["connection_test"] is False


def test_imt_promotion_goes_to_billing_imtapps(presets):
    biller = _ready(presets["imt"])

    biller_promote(biller=biller)

    url = BillerSetting.objects.get(biller=biller, setting_id=SettingId.RTDR_URL).value
    assert url == "https://billing.imtapps.com"


def test_promotion_is_audited_with_who_and_why(presets, admin_user):
    biller = _ready(presets["peoria"])

    biller_promote(biller=biller, user=admin_user)

    last = Biller.history.filter(id=biller.pk).order_by("-history_date").first()
    assert last.environment == "prod"
    assert last.history_user == admin_user
    assert "Promoted to production" in last.history_change_reason
    url_change = BillerSetting.history.filter(biller_id=biller.pk, setting_id=8).first()
    assert "Promoted to production" in url_change.history_change_reason


def test_promotion_refuses_a_url_at_neither_address_and_a_second_promotion(peoria):
    _ready(peoria)  # pointed at the sandbox on 127.0.0.1

    with pytest.raises(ApplicationError) as refused:
        biller_promote(biller=peoria)
    assert refused.value.code == ErrorCode.URL_NOT_AT_PARTNER_TEST
    assert refused.value.extra["settings"] == [8, 11]

    peoria.environment = "prod"
    peoria.save()
    with pytest.raises(ApplicationError) as again:
        biller_promote(biller=peoria)
    assert again.value.code == ErrorCode.ALREADY_IN_PRODUCTION


# -- activation ---------------------------------------------------------------------


def test_activation_is_refused_while_incomplete_and_allowed_when_complete(presets, admin_user):
    biller = _ready(presets["peoria"], evidence=False)

    with pytest.raises(ApplicationError) as refused:
        biller_activate(biller=biller)
    assert refused.value.code == ErrorCode.GO_LIVE_INCOMPLETE
    assert not Biller.objects.get(pk=biller.pk).is_active

    for kind in KINDS:
        go_live_evidence_record(biller=biller, kind=kind)
    assert biller_activate(biller=biller, user=admin_user).is_active
    last = Biller.history.filter(id=biller.pk).order_by("-history_date").first()
    assert last.history_user == admin_user and "Activated" in last.history_change_reason


# -- the biller page: the panel, its buttons, and the form's own rule ---------------


def _url(name, biller):
    return reverse(f"admin:billers_biller_{name}", args=[biller.pk])


def test_the_biller_page_shows_the_checklist_and_its_buttons(admin_client, presets):
    html = admin_client.get(_url("change", presets["peoria"])).content.decode()

    assert 'id="go-live"' in html and "Go-live checklist" in html
    assert "1 of 6 done" in html  # the mapping only
    assert "setting 13 not set" in html
    assert 'id="promote-to-production" disabled' in html


def test_the_promote_button_is_refused_while_incomplete(admin_client, presets):
    biller = presets["peoria"]

    response = admin_client.post(_url("promote", biller), follow=True)

    assert "go_live_incomplete" in response.content.decode()
    biller.refresh_from_db()
    assert biller.environment == "test"


def test_the_promote_button_promotes_a_ready_biller(admin_client, admin_user, presets):
    biller = _ready(presets["peoria"], admin_user)

    response = admin_client.post(_url("promote", biller), follow=True)

    assert "Promoted to production" in response.content.decode()
    biller.refresh_from_db()
    assert biller.environment == "prod"
    assert Biller.history.filter(id=biller.pk).first().history_user == admin_user


def test_the_buttons_only_post(admin_client, presets):
    assert admin_client.get(_url("promote", presets["peoria"])).status_code == 405
    assert admin_client.get(_url("activate", presets["peoria"])).status_code == 405


def test_the_activate_button_is_refused_then_allowed(admin_client, presets):
    biller = _ready(presets["peoria"], evidence=False)

    refused = admin_client.post(_url("activate", biller), follow=True).content.decode()
    assert "go_live_incomplete" in refused
    assert not Biller.objects.get(pk=biller.pk).is_active

    for kind in KINDS:
        go_live_evidence_record(biller=biller, kind=kind)
    admin_client.post(_url("activate", biller))
    assert Biller.objects.get(pk=biller.pk).is_active


def test_the_form_refuses_active_while_incomplete_with_the_reason(admin_client, presets):
    biller = _ready(presets["peoria"], evidence=False)
    data = _form_data(admin_client.get(_url("change", biller)))
    data["is_active"] = "on"

    response = admin_client.post(_url("change", biller), data)

    assert response.status_code == 200
    assert "Not activated: the go-live checklist is not complete" in response.content.decode()
    assert not Biller.objects.get(pk=biller.pk).is_active

    for kind in KINDS:
        go_live_evidence_record(biller=biller, kind=kind)
    assert admin_client.post(_url("change", biller), data).status_code == 302
    assert Biller.objects.get(pk=biller.pk).is_active


def test_the_form_refuses_production_and_keeps_an_active_biller_saving(admin_client, presets):
    biller = presets["peoria"]  # active, from its preset
    data = _form_data(admin_client.get(_url("change", biller)))
    assert admin_client.post(_url("change", biller), data).status_code == 302

    data["environment"] = "prod"
    response = admin_client.post(_url("change", biller), data)
    assert "Promote to production" in response.content.decode()
    assert Biller.objects.get(pk=biller.pk).environment == "test"


def test_a_new_biller_in_the_admin_starts_inactive(admin_client, catalogs):
    page = admin_client.get(reverse("admin:billers_biller_add"))
    assert page.context["adminform"].form["is_active"].value() is False
