import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from billers.services.portal_users import portal_user_create
from icintegrations.errors import ApplicationError

PASSWORD_ENV = "ICI_PORTAL_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create a biller portal user (or add billers to one and set its password). The "
        f"password is read from {PASSWORD_ENV} when set, otherwise asked for twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="USERNAME")
        parser.add_argument(
            "--biller", dest="bids", type=int, action="append", required=True, metavar="BID"
        )
        parser.add_argument("--email", default="")

    def handle(self, *args, username, bids, email, **options):
        password = os.environ.get(PASSWORD_ENV, "")
        if not password:
            if not options.get("interactive", True) or not os.isatty(0):
                raise CommandError(f"No password: set {PASSWORD_ENV} or run it in a terminal.")
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords differ.")
        try:
            user = portal_user_create(username=username, password=password, bids=bids, email=email)
        except ApplicationError as e:
            raise CommandError(str(e)) from None
        billers = ", ".join(
            str(m.biller.bid) for m in user.biller_memberships.select_related("biller")
        )
        self.stdout.write(f"Portal user {user.username} for billers {billers}.")
