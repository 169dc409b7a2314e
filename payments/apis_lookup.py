"""The payer site's invoice lookup (RTDR): partners' lookup, answered with the
open balance, the partner's figure net of the payments the hub accepted. It
lives here, not in partners, because partners may not read payments."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

import icintegrations.schema  # noqa: F401 - registers the bearer scheme
from partners.apis import (
    BID_PARAMETER,
    INVOICE_NUMBER_PARAMETER,
    LOOKUP_ERRORS,
    ZIP_PARAMETER,
    InvoiceSerializer,
    invoice_data,
    lookup_checked,
)
from partners.selectors import biller_for_client
from partners.services.rtdr import invoice_lookup
from payments.selectors import invoice_open_balance


class InvoiceLookupApi(APIView):
    throttle_scope = "rtdr"

    @extend_schema(
        operation_id="invoice_lookup",
        summary="Look an invoice up in real time (RTDR)",
        description="The invoice as the partner has it, with balance_due net of the payments "
        "the hub accepted that the partner's figure cannot include yet (pending_payments).",
        parameters=[BID_PARAMETER, INVOICE_NUMBER_PARAMETER, ZIP_PARAMETER],
        responses={200: InvoiceSerializer, **LOOKUP_ERRORS},
    )
    def get(self, request, bid: int, invoice_number: str):
        invoice_number, zip_code = lookup_checked(invoice_number, request.query_params.get("zip"))
        biller = biller_for_client(client_id=request.user.pk, bid=bid)
        result = invoice_lookup(biller=biller, invoice_number=invoice_number, zip_code=zip_code)
        invoice = result.invoice
        balance = invoice_open_balance(
            invoice_id=invoice.id,
            balance_due=invoice.balance_due,
            refreshed_at=invoice.refreshed_at,
        )
        return Response(
            invoice_data(
                result, balance_due=balance.balance_due, pending_payments=balance.pending_payments
            )
        )
