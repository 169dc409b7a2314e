"""The partner calls' retention as a daily django-q2 schedule
(partners.services.retention.partner_calls_prune)."""

from django.db import migrations

NAME = "Partner call retention"


def create(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME,
        defaults={
            "func": "partners.tasks.prune_task",
            "schedule_type": "D",  # Schedule.DAILY
            "repeats": -1,
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0001_initial"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create, remove)]
