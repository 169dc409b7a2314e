"""Demo-only management commands: they refuse to run outside the demo and the tests.

Such a command rewrites data a production hub lives on (every biller's partner
URLs and secrets, a superuser's password, portal users and payments), so it runs
only with ICI_MODE=demo or ICI_MODE=test, and says why otherwise.
"""

from django.conf import settings
from django.core.management.base import CommandError

DEMO_MODES = ("demo", "test")


def demo_only(command_name: str, *, what: str = "") -> None:
    """Raise CommandError, saying why, unless ICI_MODE is demo or test.
    `what` says what the command would have changed."""
    mode = settings.ICI_MODE
    if mode in DEMO_MODES:
        return
    would = f" It would {what}." if what else ""
    raise CommandError(
        f"{command_name} is for the demo only and refuses to run with ICI_MODE={mode}: "
        f"nothing was changed.{would} It runs only with ICI_MODE=demo (or test)."
    )
