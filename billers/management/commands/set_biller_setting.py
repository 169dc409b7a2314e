import sys

from django.core.management.base import BaseCommand, CommandError

from billers.selectors import biller_get
from billers.services.settings import biller_setting_set
from icintegrations.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Set one Advanced Setting of one biller, with the admin's validation. "
        "Give VALUE as - to read it from standard input (use this for secrets, so "
        "that they stay out of shell history and the process list)."
    )

    def add_arguments(self, parser):
        parser.add_argument("bid", type=int, metavar="BID")
        parser.add_argument("setting_id", type=int, metavar="SETTING_ID")
        parser.add_argument("value", metavar="VALUE")

    def handle(self, *args, bid, setting_id, value, **options):
        if value == "-":
            value = sys.stdin.read().rstrip("\r\n")
        try:
            biller = biller_get(bid=bid)
            setting = biller_setting_set(biller=biller, setting_id=setting_id, value=value)
        except ApplicationError as e:
            raise CommandError(str(e)) from None
        shown = "(secret, set)" if setting.setting.is_secret else setting.value
        self.stdout.write(f"Biller {biller.bid}: setting {setting_id} = {shown}")
