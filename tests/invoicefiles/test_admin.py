"""Invoice files in the admin: a Solutions Engineer sees what an upload became, its
refused rows and its BIF, and queues a failed file again once the mapping is fixed."""

import uuid

from django.urls import reverse

from invoicefiles.models import InvoiceFile
from invoicefiles.services.storage import files_dir
from tests.support.invoicefiles import imt_file, imt_row


def change_url(invoice_file):
    return reverse("admin:invoicefiles_invoicefile_change", args=[invoice_file.pk])


def bif_url(invoice_file_id):
    return reverse("admin:invoicefiles_invoicefile_bif", args=[invoice_file_id])


def test_a_file_its_refused_rows_and_its_bif(admin_client, upload):
    invoice_file = upload(
        imt_file(imt_row("INV001"), imt_row("INV002", amount="lots")), name="october.txt"
    )

    listing = admin_client.get(reverse("admin:invoicefiles_invoicefile_changelist"))
    page = admin_client.get(change_url(invoice_file))
    bif = admin_client.get(bif_url(invoice_file.pk))

    assert listing.status_code == 200
    assert "october.txt" in listing.content.decode()
    text = page.content.decode()
    assert page.status_code == 200
    assert "<td>3</td><td>amount_due</td>" in text  # line 3 (the header is line 1)
    assert "Download the BIF" in text
    assert bif.status_code == 200 and "no-store" in bif["Cache-Control"]
    body = b"".join(bif.streaming_content).decode()
    assert body.startswith("FH|") and "INV001" in body and "INV002" not in body


def test_a_file_without_a_bif_has_no_download(admin_client, upload, imt_biller):
    imt_biller.field_mappings.filter(file_spec_id=13).update(partner_field="amount")
    failed = upload(imt_file(imt_row("INV001")))
    assert failed.status == "failed"

    assert "Download the BIF" not in admin_client.get(change_url(failed)).content.decode()
    assert admin_client.get(bif_url(failed.pk)).status_code == 404
    assert admin_client.get(bif_url(uuid.uuid4())).status_code == 404
    assert admin_client.get(bif_url("not-a-uuid")).status_code == 404


def test_a_failed_file_is_queued_again_once_the_mapping_is_fixed(
    admin_client, upload, imt_biller, django_capture_on_commit_callbacks
):
    imt_biller.field_mappings.filter(file_spec_id=13).update(partner_field="amount")
    failed = upload(imt_file(imt_row("INV001")))
    done = upload(imt_file(imt_row("INV002"), imt_row("INV003")), name="other.txt")
    imt_biller.field_mappings.filter(file_spec_id=13).update(partner_field="amount_due")
    done.refresh_from_db()
    assert (failed.error_code, done.status) == ("missing_column", "failed")
    InvoiceFile.objects.filter(pk=done.pk).update(status="done")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:invoicefiles_invoicefile_changelist"),
            {"action": "queue_again", "_selected_action": [failed.pk, done.pk]},
            follow=True,
        )

    text = response.content.decode()
    assert "1 file(s) queued again." in text
    assert "1 file(s) left as they are" in text
    failed.refresh_from_db()
    assert (failed.status, failed.accepted, failed.error_code) == ("done", 1, "")
    assert InvoiceFile.objects.get(pk=done.pk).accepted == 0  # not processed again


def test_nothing_is_edited_or_deleted_by_hand(admin_client, upload):
    invoice_file = upload(imt_file(imt_row("INV001")))

    assert admin_client.get(reverse("admin:invoicefiles_invoicefile_add")).status_code == 403
    edit = admin_client.post(change_url(invoice_file), {"status": "failed"})
    delete = admin_client.post(
        reverse("admin:invoicefiles_invoicefile_delete", args=[invoice_file.pk])
    )

    assert edit.status_code == 403 and delete.status_code == 403
    assert InvoiceFile.objects.get(pk=invoice_file.pk).status == "done"


def test_the_api_answers_404_when_the_bif_is_no_longer_kept(upload, api):
    invoice_file = upload(imt_file(imt_row("INV001")))
    (files_dir() / invoice_file.bif_path).unlink()

    response = api.get(f"/api/v1/billers/1367/invoice-files/{invoice_file.pk}/bif")

    assert response.status_code == 404
    assert response.json()["code"] == "bif_not_available"
    assert "no longer kept" in response.json()["message"]
