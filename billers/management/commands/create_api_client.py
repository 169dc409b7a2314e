from django.core.management.base import BaseCommand, CommandError

from billers.services.api_clients import api_client_save
from icintegrations.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Create an API client scoped to one or more billers, or add billers to an existing "
        "client's scope (its token unchanged). A new token (a new client, or --replace) is "
        "printed alone on the last line; it is stored hashed and cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", metavar="NAME")
        parser.add_argument(
            "--biller", dest="bids", type=int, action="append", required=True, metavar="BID"
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="give the client a new token: the old one stops working at once",
        )

    def handle(self, *args, name, bids, replace, **options):
        try:
            saved = api_client_save(name=name, bids=bids, replace=replace)
        except ApplicationError as e:
            raise CommandError(str(e)) from None
        client = saved.client
        billers = ", ".join(str(b.bid) for b in client.billers.order_by("bid"))
        if saved.created:
            self.stdout.write(f"API client {client.name} for billers {billers}. Its token:")
        else:
            added = ", ".join(map(str, saved.added)) or "none (it had them all)"
            self.stdout.write(
                f"API client {client.name} exists: billers added: {added}; "
                f"it is now for billers {billers}."
            )
            if not client.is_active:
                self.stdout.write("Note: this client is inactive (the admin can activate it).")
        if saved.token:
            if not saved.created:
                self.stdout.write("Its new token (the old one no longer works):")
            self.stdout.write(saved.token)
        else:
            self.stdout.write(
                f"Its token is unchanged ({client.token_prefix}...); --replace issues a new one."
            )
