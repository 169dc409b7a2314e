import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from billers.services.config_document import biller_document_apply, biller_document_diff
from billers.services.document_schema import biller_document_parse
from icintegrations.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Import a biller configuration document (as export_biller writes it). Without "
        "--apply it is a dry run: it prints the differences section by section and "
        "changes nothing. With --apply the document is applied all or nothing and "
        "recorded in the audit history. An invalid document is refused with the JSON "
        "path of each problem, and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="the JSON document (- for stdin)")
        parser.add_argument("--apply", action="store_true", help="apply it (default: dry run)")

    def handle(self, *args, file, apply, **options):
        try:
            raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
        except OSError as e:
            raise CommandError(f"Cannot read {file}: {e.strerror}.") from None
        try:
            document = biller_document_parse(text=raw)
            if apply:
                diff = biller_document_apply(document=document)
            else:
                diff = biller_document_diff(document=document)
        except ApplicationError as e:
            problems = e.extra.get("problems") or [e.message]
            raise CommandError(
                f"{file}: refused [{e.code}], nothing changed:\n  " + "\n  ".join(problems)
            ) from None
        for line in diff.lines():
            self.stdout.write(line)
        if apply:
            self.stdout.write(f"Applied: {diff.change_count} change(s) to biller {diff.biller}.")
        else:
            self.stdout.write("Dry run: nothing changed (--apply applies the document).")
