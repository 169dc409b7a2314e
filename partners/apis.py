"""RTDR for the payer site: the bill PDF, and what the invoice lookup answers with."""

from decimal import Decimal

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.views import APIView

from icintegrations.api import FileContentNegotiation
from icintegrations.errors import PARTNER_ERRORS, ApplicationError, ErrorCode
from icintegrations.schema import (
    THROTTLED_ERRORS,
    error_responses,
    partner_errors,
    printable_pattern,
)
from partners.selectors import biller_for_client
from partners.services.bill_pdf import bill_pdf_fetch
from partners.services.rtdr import LookupResult


def _money(value) -> str | None:
    return None if value is None else f"{value:.2f}"


INVOICE_NUMBER_MAX = 100
ZIP_MAX = 20


def lookup_checked(invoice_number: str, zip_code: str | None) -> tuple[str, str | None]:
    """Refuse what cannot be an invoice number or a ZIP before any partner call."""
    if (
        not invoice_number.strip()
        or len(invoice_number) > INVOICE_NUMBER_MAX
        or not invoice_number.isprintable()
    ):
        raise ApplicationError(
            "An invoice number is 1 to 100 printable characters.",
            code=ErrorCode.INVALID_INVOICE_NUMBER,
        )
    if zip_code is not None and (len(zip_code) > ZIP_MAX or not zip_code.isprintable()):
        raise ApplicationError(
            "A ZIP is at most 20 printable characters.", code=ErrorCode.INVALID_ZIP
        )
    return invoice_number, zip_code


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    extra = serializers.DictField(required=False)


# Printable, not blank (icintegrations.schema); a path parameter cannot hold a "/".
INVOICE_NUMBER_PATTERN = printable_pattern(blank=False, also_refused="/")
ZIP_PATTERN = printable_pattern(blank=True)

BID_PARAMETER = OpenApiParameter(
    "bid",
    {"type": "integer", "minimum": 0, "maximum": 2147483647},
    OpenApiParameter.PATH,
    description="The biller's BID (e.g. 2249, 1367); 404 biller_not_found for one the API "
    "client is not scoped to.",
)
INVOICE_NUMBER_PARAMETER = OpenApiParameter(
    "invoice_number",
    {
        "type": "string",
        "minLength": 1,
        "maxLength": INVOICE_NUMBER_MAX,
        "pattern": INVOICE_NUMBER_PATTERN,
    },
    OpenApiParameter.PATH,
    description=f"1 to {INVOICE_NUMBER_MAX} printable characters, not all spaces; anything "
    "else is 400 invalid_invoice_number.",
)
ZIP_PARAMETER = OpenApiParameter(
    "zip",
    {"type": "string", "maxLength": ZIP_MAX, "pattern": ZIP_PATTERN},
    description="The customer's ZIP, where the biller requires it as a second factor. At "
    f"most {ZIP_MAX} printable characters; anything else is 400 invalid_zip.",
)
# The errors of the lookup and of the bill PDF, besides every operation's.
LOOKUP_INPUT_ERRORS = {
    400: (ErrorCode.INVALID_INVOICE_NUMBER, ErrorCode.INVALID_ZIP),
    404: (ErrorCode.BILLER_NOT_FOUND, ErrorCode.INVOICE_NOT_FOUND),
}
# The lookup tells every partner error apart (errors.partner_error's default).
LOOKUP_ERRORS = error_responses(
    LOOKUP_INPUT_ERRORS, THROTTLED_ERRORS, partner_errors(PARTNER_ERRORS)
)
# The bill PDF tells these apart (its service's BILL_PDF_ERRORS; a body that is
# not a PDF is partner_bad_response).
BILL_PDF_PARTNER_ERRORS = (
    ErrorCode.PARTNER_AUTH_FAILED,
    ErrorCode.PARTNER_TIMEOUT,
    ErrorCode.PARTNER_BAD_RESPONSE,
)
BILL_PDF_ERRORS = error_responses(
    LOOKUP_INPUT_ERRORS,
    {404: (ErrorCode.BILL_NOT_AVAILABLE,)},
    THROTTLED_ERRORS,
    partner_errors(BILL_PDF_PARTNER_ERRORS),
    json_answer=False,
)


BALANCE_RULE = (
    "What is really left to pay: the partner's balance due minus pending_payments. Null when "
    "the partner gives no balance. Negative when the invoice is overpaid."
)
PENDING_RULE = (
    "Two decimals. The payments the hub accepted on this invoice that the partner's figure "
    "(read at refreshed_at) cannot include yet: those pending or in review, and those posted "
    "by a post that finished after refreshed_at. A payment is never subtracted twice (a "
    "refresh read after its post includes it); one voided or returned before it was sent, "
    "rejected or failed is not subtracted."
)


@extend_schema_serializer(component_name="Invoice")
class InvoiceSerializer(serializers.Serializer):
    """The invoice lookup's answer (the view is payments.apis_lookup.InvoiceLookupApi:
    its open balance reads the hub's payments, which partners may not)."""

    invoice_number = serializers.CharField()
    account_number = serializers.CharField()
    invoice_date = serializers.DateField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    total_amount_due = serializers.CharField(help_text="Two decimals, e.g. 70.00.")
    balance_due = serializers.CharField(allow_null=True, help_text=BALANCE_RULE)
    pending_payments = serializers.CharField(help_text=PENDING_RULE)
    past_due = serializers.CharField(allow_null=True)
    customer = inline_serializer(
        "InvoiceCustomer",
        {
            name: serializers.CharField()
            for name in ("name", "address1", "address2", "city", "state", "zip")
        },
    )
    refreshed_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the partner's figure was read (the start of the read).",
    )
    stale = serializers.BooleanField(
        help_text="True when the partner could not be reached and this is the last known invoice."
    )


def invoice_data(
    result: LookupResult, *, balance_due: Decimal | None, pending_payments: Decimal
) -> dict:
    """A lookup's answer, with the open balance the caller computed."""
    invoice, customer = result.invoice, result.invoice.customer
    return {
        "invoice_number": invoice.invoice_number,
        "account_number": customer.account_number,
        "invoice_date": invoice.invoice_date,
        "due_date": invoice.due_date,
        "total_amount_due": _money(invoice.total_amount_due),
        "balance_due": _money(balance_due),
        "pending_payments": _money(pending_payments),
        "past_due": _money(invoice.past_due),
        "customer": {
            "name": customer.name,
            "address1": customer.address1,
            "address2": customer.address2,
            "city": customer.city,
            "state": customer.state,
            "zip": customer.zip,
        },
        "refreshed_at": invoice.refreshed_at,
        "stale": result.stale,
    }


class BillPdfApi(APIView):
    throttle_scope = "rtdr"
    content_negotiation_class = FileContentNegotiation

    @extend_schema(
        operation_id="invoice_bill_pdf",
        summary="The partner's bill PDF of an invoice, streamed",
        parameters=[BID_PARAMETER, INVOICE_NUMBER_PARAMETER, ZIP_PARAMETER],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **BILL_PDF_ERRORS},
    )
    def get(self, request, bid: int, invoice_number: str):
        invoice_number, zip_code = lookup_checked(invoice_number, request.query_params.get("zip"))
        biller = biller_for_client(client_id=request.user.pk, bid=bid)
        document = bill_pdf_fetch(biller=biller, invoice_number=invoice_number, zip_code=zip_code)
        response = StreamingHttpResponse(document.chunks, content_type="application/pdf")
        if document.length is not None:  # the partner's, checked (partners.services.bill_pdf)
            response["Content-Length"] = str(document.length)
        response["Content-Disposition"] = f'inline; filename="{invoice_number}.pdf"'
        response["Cache-Control"] = "no-store"
        return response
