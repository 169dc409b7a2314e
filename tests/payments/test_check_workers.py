"""`manage.py check_workers`: a supervisor's way to tell a stalled cluster."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from invoicefiles.models import InvoiceFile
from payments.models import DeliveryStatus
from tests.billers.factories import BillerFactory
from tests.invoicefiles.factories import InvoiceFileFactory
from tests.payments.factories import DeliveryFactory

pytestmark = pytest.mark.django_db


def ago(**kwargs):
    return timezone.now() - datetime.timedelta(**kwargs)


def check(*args):
    out = io.StringIO()
    call_command("check_workers", *args, stdout=out)
    return out.getvalue()


def test_nothing_waiting_is_ok():
    DeliveryFactory(next_attempt_at=ago(minutes=2))  # due, the sweep will take it
    DeliveryFactory(next_attempt_at=ago(hours=3), status=DeliveryStatus.POSTED)
    DeliveryFactory(next_attempt_at=ago(hours=3), status=DeliveryStatus.REVIEW)
    DeliveryFactory(  # a worker holds it
        next_attempt_at=ago(hours=3),
        status=DeliveryStatus.IN_FLIGHT,
        lease_until=timezone.now() + datetime.timedelta(minutes=1),
    )

    assert check() == "ok: nothing due for more than 600 s.\n"


def test_deliveries_due_long_ago_say_the_cluster_stalled():
    DeliveryFactory(next_attempt_at=ago(minutes=25))
    DeliveryFactory(next_attempt_at=ago(minutes=11))
    DeliveryFactory(  # its worker's lease ran out: due again
        next_attempt_at=ago(minutes=40),
        status=DeliveryStatus.IN_FLIGHT,
        lease_until=ago(minutes=30),
    )

    with pytest.raises(CommandError) as raised:
        check()

    assert "3 deliveries due for more than 600 s (the oldest for 40 min)" in str(raised.value)
    assert "restart it" in str(raised.value)
    assert check("--late", "3000") == "ok: nothing due for more than 3000 s.\n"


def test_an_invoice_file_waiting_past_its_time_counts(settings):
    biller = BillerFactory()
    stuck = InvoiceFileFactory(biller=biller, sha256="a" * 64, size=1, path="x.txt")
    late = settings.ICI_INVOICE_FILE_REQUEUE_SECONDS + 601
    InvoiceFile.objects.filter(pk=stuck.pk).update(created_at=ago(seconds=late))

    with pytest.raises(CommandError, match="1 invoice file waiting past its time"):
        check()

    InvoiceFile.objects.filter(pk=stuck.pk).update(enqueued_at=ago(minutes=1))
    assert check().startswith("ok")


def test_a_window_shorter_than_the_sweep_is_refused():
    with pytest.raises(CommandError, match="at least 60 seconds"):
        check("--late", "30")
