"""Go-live evidence: a mapping review of a live record or a connection test that
passed, recorded by the review and the test themselves (onboarding.review,
partners.services.connection_test), and read by the go-live checklist
(onboarding.go_live).

Evidence counts only while nothing it tested has changed since: the last change
of any of the biller's settings or mapping rows is read from their audit history
(django-simple-history writes a row for every save and delete, secrets included,
their values aside)."""

import datetime

from django.contrib.auth.models import AbstractBaseUser, User
from django.db.models import Max
from django.utils import timezone

from billers.models import Biller, BillerSetting, FieldMapping, GoLiveEvidence


def go_live_evidence_record(
    *, biller: Biller, kind: str, user: AbstractBaseUser | None = None, detail: str = ""
) -> GoLiveEvidence:
    """Record that a check of `kind` passed now, by `user` (None: not from the admin)."""
    by = user if isinstance(user, User) and user.is_authenticated else None
    return GoLiveEvidence.objects.create(
        biller=biller, kind=kind, at=timezone.now(), by=by, detail=detail[:200]
    )


def biller_configuration_changed_at(*, biller: Biller) -> datetime.datetime | None:
    """When a setting or a mapping row of the biller was last saved or deleted."""
    times = [
        model.history.filter(biller_id=biller.pk).aggregate(last=Max("history_date"))["last"]
        for model in (BillerSetting, FieldMapping)
    ]
    found = [t for t in times if t is not None]
    return max(found) if found else None


def go_live_evidence_current(*, biller: Biller) -> dict[str, GoLiveEvidence | None]:
    """The latest evidence of each kind that is later than the last change of the
    biller's settings or mapping (None where there is none)."""
    changed_at = biller_configuration_changed_at(biller=biller)
    rows = GoLiveEvidence.objects.filter(biller=biller).select_related("by")
    if changed_at is not None:
        rows = rows.filter(at__gt=changed_at)
    return {kind: rows.filter(kind=kind).order_by("-at").first() for kind in GoLiveEvidence.Kind}
