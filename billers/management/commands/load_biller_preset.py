from django.core.management.base import BaseCommand, CommandError

from billers.services.preset_install import biller_preset_install
from billers.services.presets import preset_names
from icintegrations.demo import demo_only
from icintegrations.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Load biller presets (billers/presets/<name>.json): the biller, its settings, "
        "options, customizations, invoice types and field mapping. A preset creates a "
        "biller that does not exist; for one that exists it prints the differences and "
        "changes nothing unless --force is given. Secret settings come from the "
        "environment variables each preset names."
    )

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", metavar="NAME", help="preset names (default: all)")
        parser.add_argument(
            "--force",
            action="store_true",
            help="write the preset's values over an existing biller's (admin edits are lost)",
        )

        parser.add_argument(
            "--activate",
            action="store_true",
            help="make the biller it creates (or forces) active, bypassing the go-live "
            "checklist: demo and tests only (ICI_MODE demo or test)",
        )

    def handle(self, *args, names, force, activate, **options):
        if activate:
            demo_only("load_biller_preset --activate", what="activate billers bypassing their "
                      "go-live checklist")  # fmt: skip
        for name in names or preset_names():
            try:
                result = biller_preset_install(name=name, force=force, activate=activate)
            except ApplicationError as e:
                raise CommandError(str(e)) from None
            if result.diff is not None:
                diff = result.diff
                if diff.is_empty:
                    self.stdout.write(f"{name}: biller {diff.bid} already holds the preset")
                else:
                    self.stdout.write(
                        f"{name}: biller {diff.bid} exists and differs from the preset; "
                        "nothing changed (--force writes the preset over it):"
                    )
                    for line in diff.lines()[1:]:
                        if not line.endswith(": no change"):
                            self.stdout.write(f"  {line}")
                continue
            loaded = result.loaded
            assert loaded is not None
            self.stdout.write(
                f"{name}: biller {loaded.biller}: {loaded.created} created, "
                f"{loaded.updated} updated, {loaded.unchanged} unchanged"
            )
            for note in loaded.notes:
                self.stdout.write(f"{name}: {note}")
            if loaded.secrets_missing:
                self.stdout.write(
                    f"{name}: secrets not set (environment variable unset): "
                    + ", ".join(loaded.secrets_missing)
                )
