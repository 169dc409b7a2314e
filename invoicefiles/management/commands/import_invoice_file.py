"""Import an invoice file from disk, as an upload would, with a progress bar.

    manage.py import_invoice_file 1367 invoices.txt

The file is stored and deduplicated exactly as an upload (the same file twice is
not applied twice), then processed in this process, not by a worker.
"""

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from billers.selectors import biller_get
from icintegrations.errors import ApplicationError
from invoicefiles.services.processing import invoice_file_interrupted, invoice_file_process
from invoicefiles.services.uploads import invoice_file_receive

CHUNK = 1 << 20


def _chunks(path):
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


class Progress:
    """A one-line progress bar on stderr: rows read, rate, elapsed."""

    def __init__(self, stream, enabled: bool):
        self.stream, self.enabled, self.start = stream, enabled, time.monotonic()

    def __call__(self, rows: int) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        rate = rows / elapsed if elapsed else 0
        self.stream.write(f"\r  {rows:>10,} rows  {rate:>9,.0f} rows/s  {elapsed:6.1f} s")
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\n")


class Command(BaseCommand):
    help = "Import a partner's invoice file from disk (deduplicated like an upload)."

    def add_arguments(self, parser):
        parser.add_argument("bid", type=int)
        parser.add_argument("path")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, bid, path, no_progress, **options):
        try:
            biller = biller_get(bid=bid)
            received = invoice_file_receive(
                biller=biller, chunks=_chunks(path), original_name=path, enqueue=False
            )
        except OSError as e:
            raise CommandError(f"Cannot read {path}: {e.strerror}") from None
        except ApplicationError as e:
            raise CommandError(f"{e.message} [{e.code}]") from None
        invoice_file = received.invoice_file
        if received.duplicate and invoice_file.status not in ("queued", "failed"):
            self.stdout.write(
                f"Already received as file {invoice_file.pk} ({invoice_file.status}); "
                "not applied again."
            )
            return
        progress = Progress(sys.stderr, enabled=not no_progress and sys.stderr.isatty())
        try:
            result = invoice_file_process(file_id=invoice_file.pk, progress=progress)
        except KeyboardInterrupt:
            progress.done()
            connection.close()  # it may have been cut in the middle of a statement
            invoice_file_interrupted(file_id=invoice_file.pk)
            raise CommandError(
                f"Interrupted: nothing of file {invoice_file.pk} was applied. "
                "Run the command again to import it."
            ) from None
        progress.done()
        if result is None:
            self.stdout.write(f"File {invoice_file.pk} is being processed by a worker.")
            return
        self.stdout.write(
            f"File {result.pk}: {result.status}, encoding {result.encoding}, "
            f"{result.rows} rows, {result.accepted} accepted, {result.rejected} rejected, "
            f"{result.invoice_count} invoices, total {result.total_amount}."
        )
        for warning in result.warnings:
            self.stdout.write(f"  warning: {warning}")
        for error in result.errors.all()[:20]:
            self.stdout.write(f"  line {error.line} {error.field}: {error.message}")
        if result.status == "failed":
            raise CommandError(f"{result.error_message} [{result.error_code}]")
