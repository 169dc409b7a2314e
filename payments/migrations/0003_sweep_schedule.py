"""The Data Pump's sweep as a django-q2 schedule: every ICI_PUMP_SWEEP_MINUTES it
re-enqueues deliveries that are due (retries, read-backs, lost tasks)."""

from django.conf import settings
from django.db import migrations

NAME = "Data Pump sweep"


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={
            "func": "payments.tasks.sweep_task",
            "schedule_type": "I",  # Schedule.MINUTES
            "minutes": settings.ICI_PUMP_SWEEP_MINUTES,
            "repeats": -1,
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0002_data_pump"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create, remove)]
