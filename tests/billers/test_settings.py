import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billers.models import BillerSetting
from billers.services.settings import biller_setting_set
from icintegrations.errors import ApplicationError
from tests.billers.factories import BillerFactory

pytestmark = pytest.mark.django_db


def _set(biller, setting_id, value):
    return biller_setting_set(biller=biller, setting_id=setting_id, value=value)


def _refused(biller, setting_id, value, code):
    with pytest.raises(ApplicationError) as error:
        _set(biller, setting_id, value)
    assert error.value.code == code
    assert not BillerSetting.objects.filter(biller=biller, setting_id=setting_id).exists()
    return error.value.message


def test_a_url_setting_takes_an_http_url():
    biller = BillerFactory()
    setting = _set(biller, 11, "https://test.citizenserve.com/citizenws/service/addlicensepayment")
    assert setting.value.endswith("/addlicensepayment")


@pytest.mark.parametrize("value", ["ftp://partner.example.test", "not a url", "", "//x"])
def test_a_url_setting_refuses_anything_else(value):
    _refused(BillerFactory(), 8, value, "invalid_url" if value else "required")


def test_131_takes_the_invoice_on_demand_configuration():
    biller = BillerFactory()
    _set(biller, 131, '{"InvoiceOnDemand":{"Integration":"CitizenServe"}}')
    assert BillerSetting.objects.get(biller=biller, setting_id=131).value


def test_131_refuses_invalid_json_and_says_where():
    message = _refused(BillerFactory(), 131, '{"InvoiceOnDemand":', "invalid_json")
    assert "must be valid JSON" in message and "column" in message


@pytest.mark.parametrize(
    ("value", "code", "says"),
    [
        ("[]", "invalid_json_shape", "must be a JSON object"),
        ('{"Other": 1}', "invalid_json_shape", 'no "InvoiceOnDemand" key'),
        ('{"InvoiceOnDemand": "CitizenServe"}', "invalid_json_shape", '"Integration" key'),
        ('{"InvoiceOnDemand": {"Integration": "Tyler"}}', "unknown_integration", "'Tyler'"),
    ],
)
def test_131_refuses_the_wrong_shape_and_says_what_is_wrong(value, code, says):
    assert says in _refused(BillerFactory(), 131, value, code)


def test_a_code_list_must_be_pipe_separated_codes():
    biller = BillerFactory()
    _set(biller, 64, "Web CC|IVR CC|AutopayCC")
    _refused(BillerFactory(), 65, "Web Eck||AutopayEck", "invalid_list")


def test_an_unknown_setting_id_is_refused_with_the_known_ones():
    message = _refused(BillerFactory(), 999, "x", "unknown_setting")
    assert "8, 10, 11, 13, 16, 17, 19, 30, 64, 65, 111, 112, 113, 131" in message


def test_a_secret_cannot_be_emptied():
    _refused(BillerFactory(), 13, "", "empty_secret")


def test_setting_again_updates_the_one_row():
    biller = BillerFactory()
    _set(biller, 8, "https://a.example.test")
    _set(biller, 8, "https://b.example.test")
    assert list(BillerSetting.objects.filter(biller=biller).values_list("value", flat=True)) == [
        "https://b.example.test"
    ]


def test_command_sets_a_setting():
    biller = BillerFactory(bid=2249)
    out = io.StringIO()
    call_command("set_biller_setting", "2249", "30", "ACCELA-", stdout=out)
    assert BillerSetting.objects.get(biller=biller, setting_id=30).value == "ACCELA-"
    assert "setting 30 = ACCELA-" in out.getvalue()


def test_command_reads_a_secret_from_stdin_and_never_prints_it(monkeypatch):
    biller = BillerFactory(bid=1367)
    monkeypatch.setattr("sys.stdin", io.StringIO("integrator-secret-1\n"))
    out = io.StringIO()
    call_command("set_biller_setting", "1367", "13", "-", stdout=out)
    assert BillerSetting.objects.get(biller=biller, setting_id=13).secret == "integrator-secret-1"
    assert "integrator-secret-1" not in out.getvalue()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["4242", "8", "https://x.example.test"], "No biller with BID 4242"),
        (["2249", "999", "x"], "not in the Advanced Settings catalog"),
        (["2249", "8", "partner.example.test"], "must be an http(s) URL"),
        (["2249", "131", "{oops"], "must be valid JSON"),
    ],
)
def test_command_refuses_bad_input_with_a_clear_message(args, says):
    BillerFactory(bid=2249)
    with pytest.raises(CommandError, match=None) as error:
        call_command("set_biller_setting", *args)
    assert says in str(error.value)
    assert not BillerSetting.objects.exists()
