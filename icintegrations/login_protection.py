"""Log-in protection (django-axes) for the admin and the portal.

Failed log-ins are counted per (username, client address) pair; a pair that
reaches ICI_LOGIN_FAILURE_LIMIT is refused for ICI_LOGIN_COOLOFF_MINUTES (see
the settings' "Login protection"). Lockouts are logged by axes
(`axes.watch_login`) and here, and listed in the admin under Axes, where
deleting an access attempt lifts its lockout.
"""

import logging

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from axes.signals import user_locked_out
from django.dispatch import receiver
from django.shortcuts import render

logger = logging.getLogger("icintegrations.login")


class LoginProtectionBackend(AxesStandaloneBackend):
    """Axes' check before Django's ModelBackend. A call without a request (a
    management command, a script) is no log-in over the network: it is not
    counted, and left to the next backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _minutes(request) -> int:
    cool_off = get_cool_off(request)
    return max(1, -(-int(cool_off.total_seconds()) // 60)) if cool_off else 1


def lockout_response(request, original_response=None, credentials=None):
    """429 in the look of the log-in that was refused."""
    context: dict[str, object] = {"blocked_minutes": _minutes(request)}
    if request.path.startswith("/portal/"):
        from django.contrib.auth.forms import AuthenticationForm

        context["form"] = AuthenticationForm(request)
        return render(request, "portal/login.html", context, status=429)
    return render(request, "admin/login_locked.html", context, status=429)


@receiver(user_locked_out)
def _log_lockout(sender, request, username, ip_address, **kwargs):
    logger.warning(
        "Log-in locked out: user %r from %s after too many failures; an operator can lift "
        "it in the admin (Axes > Access attempts)",
        username, ip_address,
        extra={"username": username, "client_address": ip_address, "outcome": "locked_out"},
    )  # fmt: skip
