from django.core.exceptions import ValidationError

from billers.models import Biller
from icintegrations.errors import NotFoundError
from invoicefiles.models import InvoiceFile, InvoiceFileError


def invoice_file_get(*, biller: Biller, file_id) -> InvoiceFile:
    try:
        return InvoiceFile.objects.get(biller=biller, pk=file_id)
    except (InvoiceFile.DoesNotExist, ValueError, ValidationError):
        raise NotFoundError(
            f"No invoice file {file_id} for BID {biller.bid}.", code="invoice_file_not_found"
        ) from None


def invoice_file_errors(*, invoice_file: InvoiceFile) -> list[dict]:
    return list(
        InvoiceFileError.objects.filter(invoice_file=invoice_file)
        .order_by("line", "id")
        .values("line", "field", "message")
    )
