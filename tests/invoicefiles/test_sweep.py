"""An accepted file is never left waiting: the sweep enqueues again a file whose task
was lost or whose worker died, and an interrupted import can be run again at once."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_q.models import Schedule

from billers.models import Invoice
from invoicefiles.models import InvoiceFile
from invoicefiles.services import processing
from invoicefiles.services.uploads import invoice_files_sweep
from tests.support.invoicefiles import imt_file, imt_row


@pytest.fixture
def broker_down(monkeypatch):
    """django-q2's broker refuses tasks until `.up()`."""

    class Broker:
        calls = 0

        def up(self):
            monkeypatch.undo()

    broker = Broker()

    def refuse(*args, **kwargs):
        broker.calls += 1
        raise ConnectionError("broker down")

    monkeypatch.setattr("django_q.tasks.async_task", refuse)
    return broker


def ago(**kwargs):
    return timezone.now() - datetime.timedelta(**kwargs)


def test_a_file_whose_task_was_never_made_is_processed_by_the_sweep(upload, broker_down):
    invoice_file = upload(imt_file(imt_row("INV001")))
    assert invoice_file.status == "queued" and invoice_file.enqueued_at is None
    assert invoice_files_sweep() == 0  # just received: its task may be on its way
    broker_down.up()
    InvoiceFile.objects.filter(pk=invoice_file.pk).update(created_at=ago(minutes=16))

    assert invoice_files_sweep() == 1

    invoice_file.refresh_from_db()
    assert invoice_file.status == "done" and invoice_file.accepted == 1
    assert Invoice.objects.filter(invoice_number="INV001").count() == 1
    assert invoice_files_sweep() == 0


def test_a_file_whose_task_was_lost_in_the_queue_is_enqueued_again(upload, broker_down):
    invoice_file = upload(imt_file(imt_row("INV001")))
    broker_down.up()
    InvoiceFile.objects.filter(pk=invoice_file.pk).update(enqueued_at=ago(minutes=1))
    assert invoice_files_sweep() == 0  # a task handed over a minute ago may still be waiting
    InvoiceFile.objects.filter(pk=invoice_file.pk).update(enqueued_at=ago(minutes=16))

    assert invoice_files_sweep() == 1

    assert InvoiceFile.objects.get(pk=invoice_file.pk).status == "done"


def test_a_file_whose_worker_died_is_processed_again_once_its_time_is_up(
    upload, broker_down, settings
):
    dead = upload(imt_file(imt_row("INV001")), name="dead.txt")
    running = upload(imt_file(imt_row("INV002")), name="running.txt")
    broker_down.up()
    long_ago = ago(seconds=settings.ICI_INVOICE_FILE_TASK_TIMEOUT + 60)
    InvoiceFile.objects.filter(pk=dead.pk).update(
        status="processing", started_at=long_ago, enqueued_at=long_ago, created_at=long_ago
    )
    InvoiceFile.objects.filter(pk=running.pk).update(
        status="processing", started_at=ago(minutes=5), enqueued_at=long_ago
    )

    assert invoice_files_sweep() == 1

    dead.refresh_from_db()
    running.refresh_from_db()
    assert dead.status == "done" and dead.accepted == 1
    assert running.status == "processing"
    assert list(Invoice.objects.values_list("invoice_number", flat=True)) == ["INV001"]


def test_a_refusing_broker_leaves_the_file_to_the_next_sweep(upload, broker_down):
    invoice_file = upload(imt_file(imt_row("INV001")))
    InvoiceFile.objects.filter(pk=invoice_file.pk).update(created_at=ago(minutes=16))

    assert invoice_files_sweep() == 1  # tried, and refused

    invoice_file.refresh_from_db()
    assert invoice_file.status == "queued" and invoice_file.enqueued_at is None
    assert broker_down.calls == 2  # the upload's, the sweep's
    broker_down.up()
    assert invoice_files_sweep() == 1
    assert InvoiceFile.objects.get(pk=invoice_file.pk).status == "done"


def test_done_and_failed_files_are_left_alone(upload, broker_down):
    done = upload(imt_file(imt_row("INV001")), name="done.txt")
    failed = upload(imt_file(imt_row("INV002")), name="failed.txt")
    InvoiceFile.objects.filter(pk=done.pk).update(status="done", created_at=ago(days=1))
    InvoiceFile.objects.filter(pk=failed.pk).update(status="failed", created_at=ago(days=1))
    broker_down.up()

    assert invoice_files_sweep() == 0


def test_the_sweep_is_scheduled_by_the_migrations(db, settings):
    schedule = Schedule.objects.get(name="Invoice file sweep")
    assert schedule.func == "invoicefiles.tasks.sweep_task"
    assert schedule.schedule_type == Schedule.MINUTES and schedule.repeats == -1
    assert schedule.minutes == settings.ICI_INVOICE_FILE_SWEEP_MINUTES


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_import_applies_nothing_and_runs_again_at_once(
    presets, tmp_path, monkeypatch
):
    path = tmp_path / "imt.txt"
    path.write_bytes(imt_file(imt_row("INV001"), imt_row("INV002")))
    merge = processing._merge

    def interrupted(biller, mapper):
        merge(biller, mapper)  # the invoices are written, the transaction not committed
        raise KeyboardInterrupt

    monkeypatch.setattr(processing, "_merge", interrupted)
    with pytest.raises(CommandError, match="Interrupted: nothing of file .* was applied"):
        call_command("import_invoice_file", "1367", str(path), stdout=io.StringIO())

    invoice_file = InvoiceFile.objects.get()
    assert (invoice_file.status, invoice_file.error_code) == ("failed", "interrupted")
    assert not Invoice.objects.exists()
    assert not invoice_file.bif_path

    monkeypatch.undo()
    out = io.StringIO()
    call_command("import_invoice_file", "1367", str(path), stdout=out)

    assert "done, encoding utf-8, 2 rows, 2 accepted" in out.getvalue()
    assert Invoice.objects.count() == 2
