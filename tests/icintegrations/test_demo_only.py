"""Demo-only commands (issue 15, item 8): outside ICI_MODE=demo and test each
refuses, says why, and changes nothing. `point_billers_at_sandboxes` once
rewrote every biller's URLs and secrets under ICI_MODE=production."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from billers.models import BillerSetting
from payments.models import Payment

DEMO_ONLY = [
    ("point_billers_at_sandboxes", ["--citizenserve", "http://127.0.0.1:8101",
                                    "--imt", "http://127.0.0.1:8102"]),
    ("demo_admin", []),
    ("demo_portal", ["--payments", "2", "--wait", "0"]),
]  # fmt: skip


def _state():
    settings = sorted(
        BillerSetting.objects.values_list("biller__bid", "setting_id", "value", "secret_changed_at")
    )
    users = sorted(get_user_model().objects.values_list("username", "password"))
    return settings, users, Payment.objects.count()


@pytest.mark.parametrize(("command", "args"), DEMO_ONLY, ids=[c for c, _ in DEMO_ONLY])
def test_a_demo_only_command_refuses_in_production_says_why_and_changes_nothing(
    presets, settings, command, args
):
    get_user_model().objects.create_user("clerk", password="an-old-password-1")
    before = _state()
    settings.ICI_MODE = "production"
    out = StringIO()

    with pytest.raises(CommandError) as refused:
        call_command(command, *args, stdout=out)

    message = str(refused.value)
    assert f"{command} is for the demo only" in message
    assert "ICI_MODE=production" in message and "ICI_MODE=demo (or test)" in message
    assert "nothing was changed" in message
    assert out.getvalue() == ""
    assert _state() == before


def test_point_billers_at_sandboxes_says_what_it_would_have_done(presets, settings):
    settings.ICI_MODE = "production"
    with pytest.raises(CommandError, match="rewrite every biller's partner URLs and credentials"):
        call_command("point_billers_at_sandboxes", "--imt", "http://127.0.0.1:8102")


@pytest.mark.parametrize("mode", ["demo", "test"])
def test_point_billers_at_sandboxes_runs_in_the_demo_and_the_tests(presets, settings, mode):
    settings.ICI_MODE = mode
    out = StringIO()

    call_command("point_billers_at_sandboxes", "--imt", "http://127.0.0.1:8102", stdout=out)

    assert "now calls the IMT sandbox at http://127.0.0.1:8102" in out.getvalue()
