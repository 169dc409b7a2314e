import datetime
import random
import secrets
import time
import uuid
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.utils import timezone

from billers.models import Biller, Invoice
from billers.services.portal_users import portal_user_password_set, portal_user_save
from icintegrations.demo import demo_only
from payments.models import OPEN_STATUSES, Delivery, Payment, PaymentStatus, ReversalKind
from payments.selectors import invoice_open_balance
from payments.services.payments import PaymentIn, PaymentRefused, payment_accept
from payments.services.reversals import reversal_record

PAYERS = ["Ana Lopez", "Ben Okafor", "Chen Wei", "Dana Smith", "Eli Cohen", "Fatima Khan"]
SOURCES = ["Web CC", "IVR CC", "Web Eck", "AutopayCC"]


class Command(BaseCommand):
    help = (
        "Demo only: create (or reset) the biller portal user 'clerk' for every biller with "
        "a fresh password, print it, and give a biller without payments a month of them, "
        "accepted through the payment service and delivered by the running worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="clerk")
        parser.add_argument("--payments", type=int, default=40, help="per biller with invoices")
        parser.add_argument("--wait", type=float, default=30.0, help="seconds for deliveries")

    def handle(self, *args, username, payments, wait, **options):
        demo_only(
            "demo_portal",
            what=f"reset the portal user {username!r}'s password and add demo payments",
        )
        billers = list(Biller.objects.order_by("bid"))
        password = secrets.token_urlsafe(12)
        saved = portal_user_save(
            username=username, password=password, bids=[b.bid for b in billers]
        )
        if not saved.created:  # the demo's clerk gets a fresh password at every start
            portal_user_password_set(user=saved.user, password=password)
        accepted = []
        for biller in billers:
            if not Payment.objects.filter(biller=biller).exists():
                accepted += self._history(biller, payments)
        if accepted:
            self._settle(accepted, wait)
            for payment in Payment.objects.filter(pk__in=accepted[:3], status=PaymentStatus.POSTED):
                reversal_record(payment=payment, kind=ReversalKind.VOID, reason="Demo: card void")
        self.stdout.write(f"Demo portal login: {username} / {password}")

    def _history(self, biller, count) -> list[int]:
        """Up to `count` payments, each within its invoice's open balance (net of
        the demo payments made before it): an invoice paid off is paid no more."""
        rng = random.Random(biller.bid)
        invoices = list(
            Invoice.objects.filter(biller=biller, balance_due__gt=0).select_related("customer")
        )
        open_balance = {
            invoice.pk: invoice_open_balance(
                invoice_id=invoice.pk,
                balance_due=invoice.balance_due,
                refreshed_at=invoice.refreshed_at,
            ).balance_due
            or Decimal("0.00")
            for invoice in invoices
        }
        made = []
        now = timezone.now()
        for n in range(count):
            payable = [invoice for invoice in invoices if open_balance[invoice.pk] > 0]
            if not payable:
                break
            invoice = rng.choice(payable)
            due = open_balance[invoice.pk]
            paid_at = now - datetime.timedelta(days=rng.randint(0, 29), minutes=rng.randint(0, 600))
            amount = min(due, Decimal(rng.randint(100, 900)) / 100)
            for value in (amount, due):  # a part of it, or (paying in full only) all of it
                data = PaymentIn(
                    payment_guid=uuid.uuid4(),
                    invoice_number=invoice.invoice_number,
                    account_number=invoice.customer.account_number,
                    amount=value,
                    service_fee=Decimal("1.95"),
                    payment_source=SOURCES[n % len(SOURCES)],
                    approval_code=f"{rng.randint(100000, 999999)}",
                    payer_name=rng.choice(PAYERS),
                    paid_at=paid_at,
                )
                try:
                    payment, _ = payment_accept(biller=biller, data=data)
                except PaymentRefused:
                    continue
                made.append(payment.pk)
                open_balance[invoice.pk] = due - value
                break
            else:
                open_balance[invoice.pk] = Decimal("0.00")  # refused whole: leave it alone
        self.stdout.write(f"Biller {biller}: {len(made)} demo payments accepted")
        return made

    def _settle(self, payment_ids, wait):
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not Delivery.objects.filter(
                payment_id__in=payment_ids, status__in=OPEN_STATUSES
            ).exists():
                return
            time.sleep(0.5)
        self.stdout.write("Some demo payments are still being delivered.")
