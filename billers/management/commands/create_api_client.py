from django.core.management.base import BaseCommand, CommandError

from billers.services.api_clients import api_client_create
from icintegrations.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Create an API client scoped to one or more billers. Prints its bearer token "
        "alone on the last line; it is stored hashed and cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", metavar="NAME")
        parser.add_argument(
            "--biller", dest="bids", type=int, action="append", required=True, metavar="BID"
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="replace a client of the same name: a new token, the old one stops working",
        )

    def handle(self, *args, name, bids, replace, **options):
        try:
            client, token = api_client_create(name=name, bids=bids, replace=replace)
        except ApplicationError as e:
            raise CommandError(str(e)) from None
        billers = ", ".join(str(b.bid) for b in client.billers.order_by("bid"))
        self.stdout.write(f"API client {client.name} for billers {billers}. Its token:")
        self.stdout.write(token)
