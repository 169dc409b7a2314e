"""What billers tells the apps above it, and asks them: plain callbacks that
they register in their AppConfig.ready(). billers sits below them in the
dependency order and imports none of them; no Django signals (a callback here
is called explicitly, in order, inside the caller's transaction).

- settings saved: a setting of a biller was saved (the admin's biller page,
  `set_biller_setting`); payments lifts the biller's credential hold.
- biller notices: lines about a biller for its admin page ("credentials
  refused since ...").
"""

from collections.abc import Callable

from billers.models import Biller

SettingsSaved = Callable[..., object]  # called as callback(biller_id=...)
BillerNotices = Callable[[Biller], list[str]]

_settings_saved: list[SettingsSaved] = []
_biller_notices: list[BillerNotices] = []


def settings_saved_subscribe(callback: SettingsSaved) -> None:
    if callback not in _settings_saved:
        _settings_saved.append(callback)


def settings_saved_notify(*, biller_id: int) -> None:
    """Tell every subscriber that a setting of the biller was saved."""
    for callback in list(_settings_saved):
        callback(biller_id=biller_id)


def biller_notices_subscribe(provider: BillerNotices) -> None:
    if provider not in _biller_notices:
        _biller_notices.append(provider)


def biller_notices(biller: Biller) -> list[str]:
    """What the apps above billers have to say about the biller, for its admin page."""
    return [line for provider in list(_biller_notices) for line in provider(biller)]
