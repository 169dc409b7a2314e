"""The BIF as a download: one answer for the API, the portal and the admin."""

from pathlib import Path

from django.http import FileResponse

from invoicefiles.models import InvoiceFile


def bif_response(*, invoice_file: InvoiceFile, path: Path) -> FileResponse:
    """`path` from invoicefiles.selectors.invoice_file_bif: streamed, never cached."""
    response = FileResponse(
        open(path, "rb"),  # noqa: SIM115 - closed by Django
        content_type="text/plain; charset=utf-8",
        as_attachment=True,
        filename=f"BIF-{invoice_file.biller.bid}-{invoice_file.pk}.txt",
    )
    response["Cache-Control"] = "no-store"
    return response
