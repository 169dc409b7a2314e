"""Create or update the django-q2 schedules from the settings (migrate does it too)."""

from django.core.management.base import BaseCommand

from icintegrations.schedules import schedule_specs, schedules_sync


class Command(BaseCommand):
    help = (
        "Create or update the django-q2 schedules (the Data Pump and invoice file sweeps, "
        "the partner call retention) from the settings. migrate runs it too."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, database, **options):
        changed = schedules_sync(using=database)
        for spec in schedule_specs():
            every = f"every {spec.minutes} min" if spec.minutes else "daily"
            mark = "created or updated" if spec.name in changed else "unchanged"
            self.stdout.write(f"{spec.name}: {every} ({mark})")
