"""Going live: the go-live checklist of a biller, its promotion from the test
environment to production, and its activation.

The checklist:
- every URL and secret setting the biller's connector uses is set (the
  connector's `needed_settings`);
- the mapping is complete (billers.services.mapping_requirements);
- a mapping review of a live record and a connection test have both passed
  since the last change of the biller's settings or mapping (the evidence they
  record, billers.services.go_live_evidence);
- at least one active API client and one active portal user have the biller.

Promotion and activation are refused (`go_live_incomplete`, naming what is
missing) while it is not complete. Promotion rewrites the URL settings from the
partner's test base URL to its production one (the connector's `base_urls`),
clears every secret (test credentials are never carried to production), leaves
the biller inactive, and calls no partner. Both are recorded in the audit
history, with who and why.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from billers.choices import Environment, SettingKind
from billers.models import Biller, BillerSetting, GoLiveEvidence
from billers.services.go_live_evidence import (
    biller_configuration_changed_at,
    go_live_evidence_current,
)
from billers.services.mapping_requirements import biller_mapping_problems
from icintegrations.errors import ApplicationError, ErrorCode
from partners.connectors.base import Connector
from partners.connectors.registry import connector_class

PROMOTE_REASON = "Promoted to production (go-live checklist complete)"
ACTIVATE_REASON = "Activated (go-live checklist complete)"


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    ok: bool
    message: str


@dataclass(frozen=True)
class GoLiveChecklist:
    biller: Biller
    items: tuple[ChecklistItem, ...]

    @property
    def complete(self) -> bool:
        return all(item.ok for item in self.items)

    @property
    def missing(self) -> list[str]:
        return [f"{item.label}: {item.message}" for item in self.items if not item.ok]

    @property
    def done_count(self) -> int:
        return sum(item.ok for item in self.items)


def _connector(biller: Biller) -> type[Connector] | None:
    try:
        return connector_class(biller.partner)
    except LookupError:
        return None


def _settings_item(biller: Biller, connector: type[Connector] | None) -> ChecklistItem:
    label = "Partner settings"
    if connector is None:
        return ChecklistItem("settings", label, False, f"no connector serves {biller.partner!r}")
    rows = {row.setting_id: row for row in biller.settings.select_related("setting")}
    unset = []
    for group in connector.needed_settings:
        if not any(
            row is not None and bool(row.secret if row.setting.is_secret else row.value)
            for row in (rows.get(setting_id) for setting_id in group)
        ):
            unset.append(" or ".join(str(int(setting_id)) for setting_id in group))
    if unset:
        return ChecklistItem("settings", label, False, f"setting {', '.join(unset)} not set")
    needed = sorted(
        {int(setting_id) for group in connector.needed_settings for setting_id in group}
    )
    return ChecklistItem(
        "settings", label, True, f"every setting {connector.partner} uses is set ({needed})"
    )


def _mapping_item(biller: Biller) -> ChecklistItem:
    problems = [message for _, message in biller_mapping_problems(biller=biller)]
    if problems:
        return ChecklistItem("mapping", "Field mapping", False, "; ".join(problems))
    return ChecklistItem("mapping", "Field mapping", True, "every required field is mapped")


def _evidence_item(
    biller: Biller, kind: str, evidence: GoLiveEvidence | None, changed_at
) -> ChecklistItem:
    label = GoLiveEvidence.Kind(kind).label
    if evidence is None:
        since = f" (last change {changed_at:%Y-%m-%d %H:%M:%S} UTC)" if changed_at else ""
        return ChecklistItem(
            kind, label, False, f"none passed since the last change of settings or mapping{since}"
        )
    by = evidence.by.get_username() if evidence.by else "a command"
    detail = f", {evidence.detail}" if evidence.detail else ""
    return ChecklistItem(
        kind, label, True, f"passed at {evidence.at:%Y-%m-%d %H:%M:%S} UTC by {by}{detail}"
    )


def biller_go_live_checklist(*, biller: Biller) -> GoLiveChecklist:
    """The biller's go-live checklist as its rows are now (reads only)."""
    evidence = go_live_evidence_current(biller=biller)
    changed_at = biller_configuration_changed_at(biller=biller)
    clients = biller.api_clients.filter(is_active=True).count()
    users = biller.memberships.filter(user__is_active=True).count()
    items = [
        _settings_item(biller, _connector(biller)),
        _mapping_item(biller),
        *(
            _evidence_item(biller, kind, evidence[kind], changed_at)
            for kind in (GoLiveEvidence.Kind.MAPPING_REVIEW, GoLiveEvidence.Kind.CONNECTION_TEST)
        ),
        ChecklistItem(
            "api_client",
            "API client",
            clients > 0,
            f"{clients} active API client(s)" if clients else "no active API client has it",
        ),
        ChecklistItem(
            "portal_user",
            "Portal user",
            users > 0,
            f"{users} active portal user(s)" if users else "no active portal user has it",
        ),
    ]
    return GoLiveChecklist(biller=biller, items=tuple(items))


def _require_complete(biller: Biller, action: str) -> None:
    checklist = biller_go_live_checklist(biller=biller)
    if not checklist.complete:
        raise ApplicationError(
            f"Biller {biller.bid} is not {action}: the go-live checklist is not complete "
            f"({'; '.join(checklist.missing)}).",
            code=ErrorCode.GO_LIVE_INCOMPLETE,
            extra={"missing": [item.key for item in checklist.items if not item.ok]},
        )


def _audited_save(obj, user, reason: str, **kwargs) -> None:
    obj._history_user = user  # django-simple-history
    obj._change_reason = reason
    obj.save(**kwargs)


def _prod_url(url: str, test_base: str, prod_base: str) -> str | None:
    """`url` at the production host, or None when it is at neither base URL."""
    parts, test, prod = urlsplit(url), urlsplit(test_base), urlsplit(prod_base)
    host = parts.netloc.lower()
    if host == prod.netloc.lower():
        return url
    if host != test.netloc.lower():
        return None
    return urlunsplit(parts._replace(scheme=prod.scheme, netloc=prod.netloc))


def _url_rewrites(biller: Biller, connector: type[Connector]) -> list[tuple[BillerSetting, str]]:
    test_base, prod_base = (
        connector.base_urls.get(Environment.TEST, ""),
        connector.base_urls.get(Environment.PROD, ""),
    )
    rewrites, strays = [], []
    urls = biller.settings.select_related("setting").filter(setting__kind=SettingKind.URL)
    for row in urls.exclude(value=""):
        new = _prod_url(row.value, test_base, prod_base) if test_base and prod_base else None
        if new is None:
            strays.append(row.setting_id)
        elif new != row.value:
            rewrites.append((row, new))
    if strays:
        raise ApplicationError(
            f"Biller {biller.bid} is not promoted: setting {', '.join(map(str, strays))} is "
            f"not at {connector.partner}'s test address {test_base or '(none known)'}; "
            "set it to the test or the production address first.",
            code=ErrorCode.URL_NOT_AT_PARTNER_TEST,
            extra={"settings": strays},
        )
    return rewrites


@transaction.atomic
def biller_promote(*, biller: Biller, user: AbstractBaseUser | None = None) -> Biller:
    """Switch the biller from test to production (see the module's docstring)."""
    biller = Biller.objects.select_for_update().get(pk=biller.pk)
    if biller.environment == Environment.PROD:
        raise ApplicationError(
            f"Biller {biller.bid} is in production already.", code=ErrorCode.ALREADY_IN_PRODUCTION
        )
    _require_complete(biller, "promoted")
    connector = connector_class(biller.partner)  # the checklist found it
    for row, url in _url_rewrites(biller, connector):
        row.value = url
        _audited_save(row, user, PROMOTE_REASON, update_fields=["value", "updated_at"])
    secrets = biller.settings.filter(setting__kind=SettingKind.SECRET)
    for row in secrets.exclude(secret__isnull=True).defer("secret"):
        row.secret, row.secret_changed_at = None, None
        _audited_save(
            row, user, PROMOTE_REASON, update_fields=["secret", "secret_changed_at", "updated_at"]
        )
    biller.environment, biller.is_active = Environment.PROD, False
    _audited_save(biller, user, PROMOTE_REASON)
    return biller


@transaction.atomic
def biller_activate(*, biller: Biller, user: AbstractBaseUser | None = None) -> Biller:
    """Make the biller active (its lookups and payments served), once its
    checklist is complete."""
    biller = Biller.objects.select_for_update().get(pk=biller.pk)
    if biller.is_active:
        return biller
    _require_complete(biller, "activated")
    biller.is_active = True
    _audited_save(biller, user, ACTIVATE_REASON)
    return biller
