"""The BIF as a download: one answer for the API, the portal and the admin."""

from django.http import FileResponse

from invoicefiles.models import InvoiceFile
from invoicefiles.services.storage import stored_open


def bif_response(*, invoice_file: InvoiceFile, name: str) -> FileResponse:
    """`name` from invoicefiles.selectors.invoice_file_bif: streamed from the
    storage, never cached."""
    response = FileResponse(
        stored_open(name),
        content_type="text/plain; charset=utf-8",
        as_attachment=True,
        filename=f"BIF-{invoice_file.biller.bid}-{invoice_file.pk}.txt",
    )
    response["Cache-Control"] = "no-store"
    return response
