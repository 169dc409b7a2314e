import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from billers.selectors import biller_document_export, biller_get
from icintegrations.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Export one biller's whole configuration as a JSON document (format 1): the "
        "biller, settings, options, BIF customizations, invoice types and field "
        "mapping. Secrets are never exported, only whether each is set."
    )

    def add_arguments(self, parser):
        parser.add_argument("bid", type=int, metavar="BID")
        parser.add_argument("--output", metavar="FILE", help="write to FILE (default: stdout)")

    def handle(self, *args, bid, output, **options):
        try:
            biller = biller_get(bid=bid)
        except ApplicationError as e:
            raise CommandError(str(e)) from None
        text = json.dumps(biller_document_export(biller=biller), indent=2, ensure_ascii=False)
        if output:
            Path(output).write_text(text + "\n", encoding="utf-8")
            self.stderr.write(f"Biller {biller}: configuration written to {output}")
        else:
            self.stdout.write(text)
