"""The django-q2 schedules follow the settings: at every migrate and with
`manage.py sync_schedules`."""

from io import StringIO

from django.core.management import call_command
from django_q.models import Schedule


def _minutes(name):
    return Schedule.objects.get(name=name).minutes


def test_sync_schedules_follows_a_changed_sweep_interval(db, settings):
    settings.ICI_PUMP_SWEEP_MINUTES = 7
    settings.ICI_INVOICE_FILE_SWEEP_MINUTES = 11
    out = StringIO()
    call_command("sync_schedules", stdout=out)
    assert _minutes("Data Pump sweep") == 7
    assert _minutes("Invoice file sweep") == 11
    assert "Data Pump sweep: every 7 min (created or updated)" in out.getvalue()


def test_a_shorter_interval_applies_before_the_old_next_run(db, settings):
    settings.ICI_PUMP_SWEEP_MINUTES = 600
    call_command("sync_schedules", stdout=StringIO())
    settings.ICI_PUMP_SWEEP_MINUTES = 1
    call_command("sync_schedules", stdout=StringIO())
    schedule = Schedule.objects.get(name="Data Pump sweep")
    from django.utils import timezone

    assert (schedule.next_run - timezone.now()).total_seconds() <= 60


def test_sync_schedules_is_idempotent(db, settings):
    settings.ICI_PUMP_SWEEP_MINUTES = 3
    call_command("sync_schedules", stdout=StringIO())
    before = list(Schedule.objects.order_by("name").values())
    out = StringIO()
    call_command("sync_schedules", stdout=out)
    assert list(Schedule.objects.order_by("name").values()) == before
    assert "(unchanged)" in out.getvalue() and "updated" not in out.getvalue()
    assert Schedule.objects.filter(name="Data Pump sweep").count() == 1


def test_a_missing_schedule_is_created_again(db):
    Schedule.objects.filter(name="Partner call retention").delete()
    call_command("sync_schedules", stdout=StringIO())
    schedule = Schedule.objects.get(name="Partner call retention")
    assert (schedule.func, schedule.schedule_type) == ("partners.tasks.prune_task", "D")


def test_migrate_syncs_the_schedules(db, settings):
    settings.ICI_PUMP_SWEEP_MINUTES = 9
    call_command("migrate", verbosity=0)
    assert _minutes("Data Pump sweep") == 9
