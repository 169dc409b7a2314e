from django.core.management.base import BaseCommand, CommandError

from billers.services.presets import biller_preset_load, preset_names
from icintegrations.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Load biller presets (billers/presets/<name>.json): the biller, its settings, "
        "options, customizations, invoice types and field mapping. Idempotent. "
        "Secret settings come from the environment variables each preset names."
    )

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", metavar="NAME", help="preset names (default: all)")

    def handle(self, *args, names, **options):
        for name in names or preset_names():
            try:
                result = biller_preset_load(name=name)
            except ApplicationError as e:
                raise CommandError(str(e)) from None
            self.stdout.write(
                f"{name}: biller {result.biller}: {result.created} created, "
                f"{result.updated} updated, {result.unchanged} unchanged"
            )
            if result.secrets_missing:
                self.stdout.write(
                    f"{name}: secrets not set (environment variable unset): "
                    + ", ".join(result.secrets_missing)
                )
