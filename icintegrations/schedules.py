"""The django-q2 schedules, made from the settings.

`schedules_sync()` creates or updates each schedule by name so that its
interval is the one the settings give now. It runs after every `migrate`
(a post_migrate handler, payments.apps) and as `manage.py sync_schedules`:
changing ICI_PUMP_SWEEP_MINUTES or ICI_INVOICE_FILE_SWEEP_MINUTES takes effect
at the next deploy's `migrate`, without a new migration. Running it twice
changes nothing the second time.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str
    schedule_type: str  # django_q.models.Schedule.MINUTES ("I") or DAILY ("D")
    minutes: int | None = None


def schedule_specs() -> list[ScheduleSpec]:
    return [
        ScheduleSpec(
            "Data Pump sweep", "payments.tasks.sweep_task", "I", settings.ICI_PUMP_SWEEP_MINUTES
        ),
        ScheduleSpec(
            "Invoice file sweep",
            "invoicefiles.tasks.sweep_task",
            "I",
            settings.ICI_INVOICE_FILE_SWEEP_MINUTES,
        ),
        ScheduleSpec("Partner call retention", "partners.tasks.prune_task", "D"),
    ]


def schedules_sync(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Create or update every schedule from the settings; returns the names of
    those it created or changed."""
    from django_q.models import Schedule

    if Schedule._meta.db_table not in connections[using].introspection.table_names():
        return []  # django-q2 is not migrated yet (a partial migrate)
    changed = []
    for spec in schedule_specs():
        wanted = {
            "func": spec.func,
            "schedule_type": spec.schedule_type,
            "minutes": spec.minutes,
            "repeats": -1,
        }
        schedule = Schedule.objects.using(using).filter(name=spec.name).first()
        if schedule is None:
            Schedule.objects.using(using).create(name=spec.name, **wanted)
            changed.append(spec.name)
            continue
        differs: dict[str, object] = {k: v for k, v in wanted.items() if getattr(schedule, k) != v}
        if differs:
            if spec.minutes and "minutes" in differs:
                # A shorter interval applies now, not after the old one's next run.
                soonest = timezone.now() + datetime.timedelta(minutes=spec.minutes)
                if schedule.next_run is None or schedule.next_run > soonest:
                    differs["next_run"] = soonest
            Schedule.objects.using(using).filter(pk=schedule.pk).update(**differs)
            changed.append(spec.name)
    return changed
