"""Payments through the API, the same invoice at the partner and in the hub, and
the tests' worker (the pump)."""

import datetime
import uuid
from decimal import Decimal

from django.utils import timezone

from billers.models import RefreshSource
from payments.models import Delivery, Payment
from payments.services.delivery import delivery_run
from tests.billers.factories import CustomerFactory, InvoiceFactory

PEORIA = 2249
IMT = 1367


def hub_invoice(biller, sandbox, number: str, *, balance: str, account: str | None = None,
                fresh: bool = False):  # fmt: skip
    """The same invoice at the partner (its sandbox) and in the hub. `fresh` makes
    the hub's copy a recent RTDR read (the payer just looked it up)."""
    balance = Decimal(balance)
    account, record = sandbox.ledger.add_open_invoice(
        number, balance=balance, account=account or f"C-{number}", name="JOSE L SALAZAR"
    )
    return InvoiceFactory(
        biller=biller,
        customer=CustomerFactory(biller=biller, account_number=account),
        invoice_number=number,
        total_amount_due=balance,
        balance_due=balance,
        raw_payload=record if fresh else None,
        refreshed_at=timezone.now() if fresh else timezone.now() - datetime.timedelta(days=2),
        refreshed_via=RefreshSource.RTDR_REFRESH if fresh else RefreshSource.FILE,
    )


def payment_body(invoice, **overrides) -> dict:
    body = {
        "payment_guid": str(uuid.uuid4()),
        "invoice_number": invoice.invoice_number,
        "account_number": invoice.customer.account_number,
        "amount": f"{invoice.balance_due:.2f}",
        "service_fee": "1.95",
        "payment_source": "Web CC",
        "approval_code": "1234123",
        "payer_name": "Jose L Salazar",
        "paid_at": "2026-11-20T10:15:00-07:00",
    }
    body.update(overrides)
    return body


def pay(client, invoice, **overrides):
    return client.post(
        f"/api/v1/billers/{invoice.biller.bid}/payments",
        payment_body(invoice, **overrides),
        format="json",
    )


def pump(limit: int = 200) -> list[str]:
    """Run every due delivery until none is due (the tests' worker and sweep).
    A delivery held for its biller's credentials is not due."""
    from payments.models import OPEN_STATUSES

    said = []
    for _ in range(limit):
        due = list(
            Delivery.objects.filter(
                status__in=OPEN_STATUSES, next_attempt_at__lte=timezone.now(), held=False
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not due:
            return said
        said += [delivery_run(pk) for pk in due]
    raise AssertionError(f"the pump did not settle: {said[-5:]}")


def payment_of(response) -> Payment:
    return Payment.objects.get(payment_guid=response.json()["payment_guid"])
