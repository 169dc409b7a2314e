import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from billers.services.portal_users import portal_user_exists, portal_user_save
from icintegrations.errors import ApplicationError

PASSWORD_ENV = "ICI_PORTAL_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create a biller portal user, or add billers to an existing one (its password is "
        f"neither asked for nor changed). A new user's password is read from {PASSWORD_ENV} "
        "when set, otherwise asked for twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="USERNAME")
        parser.add_argument(
            "--biller", dest="bids", type=int, action="append", required=True, metavar="BID"
        )
        parser.add_argument("--email", default="", help="a new user's email")

    def handle(self, *args, username, bids, email, **options):
        password = None
        if not portal_user_exists(username=username):
            password = self._new_password(options)
        try:
            saved = portal_user_save(username=username, bids=bids, password=password, email=email)
        except ApplicationError as e:
            raise CommandError(str(e)) from None
        user = saved.user
        billers = ", ".join(
            str(m.biller.bid) for m in user.biller_memberships.select_related("biller")
        )
        if saved.created:
            self.stdout.write(f"Portal user {user.username} for billers {billers}.")
        else:
            added = ", ".join(map(str, saved.added)) or "none (it had them all)"
            self.stdout.write(
                f"Portal user {user.username} exists: billers added: {added}; it is now for "
                f"billers {billers}. Its password is unchanged."
            )

    def _new_password(self, options) -> str:
        password = os.environ.get(PASSWORD_ENV, "")
        if password:
            return password
        if not options.get("interactive", True) or not os.isatty(0):
            raise CommandError(f"No password: set {PASSWORD_ENV} or run it in a terminal.")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The passwords differ.")
        return password
