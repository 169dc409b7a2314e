"""What operators do to deliveries from the admin, each with a required reason
and an OperatorAction row (who, when, why): replay a dead letter, and resolve a
review item by marking it posted or by posting it again, and post a rejected
delivery again (the biller fixed what the partner refused). Nothing posted,
reversed or in flight is posted again."""

from django.db import transaction
from django.utils import timezone

from icintegrations.errors import ErrorCode
from payments.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    OperatorAction,
    Payment,
    PaymentStatus,
    Reversal,
    ReversalStatus,
)
from payments.services.delivery import delivery_enqueue
from payments.services.payments import PaymentRefused

ALLOWED_FROM: dict[str, tuple[DeliveryStatus, ...]] = {
    OperatorAction.Action.REPLAY: (DeliveryStatus.DEAD,),
    OperatorAction.Action.REPOST: (DeliveryStatus.REVIEW,),
    OperatorAction.Action.MARK_POSTED: (DeliveryStatus.REVIEW,),
    OperatorAction.Action.REPOST_REJECTED: (DeliveryStatus.REJECTED,),
}
POSTING = (
    OperatorAction.Action.REPLAY,
    OperatorAction.Action.REPOST,
    OperatorAction.Action.REPOST_REJECTED,
)


def delivery_resolve(
    *, delivery: Delivery, action: str, user, reason: str, receipt_number: str = ""
) -> Delivery:
    """Apply one operator action; PaymentRefused (with a code) if it does not fit."""
    reason = reason.strip()
    if not reason:
        raise PaymentRefused("A reason is required.", code=ErrorCode.REASON_REQUIRED)
    allowed = ALLOWED_FROM.get(action)
    if allowed is None:
        raise PaymentRefused(f"Unknown action {action!r}.", code=ErrorCode.UNKNOWN_ACTION)
    if delivery.status not in allowed:
        raise PaymentRefused(
            f"{OperatorAction.Action(action).label} applies to a delivery in "
            f"{', '.join(allowed)}, not {delivery.status}.",
            code=ErrorCode.WRONG_DELIVERY_STATUS,
        )
    posting = action in POSTING
    if (
        posting
        and delivery.kind == DeliveryKind.PAYMENT
        and Reversal.objects.filter(payment_id=delivery.payment_id).exists()
    ):
        raise PaymentRefused(
            "The payment was voided or returned since; it is not posted again.",
            code=ErrorCode.PAYMENT_REVERSED,
        )
    now = timezone.now()
    with transaction.atomic():
        rows = Delivery.objects.filter(pk=delivery.pk, status=delivery.status)
        if posting:
            changed = rows.update(
                status=DeliveryStatus.PENDING, next_attempt_at=now, attempts=0, reads=0,
                snapshot=None, finished_at=None, updated_at=now,
                last_error=f"{OperatorAction.Action(action).label}: {reason}"[:500],
            )  # fmt: skip
            payment_status = PaymentStatus.PENDING
        else:
            changed = rows.update(
                status=DeliveryStatus.POSTED, finished_at=now, updated_at=now,
                last_error=f"Marked posted: {reason}"[:500],
            )  # fmt: skip
            payment_status = PaymentStatus.POSTED
        if not changed:
            raise PaymentRefused(
                "The delivery changed meanwhile; look again.", code=ErrorCode.CONFLICT
            )
        if delivery.kind == DeliveryKind.PAYMENT:
            changes = {"status": payment_status, "updated_at": now}
            if receipt_number:
                changes["receipt_number"] = receipt_number[:100]
            Payment.objects.filter(pk=delivery.payment_id).update(**changes)
        else:
            # A dead reversal was listed for the biller to apply: posting it again
            # takes it off that list, and one the biller applied is not posted again.
            reversal_status = ReversalStatus.PENDING if posting else ReversalStatus.DELIVERED
            assert delivery.reversal_id is not None  # a reversal's delivery
            reversals = Reversal.objects.filter(pk=delivery.reversal_id)
            if not reversals.exclude(status=ReversalStatus.APPLIED).update(status=reversal_status):
                raise PaymentRefused(
                    "The biller applied this reversal in its own system already.",
                    code=ErrorCode.REVERSAL_APPLIED,
                )
        OperatorAction.objects.create(
            delivery=delivery, action=action, reason=reason[:500],
            receipt_number=receipt_number[:100], user=user,
        )  # fmt: skip
        if posting:
            delivery_enqueue(delivery.pk, request_id=delivery.request_id)
    delivery.refresh_from_db()
    return delivery
