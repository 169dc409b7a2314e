import pytest
from django.urls import reverse

from billers.models import BillerSetting, FieldMapping
from tests.billers.factories import CustomerFactory, InvoiceFactory
from tests.payments.factories import PaymentFactory

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-partner-key-value-42"


def _form_data(response):
    """The POST data of an admin change form as it was rendered."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif value is None:
                data[key] = ""
            else:
                data[key] = value
        return data

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def _inline_prefix(response, model):
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is model:
            return inline.formset.prefix, len(inline.formset.forms)
    raise AssertionError(model)


def _change_url(biller):
    return reverse("admin:billers_biller_change", args=[biller.pk])


def test_admin_pages_render(admin_client, presets):
    InvoiceFactory(biller=presets["imt"])
    PaymentFactory(biller=presets["imt"])
    urls = [
        reverse("admin:index"),
        reverse("admin:billers_biller_changelist") + "?q=Peoria",
        reverse("admin:billers_biller_changelist") + "?partner__exact=IMT",
        reverse("admin:billers_biller_add"),
        _change_url(presets["peoria"]),
        _change_url(presets["imt"]),
        reverse("admin:billers_biller_history", args=[presets["imt"].pk]),
        reverse("admin:billers_settingdefinition_changelist"),
        reverse("admin:billers_integrationoption_changelist"),
        reverse("admin:billers_fieldmapping_changelist") + "?record_type__exact=CR",
        reverse("admin:billers_historicalbillersetting_changelist"),
        reverse("admin:billers_historicalfieldmapping_changelist"),
        reverse("admin:billers_invoice_changelist"),
        reverse("admin:billers_customer_changelist"),
        reverse("admin:payments_payment_changelist"),
    ]
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_the_biller_page_shows_its_whole_configuration(admin_client, presets):
    response = admin_client.get(_change_url(presets["imt"]))
    html = response.content.decode()
    assert "https://billingtest.imtapps.com" in html
    assert "RTDR - Override 6 Hour Previous RTDR Check" in html
    assert "past_due_amount" in html
    assert "AllowPartialPayments" in html


def test_the_biller_page_sets_the_payment_policy(admin_client, presets):
    biller = presets["imt"]
    html = admin_client.get(_change_url(biller)).content.decode()
    assert 'name="overpayment_allowance"' in html and 'name="maximum_payment"' in html
    assert 'value="100000.00"' in html


def test_the_mapping_is_ordered_by_record_type_then_file_spec_id(admin_client, presets):
    response = admin_client.get(_change_url(presets["peoria"]))
    inline = next(
        i for i in response.context["inline_admin_formsets"] if i.formset.model is FieldMapping
    )
    order = [(f.instance.record_type, f.instance.file_spec_id) for f in inline.formset.forms]
    assert order[:6] == [("FH", 1), ("FH", 2), ("FH", 4), ("FH", 5), ("FH", 6), ("IH", 7)]
    assert [rt for rt, _ in order] == sorted(
        (rt for rt, _ in order), key=["FH", "IH", "CR", "ID"].index
    )
    assert order[-1] == ("ID", 70)


def _add_setting_row(response, model=BillerSetting, **values):
    data = _form_data(response)
    prefix, count = _inline_prefix(response, model)
    for name, value in values.items():
        data[f"{prefix}-{count}-{name}"] = value
    data[f"{prefix}-{count}-biller"] = response.context["original"].pk
    data[f"{prefix}-TOTAL_FORMS"] = count + 1
    return data


def test_a_secret_set_in_the_admin_is_encrypted_and_never_shown(admin_client, presets):
    imt = presets["imt"]
    url = _change_url(imt)
    data = _add_setting_row(admin_client.get(url), setting="13", value="", new_secret=SECRET)
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]

    setting = BillerSetting.objects.get(biller=imt, setting_id=13)
    assert setting.secret == SECRET
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret, value FROM billers_billersetting WHERE id = %s", [setting.pk]
        )
        raw_secret, raw_value = cursor.fetchone()
    assert SECRET not in raw_secret and raw_value == ""

    pages = [
        url,
        reverse("admin:billers_biller_history", args=[imt.pk]),
        reverse("admin:billers_historicalbillersetting_changelist"),
        reverse("admin:billers_historicalbillersetting_change", args=[setting.history.first().pk]),
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        assert SECRET not in response.content.decode(), page
    assert "set (changed" in admin_client.get(url).content.decode()


def test_saving_the_page_again_keeps_the_stored_secret(admin_client, presets):
    imt = presets["imt"]
    url = _change_url(imt)
    admin_client.post(
        url, _add_setting_row(admin_client.get(url), setting="13", value="", new_secret=SECRET)
    )
    response = admin_client.post(url, _form_data(admin_client.get(url)))
    assert response.status_code == 302
    assert BillerSetting.objects.get(biller=imt, setting_id=13).secret == SECRET


def test_a_secret_typed_into_the_plain_value_is_refused_and_not_echoed(admin_client, presets):
    url = _change_url(presets["imt"])
    data = _add_setting_row(admin_client.get(url), setting="13", value=SECRET)
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "is a secret" in response.content.decode()
    assert not BillerSetting.objects.filter(biller=presets["imt"], setting_id=13).exists()


def test_a_secret_that_fails_validation_elsewhere_is_not_echoed(admin_client, presets):
    url = _change_url(presets["imt"])
    data = _add_setting_row(admin_client.get(url), setting="13", value="", new_secret=SECRET)
    data["name"] = ""  # another error on the page
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert SECRET not in response.content.decode()
    assert not BillerSetting.objects.filter(biller=presets["imt"], setting_id=13).exists()


def test_invalid_json_in_131_is_refused_with_a_message_and_nothing_saved(admin_client, presets):
    imt = presets["imt"]
    url = _change_url(imt)
    data = _add_setting_row(admin_client.get(url), setting="131", value='{"InvoiceOnDemand": ')
    data["name"] = "IMT renamed"
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "Setting 131 must be valid JSON" in response.content.decode()
    imt.refresh_from_db()
    assert imt.name == "IMT Software Services"
    assert not BillerSetting.objects.filter(biller=imt, setting_id=131).exists()


def test_a_non_url_endpoint_is_refused(admin_client, presets):
    url = _change_url(presets["imt"])
    data = _add_setting_row(admin_client.get(url), setting="11", value="billing.imtapps.com/pay")
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "must be an http(s) URL" in response.content.decode()


def test_a_duplicate_file_spec_id_is_refused_and_nothing_saved(admin_client, presets):
    imt = presets["imt"]
    url = _change_url(imt)
    data = _add_setting_row(
        admin_client.get(url),
        model=FieldMapping,
        record_type="IH",
        file_spec_id="407",
        ic_field="PastDue",
        partner_field="other",
        rule="partner_field",
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "already exists" in response.content.decode() or "duplicate" in (
        response.content.decode().lower()
    )
    assert FieldMapping.objects.filter(biller=imt, file_spec_id=407).count() == 1


def test_changes_are_in_the_audit_trail_with_who_made_them(admin_client, admin_user, presets):
    imt = presets["imt"]
    url = _change_url(imt)
    data = _form_data(admin_client.get(url))
    prefix, _ = _inline_prefix(admin_client.get(url), FieldMapping)
    row = next(
        key for key, value in data.items() if key.startswith(prefix) and value == "past_due_amount"
    )
    data[row] = "past_due"
    assert admin_client.post(url, data).status_code == 302

    change = FieldMapping.history.filter(file_spec_id=407).latest("history_date")
    assert change.history_user == admin_user
    assert change.partner_field == "past_due"
    audit = admin_client.get(reverse("admin:billers_historicalfieldmapping_changelist"))
    assert "&#x27;past_due_amount&#x27; → &#x27;past_due&#x27;" in audit.content.decode()


def test_invoices_and_customers_are_listed(admin_client, presets):
    customer = CustomerFactory(biller=presets["imt"], name="Jane Payer")
    InvoiceFactory(biller=presets["imt"], customer=customer, invoice_number="040620220901")
    response = admin_client.get(reverse("admin:billers_invoice_changelist") + "?q=0406")
    assert "040620220901" in response.content.decode()


def test_the_biller_page_lists_its_portal_users(admin_client, presets):
    from tests.billers.factories import PortalUserFactory

    PortalUserFactory(username="peoria-clerk", billers=[presets["peoria"]])
    PortalUserFactory(username="imt-clerk", billers=[presets["imt"]])
    page = admin_client.get(reverse("admin:billers_biller_change", args=[presets["peoria"].pk]))
    assert "biller portal users" in page.content.decode().lower()
    assert "peoria-clerk" in page.content.decode()
    assert "imt-clerk" not in page.content.decode()


def test_the_biller_page_shows_and_changes_the_time_zone(admin_client, presets):
    peoria = presets["peoria"]
    url = _change_url(peoria)
    page = admin_client.get(url)
    assert 'value="America/Phoenix"' in page.content.decode()
    data = _form_data(page)
    data["time_zone"] = "America/Denver"
    assert admin_client.post(url, data).status_code == 302
    peoria.refresh_from_db()
    assert peoria.time_zone == "America/Denver"


@pytest.mark.parametrize("value", ["", "Mountain", "../etc/passwd", "America/Peoria"])
def test_a_time_zone_that_is_not_an_iana_name_is_refused(admin_client, presets, value):
    peoria = presets["peoria"]
    url = _change_url(peoria)
    data = _form_data(admin_client.get(url))
    data["time_zone"] = value
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "time_zone" in response.context["adminform"].form.errors
    peoria.refresh_from_db()
    assert peoria.time_zone == "America/Phoenix"
