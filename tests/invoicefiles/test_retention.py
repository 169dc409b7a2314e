"""A finished file's bytes are deleted after ICI_INVOICE_FILE_KEEP_DAYS; what became
of it stays, and the same bytes sent again are still recognised."""

import datetime

from django.urls import reverse
from django.utils import timezone

from billers.models import Invoice
from invoicefiles.models import InvoiceFile
from invoicefiles.services.retention import invoice_files_prune
from invoicefiles.services.storage import files_dir
from invoicefiles.tasks import sweep_task
from tests.support.invoicefiles import imt_file, imt_row

URL = "/api/v1/billers/1367/invoice-files"


def finished_days_ago(invoice_file, days):
    InvoiceFile.objects.filter(pk=invoice_file.pk).update(
        finished_at=timezone.now() - datetime.timedelta(days=days)
    )


def stored(invoice_file):
    invoice_file.refresh_from_db()
    return [
        name
        for name in (invoice_file.path, invoice_file.bif_path)
        if name and (files_dir() / name).is_file()
    ]


def test_an_old_files_bytes_go_and_what_became_of_it_stays(upload, api, settings):
    settings.ICI_INVOICE_FILE_KEEP_DAYS = 30
    old = upload(imt_file(imt_row("INV001"), imt_row("INV002", amount="x")), name="old.txt")
    recent = upload(imt_file(imt_row("INV003")), name="recent.txt")
    old_bytes = [files_dir() / old.path, files_dir() / old.bif_path]
    finished_days_ago(old, 31)
    finished_days_ago(recent, 29)

    assert invoice_files_prune() == 1

    assert not any(path.exists() for path in old_bytes)
    assert len(stored(recent)) == 2
    status = api.get(f"{URL}/{old.pk}").json()
    assert (status["status"], status["accepted"], status["rejected"]) == ("done", 1, 1)
    assert status["errors"][0]["line"] == 3
    bif = api.get(f"{URL}/{old.pk}/bif")
    assert bif.status_code == 404 and "no longer kept" in bif.json()["message"]
    assert invoice_files_prune() == 0


def test_the_same_bytes_sent_again_after_are_still_not_applied_twice(upload, api, settings):
    settings.ICI_INVOICE_FILE_KEEP_DAYS = 30
    content = imt_file(imt_row("INV001", amount="4.00"))
    first = upload(content)
    finished_days_ago(first, 31)
    invoice_files_prune()
    Invoice.objects.filter(invoice_number="INV001").update(balance_due="1.00")

    again = upload(content)

    assert again.pk == first.pk
    assert str(Invoice.objects.get(invoice_number="INV001").balance_due) == "1.00"


def test_a_failed_file_sent_again_after_its_bytes_went_is_processed(upload, imt_biller, settings):
    settings.ICI_INVOICE_FILE_KEEP_DAYS = 30
    imt_biller.field_mappings.filter(file_spec_id=13).update(partner_field="amount")
    content = imt_file(imt_row("INV001"))
    failed = upload(content)
    finished_days_ago(failed, 31)
    assert invoice_files_prune() == 1 and stored(failed) == []
    imt_biller.field_mappings.filter(file_spec_id=13).update(partner_field="amount_due")

    again = upload(content)

    assert again.pk == failed.pk
    assert (again.status, again.accepted, again.pruned_at) == ("done", 1, None)
    assert Invoice.objects.filter(invoice_number="INV001").exists()


def test_the_admin_does_not_queue_again_a_failed_file_whose_bytes_went(
    admin_client, upload, imt_biller, settings
):
    settings.ICI_INVOICE_FILE_KEEP_DAYS = 30
    imt_biller.field_mappings.filter(file_spec_id=13).update(partner_field="amount")
    failed = upload(imt_file(imt_row("INV001")))
    finished_days_ago(failed, 31)
    invoice_files_prune()
    imt_biller.field_mappings.filter(file_spec_id=13).update(partner_field="amount_due")

    response = admin_client.post(
        reverse("admin:invoicefiles_invoicefile_changelist"),
        {"action": "queue_again", "_selected_action": [failed.pk]},
        follow=True,
    )

    assert "the partner must send it again" in response.content.decode()
    assert InvoiceFile.objects.get(pk=failed.pk).status == "failed"


def test_files_still_at_work_and_a_zero_setting_keep_their_bytes(upload, settings):
    invoice_file = upload(imt_file(imt_row("INV001")))
    finished_days_ago(invoice_file, 400)
    settings.ICI_INVOICE_FILE_KEEP_DAYS = 0
    assert invoice_files_prune() == 0
    settings.ICI_INVOICE_FILE_KEEP_DAYS = 30
    InvoiceFile.objects.filter(pk=invoice_file.pk).update(status="processing")
    assert invoice_files_prune() == 0
    assert len(stored(invoice_file)) == 2


def test_the_scheduled_sweep_prunes_too(upload, settings):
    settings.ICI_INVOICE_FILE_KEEP_DAYS = 30
    invoice_file = upload(imt_file(imt_row("INV001")))
    finished_days_ago(invoice_file, 31)

    assert sweep_task() == {"enqueued": 0, "pruned": 1, "orphans": 0}
    assert stored(invoice_file) == []
