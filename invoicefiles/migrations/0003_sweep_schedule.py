"""The invoice files' sweep as a django-q2 schedule: every
ICI_INVOICE_FILE_SWEEP_MINUTES it enqueues again the files whose task was lost or
whose worker died (invoicefiles.services.uploads.invoice_files_sweep)."""

from django.conf import settings
from django.db import migrations

NAME = "Invoice file sweep"


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={
            "func": "invoicefiles.tasks.sweep_task",
            "schedule_type": "I",  # Schedule.MINUTES
            "minutes": settings.ICI_INVOICE_FILE_SWEEP_MINUTES,
            "repeats": -1,
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("invoicefiles", "0002_enqueued_at"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create, remove)]
