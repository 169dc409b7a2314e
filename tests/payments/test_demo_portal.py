"""`manage.py demo_portal`, which `make demo` runs: a portal login and a month of
payments delivered to the partner's sandbox."""

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from payments.models import Payment, PaymentStatus, ReversalStatus
from tests.support.payments import hub_invoice, pump


def test_demo_portal_gives_a_clerk_a_month_of_delivered_payments(
    imt, imt_sandbox, settings, monkeypatch
):
    from payments.management.commands.demo_portal import Command

    settings.ICI_MODE = "demo"
    # the tests' worker stands in for the demo's running qcluster
    monkeypatch.setattr(Command, "_settle", lambda self, payment_ids, wait: pump())
    # IMT takes payment in full only: one payment per invoice, so one invoice each
    for n in range(8):
        hub_invoice(imt, imt_sandbox, f"DEMO-{n}", balance="500.00")
    out = StringIO()
    call_command("demo_portal", "--payments", "8", stdout=out)

    username, password = out.getvalue().strip().splitlines()[-1].split(": ")[1].split(" / ")
    clerk = authenticate(username=username, password=password)
    assert clerk is not None
    assert {m.biller.bid for m in clerk.biller_memberships.all()} == {1367, 2249}
    payments = Payment.objects.filter(biller=imt)
    assert payments.count() == 8
    assert set(payments.values_list("status", flat=True)) == {PaymentStatus.POSTED}
    # what the sandbox holds: each payment applied once
    assert len(imt_sandbox.ledger.payments) == 8
    # and none beyond what its invoice had open: the partner's balances stay >= 0
    assert all(Decimal(i["amount_due"]) >= 0 for i in imt_sandbox.ledger.invoices.values())
    voids = [p.reversal for p in payments if hasattr(p, "reversal")]
    assert [v.status for v in voids] == [ReversalStatus.TO_APPLY] * 3

    call_command("demo_portal", "--payments", "8", stdout=StringIO())
    assert Payment.objects.filter(biller=imt).count() == 8  # a second start adds none


def test_demo_portal_refuses_outside_the_demo(presets, settings):
    settings.ICI_MODE = "production"
    with pytest.raises(CommandError, match="ICI_MODE=demo"):
        call_command("demo_portal")
