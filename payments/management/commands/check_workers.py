"""Is the django-q2 cluster working? For a supervisor's health check or a cron job.

    manage.py check_workers [--late 600]

Exits 0 when no delivery has been due for longer than --late seconds and no
invoice file waits past its time; otherwise prints what waits and exits 1. A
cluster stalled by a worker killed between tasks (see README, "Running
workers") shows here within --late seconds: restart its `qcluster` then.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from invoicefiles.selectors import invoice_files_overdue
from payments.selectors import deliveries_overdue


class Command(BaseCommand):
    help = "Exit 1 when deliveries or invoice files wait past their time (a stalled cluster)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--late",
            type=int,
            default=600,
            help="Seconds past its time before a delivery counts as overdue (default 600).",
        )

    def handle(self, *args, late, **options):
        if late < 60:
            raise CommandError("--late must be at least 60 seconds (the sweep runs every minute).")
        now, window = timezone.now(), datetime.timedelta(seconds=late)
        deliveries = deliveries_overdue(now=now, late=window)
        files = invoice_files_overdue(now=now, late=window)
        if deliveries.count or files:
            waiting = []
            if deliveries.count:
                assert deliveries.since is not None  # the oldest of them
                minutes = (now - deliveries.since).total_seconds() / 60
                waiting.append(
                    f"{_plural(deliveries.count, 'delivery', 'deliveries')} due for more "
                    f"than {late} s (the oldest for {minutes:.0f} min)"
                )
            if files:
                waiting.append(
                    f"{_plural(files, 'invoice file')} waiting past "
                    f"{'its' if files == 1 else 'their'} time"
                )
            raise CommandError(
                "; ".join(waiting) + ". Is a qcluster running? If one is, it may have "
                "stalled: restart it."
            )
        self.stdout.write(f"ok: nothing due for more than {late} s.")


def _plural(count: int, one: str, many: str = "") -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"
