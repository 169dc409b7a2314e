import os

from django.core.management.base import BaseCommand, CommandError

from billers.models import Biller, Partner
from icintegrations.demo import demo_only
from icintegrations.errors import ApplicationError
from partners.services.sandboxes import (
    biller_point_at_sandbox,
    demo_invoices_from_imt_sandbox,
)

CREDENTIAL_ENV = {
    Partner.CITIZENSERVE: ("ICI_SANDBOX_CITIZENSERVE_KEY", "sandbox-citizenserve-key"),
    Partner.IMT: ("ICI_SANDBOX_IMT_INTEGRATOR_ID", "sandbox-imt-integrator"),
}


class Command(BaseCommand):
    help = (
        "Point every biller of a partner at that partner's local sandbox (URLs and "
        "credential), for the demo. Demo only: it refuses unless ICI_MODE is demo or test."
    )

    def add_arguments(self, parser):
        parser.add_argument("--citizenserve", metavar="URL", help="e.g. http://127.0.0.1:8101")
        parser.add_argument("--imt", metavar="URL", help="e.g. http://127.0.0.1:8102")
        parser.add_argument(
            "--demo-invoices",
            action="store_true",
            help="also put the IMT sandbox's invoices into the hub, as an invoice file would",
        )

    def handle(self, *args, citizenserve, imt, demo_invoices, **options):
        demo_only(
            "point_billers_at_sandboxes",
            what="rewrite every biller's partner URLs and credentials to the local sandboxes",
        )
        targets = {Partner.CITIZENSERVE: citizenserve, Partner.IMT: imt}
        for partner, url in targets.items():
            if not url:
                continue
            name, default = CREDENTIAL_ENV[partner]
            credential = os.environ.get(name) or default
            for biller in Biller.objects.filter(partner=partner):
                try:
                    biller_point_at_sandbox(biller=biller, sandbox_url=url, credential=credential)
                except ApplicationError as e:
                    raise CommandError(str(e)) from None
                self.stdout.write(f"Biller {biller} now calls the {partner} sandbox at {url}")
                if demo_invoices and partner == Partner.IMT:
                    added = demo_invoices_from_imt_sandbox(biller=biller, sandbox_url=url)
                    self.stdout.write(f"Biller {biller}: {added} demo invoices added")
