"""The payment API for the payer site: accept a payment, read where it stands,
void it or report its ACH return. Thin: the services decide."""

import uuid

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from icintegrations.errors import ErrorCode, NotFoundError
from icintegrations.fields import CanonicalUUIDField, MoneyField, OffsetDateTimeField
from icintegrations.schema import error_responses, printable_pattern
from partners.apis import BID_PARAMETER
from partners.selectors import biller_for_client
from payments.models import Payment, PaymentStatus, ReversalKind
from payments.nacha import RETURN_CODES
from payments.selectors import payment_attempts, payment_for_biller, payment_hold
from payments.services.payments import (
    ACCEPT_CONFLICTS,
    ACCEPT_REFUSALS,
    SEED_PAYMENT_SOURCES,
    PaymentIn,
    payment_accept,
)
from payments.services.reversals import (
    ACH_RETURN_REFUSALS,
    REVERSAL_CONFLICTS,
    reversal_record,
)


class PrintableCharField(serializers.CharField):
    """Text without control or other unprintable characters."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value and not value.isprintable():
            raise serializers.ValidationError("Only printable characters.")
        return value


class PrintableCharFieldExtension(OpenApiSerializerFieldExtension):
    """The schema of a PrintableCharField: its lengths and the printable pattern."""

    target_class = PrintableCharField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema: dict = {"type": "string"}
        if not field.allow_blank:
            schema["minLength"] = 1
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
        schema["pattern"] = printable_pattern(blank=field.allow_blank)
        return schema


@extend_schema_field(
    {
        "type": "string",
        "minLength": 1,
        "maxLength": 32,
        "pattern": printable_pattern(blank=False),
        "example": SEED_PAYMENT_SOURCES[0],
    }
)
class PaymentSourceField(PrintableCharField):
    """A payment source code: a string, not an enum (each biller lists its own)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# The errors of each operation besides every operation's (icintegrations.schema),
# their codes the services' own.
_BILLER = {404: (ErrorCode.BILLER_NOT_FOUND,)}
_PAYMENT = {404: (ErrorCode.BILLER_NOT_FOUND, ErrorCode.PAYMENT_NOT_FOUND)}
CREATE_ERRORS = error_responses(
    _BILLER, {409: ACCEPT_CONFLICTS, 422: ACCEPT_REFUSALS}, json_body=True
)
DETAIL_ERRORS = error_responses(_PAYMENT)
VOID_ERRORS = error_responses(_PAYMENT, {409: REVERSAL_CONFLICTS}, json_body=True)
ACH_RETURN_ERRORS = error_responses(
    _PAYMENT, {409: REVERSAL_CONFLICTS, 422: ACH_RETURN_REFUSALS}, json_body=True
)


class PaymentInSerializer(serializers.Serializer):
    payment_guid = CanonicalUUIDField(help_text="The provider's id of the payment.")
    invoice_number = PrintableCharField(max_length=100)
    account_number = PrintableCharField(max_length=100)
    amount = MoneyField(signed=True, help_text='Without the service fee, e.g. "25.00".')
    service_fee = MoneyField(help_text='The payer\'s fee, e.g. "1.95".')
    payment_source = PaymentSourceField(
        max_length=32,
        help_text="One of the codes of the biller's setting 64 (card) or 65 (bank); the "
        f"documents' are {', '.join(SEED_PAYMENT_SOURCES)}. Another code: 422 "
        "payment_source_not_accepted.",
    )
    approval_code = PrintableCharField(max_length=100, allow_blank=True, default="")
    payer_name = PrintableCharField(max_length=200, allow_blank=True, default="")
    paid_at = OffsetDateTimeField(help_text="ISO 8601 with its UTC offset, from 2000-01-01 on.")


class AttemptSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="post, snapshot (read before it) or read_back.")
    started_at = serializers.DateTimeField()
    outcome = serializers.CharField(help_text="success, rejected, not_sent, unknown; '' running.")
    status_code = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.FloatField(allow_null=True)
    receipt_number = serializers.CharField()
    message = serializers.CharField()


class PaymentOutSerializer(serializers.Serializer):
    payment_guid = serializers.UUIDField()
    status = serializers.ChoiceField(choices=PaymentStatus.choices)
    biller = serializers.IntegerField(source="biller.bid")
    invoice_number = serializers.CharField()
    amount = serializers.CharField()
    method = serializers.CharField(help_text="card or bank (settings 64 and 65).")
    receipt_number = serializers.CharField(help_text="The partner's receipt, once posted.")
    reversal = serializers.SerializerMethodField()

    def get_reversal(self, payment) -> dict | None:
        reversal = getattr(payment, "reversal", None)
        if reversal is None:
            return None
        return {
            "kind": reversal.kind,
            "return_code": reversal.return_code,
            "status": reversal.status,
            "created_at": serializers.DateTimeField().to_representation(reversal.created_at),
        }


class PaymentDetailSerializer(PaymentOutSerializer):
    attempts = AttemptSerializer(many=True)
    hold = serializers.CharField(
        allow_null=True,
        help_text='"partner_auth_failed": the partner refused the biller\'s credentials '
        "(401/403) and the payment is held (status stays pending; it is posted once the "
        "credentials work again, never rejected for them). null otherwise.",
    )


def _payment_of(request, bid: int, guid: str) -> Payment:
    biller = biller_for_client(client_id=request.user.pk, bid=bid)
    try:
        payment_guid = uuid.UUID(guid)
    except ValueError:
        raise NotFoundError(f"No payment {guid}.", code=ErrorCode.PAYMENT_NOT_FOUND) from None
    return payment_for_biller(biller=biller, payment_guid=payment_guid)


class PaymentCreateApi(APIView):
    @extend_schema(
        operation_id="payment_create",
        parameters=[BID_PARAMETER],
        request=PaymentInSerializer,
        responses={202: PaymentOutSerializer, **CREATE_ERRORS},
        description="Accept a payment for delivery to the biller's partner. Idempotent on "
        "payment_guid: the same request again answers with the same payment (header "
        "Idempotent-Replayed: true); another request under the same GUID is a 409. A payment "
        "the biller's policy refuses is a 422 whose code names the rule. The amount may not "
        "exceed the invoice's open balance (the lookup's balance_due: the partner's figure "
        "minus pending_payments) plus the biller's overpayment_allowance "
        "(amount_exceeds_balance, with balance_due in extra), nor the biller's "
        "maximum_payment (amount_above_maximum, checked first).",
    )
    def post(self, request, bid: int):
        biller = biller_for_client(client_id=request.user.pk, bid=bid)
        serializer = PaymentInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment, created = payment_accept(
            biller=biller, data=PaymentIn(**serializer.validated_data)
        )
        response = Response(PaymentOutSerializer(payment).data, status=status.HTTP_202_ACCEPTED)
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response


class PaymentDetailApi(APIView):
    @extend_schema(
        operation_id="payment_detail",
        parameters=[BID_PARAMETER],
        responses={200: PaymentDetailSerializer, **DETAIL_ERRORS},
        description="Where a payment stands, with every partner call its delivery made.",
    )
    def get(self, request, bid: int, guid: str):
        payment = _payment_of(request, bid, guid)
        data = PaymentOutSerializer(payment).data
        data["attempts"] = AttemptSerializer(payment_attempts(payment=payment), many=True).data
        data["hold"] = payment_hold(payment=payment)
        return Response(data)


class ReversalOutSerializer(serializers.Serializer):
    payment_guid = serializers.UUIDField(source="payment.payment_guid")
    kind = serializers.CharField()
    return_code = serializers.CharField()
    status = serializers.CharField(
        help_text="pending (going to the partner), delivered, to_apply (the biller applies it "
        "in its own system), applied, not_needed (the partner never took the payment)."
    )
    created_at = serializers.DateTimeField()


class VoidInSerializer(serializers.Serializer):
    reason = PrintableCharField(max_length=500, allow_blank=True, default="")


class AchReturnInSerializer(serializers.Serializer):
    return_code = serializers.CharField(max_length=3, help_text="NACHA code, e.g. R01.")
    reason = PrintableCharField(max_length=500, allow_blank=True, default="")


class _ReversalApi(APIView):
    kind = ""
    input_serializer: type[serializers.Serializer] = VoidInSerializer

    def post(self, request, bid: int, guid: str):
        payment = _payment_of(request, bid, guid)
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reversal, created = reversal_record(
            payment=payment, kind=self.kind, **serializer.validated_data
        )
        response = Response(ReversalOutSerializer(reversal).data, status=status.HTTP_202_ACCEPTED)
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response


class PaymentVoidApi(_ReversalApi):
    kind = ReversalKind.VOID

    @extend_schema(
        operation_id="payment_void",
        parameters=[BID_PARAMETER],
        request=VoidInSerializer,
        responses={202: ReversalOutSerializer, **VOID_ERRORS},
        description="Void a payment. Where the partner has no reversal call, the void is "
        "listed for the biller as 'to apply in your system'.",
    )
    def post(self, request, bid: int, guid: str):
        return super().post(request, bid, guid)


class PaymentAchReturnApi(_ReversalApi):
    kind = ReversalKind.ACH_RETURN
    input_serializer = AchReturnInSerializer

    @extend_schema(
        operation_id="payment_ach_return",
        parameters=[BID_PARAMETER],
        request=AchReturnInSerializer,
        responses={202: ReversalOutSerializer, **ACH_RETURN_ERRORS},
        description="Report the ACH return of a bank payment, with its NACHA code "
        f"({', '.join(list(RETURN_CODES)[:3])}, ...), up to 60 days after the payment.",
    )
    def post(self, request, bid: int, guid: str):
        return super().post(request, bid, guid)
