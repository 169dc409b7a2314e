"""Voids and ACH returns of accepted payments.

Where the partner has a reversal call (`Connector.supports_reversal`), the
reversal goes out through the pump like a payment. Neither CitizenServe's nor
IMT's documents define one, so for them it is recorded and listed for the
biller as "to apply in your system"; it is never silently dropped.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from billers.zones import day_in_zone, today_in_zone
from icintegrations.errors import ApplicationError, ErrorCode, NotFoundError
from partners.connectors.registry import connector_class
from payments.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    OperatorAction,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Reversal,
    ReversalKind,
    ReversalStatus,
)
from payments.nacha import ACH_RETURN_WINDOW, RETURN_CODES
from payments.services.delivery import delivery_enqueue, delivery_request_id
from payments.services.payments import PaymentConflict, PaymentRefused, request_fingerprint

# Every code an ACH return is refused with (422, PaymentRefused; a void has none
# it can be sent), and the conflict of either; the API's schema lists them.
ACH_RETURN_REFUSALS = (
    ErrorCode.UNKNOWN_RETURN_CODE,
    ErrorCode.NOT_A_BANK_PAYMENT,
    ErrorCode.ACH_RETURN_WINDOW_PASSED,
)
REVERSAL_CONFLICTS = (ErrorCode.ALREADY_REVERSED,)

# A payment in these states never reached the partner's books: nothing to reverse there.
NEVER_POSTED = (PaymentStatus.REJECTED, PaymentStatus.FAILED)


def reversal_record(
    *, payment: Payment, kind: str, return_code: str = "", reason: str = ""
) -> tuple[Reversal, bool]:
    """Record a void or an ACH return; returns (reversal, created). The same
    request again returns the reversal it made; another one is a conflict."""
    return_code = return_code.strip().upper()
    fingerprint = request_fingerprint([kind, return_code, reason])
    existing = Reversal.objects.filter(payment=payment).first()
    if existing is not None:
        return _replayed(existing, fingerprint, payment), False
    if kind == ReversalKind.ACH_RETURN:
        _ach_return_check(payment, return_code)
    elif return_code:
        raise PaymentRefused("A void takes no return code.", code=ErrorCode.UNEXPECTED_RETURN_CODE)
    supported = connector_class(payment.biller.partner).supports_reversal
    try:
        with transaction.atomic():
            if payment.status in NEVER_POSTED or _delivery_cancel(payment):
                status = ReversalStatus.NOT_NEEDED
            elif supported:
                status = ReversalStatus.PENDING
            else:
                status = ReversalStatus.TO_APPLY
            reversal = Reversal.objects.create(
                payment=payment,
                kind=kind,
                return_code=return_code,
                reason=reason[:500],
                status=status,
                request_fingerprint=fingerprint,
            )
            if status == ReversalStatus.PENDING:
                delivery = Delivery.objects.create(
                    kind=DeliveryKind.REVERSAL,
                    payment=payment,
                    reversal=reversal,
                    biller=payment.biller,
                    partner=payment.biller.partner,
                    invoice_number=payment.invoice_number,
                    next_attempt_at=timezone.now(),
                    request_id=delivery_request_id(),
                )
                delivery_enqueue(delivery.pk, request_id=delivery.request_id)
    except IntegrityError:
        existing = Reversal.objects.filter(payment=payment).first()
        if existing is None:
            raise
        return _replayed(existing, fingerprint, payment), False
    return reversal, True


def _replayed(existing: Reversal, fingerprint: str, payment: Payment) -> Reversal:
    """The payment's reversal, if this request is the one that made it; else a conflict."""
    if existing.request_fingerprint != fingerprint:
        raise PaymentConflict(
            f"Payment {existing.payment.payment_guid} already has a {existing.get_kind_display()}.",
            code=ErrorCode.ALREADY_REVERSED,
        )
    return existing


def _delivery_cancel(payment: Payment) -> bool:
    """Stop a payment that has not been sent yet: its delivery waits for its first
    try or a retry of a call the partner never saw, and no worker holds it. The
    same conditional UPDATE as a worker's claim, so exactly one of them wins."""
    now = timezone.now()
    cancelled = Delivery.objects.filter(
        payment=payment,
        kind=DeliveryKind.PAYMENT,
        status=DeliveryStatus.PENDING,
        lease_token__isnull=True,
    ).update(
        status=DeliveryStatus.CANCELLED,
        finished_at=now,
        updated_at=now,
        enqueued_at=None,
        last_error="The payment was reversed before it was sent: not delivered.",
    )
    if cancelled:
        Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.REVERSED, updated_at=now)
        payment.status = PaymentStatus.REVERSED
    return bool(cancelled)


def _ach_return_check(payment: Payment, return_code: str) -> None:
    if return_code not in RETURN_CODES:
        raise PaymentRefused(
            f"{return_code or 'An empty code'} is not a NACHA return code (R01, R02, ...).",
            code=ErrorCode.UNKNOWN_RETURN_CODE,
        )
    if payment.method != PaymentMethod.BANK:
        raise PaymentRefused(
            "Only a bank (ACH) payment can be returned; void a card payment.",
            code=ErrorCode.NOT_A_BANK_PAYMENT,
        )
    # Days of the biller's calendar: the window ends with the 60th day after the
    # day the payment was made, both days in the biller's time zone.
    time_zone = payment.biller.time_zone
    last_day = day_in_zone(payment.paid_at, time_zone=time_zone) + ACH_RETURN_WINDOW
    if today_in_zone(time_zone=time_zone) > last_day:
        raise PaymentRefused(
            f"An ACH return is taken up to {ACH_RETURN_WINDOW.days} days after the payment; "
            f"the last day was {last_day} ({time_zone}).",
            code=ErrorCode.ACH_RETURN_WINDOW_PASSED,
            extra={"last_day": last_day.isoformat(), "time_zone": time_zone},
        )


def reversal_mark_applied(*, reversal: Reversal, user, reason: str) -> Reversal:
    """An operator says the biller applied a reversal in its own system (the admin)."""
    if reversal.status != ReversalStatus.TO_APPLY:
        raise PaymentRefused(
            "Only a reversal waiting to be applied can be marked applied.",
            code=ErrorCode.NOT_TO_APPLY,
        )
    reason = reason.strip()
    if not reason:
        raise PaymentRefused("Say how it was applied.", code=ErrorCode.REASON_REQUIRED)
    if not _mark_applied_once(reversal=reversal, user=user, reason=reason):
        raise NotFoundError("The reversal changed meanwhile.", code=ErrorCode.REVERSAL_CHANGED)
    reversal.refresh_from_db()
    return reversal


@dataclass(frozen=True)
class TickOff:
    """What became of a biller's tick-off: `applied_now` is False when someone
    else had already applied it (then `reversal.applied_by` says who)."""

    reversal: Reversal
    applied_now: bool


PORTAL_NOTE = "Ticked off in the biller portal."
NOTE_MAX = 500
# A note may run over lines; any other control character (NUL, an escape, DEL,
# C1) is refused: it shows as nothing, and PostgreSQL cannot store a NUL.
NOTE_LAYOUT = frozenset("\t\n\r")


def _note_control_character(note: str) -> str | None:
    for char in note:
        if char not in NOTE_LAYOUT and (ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F):
            return char
    return None


def reversal_tick_off(*, reversal: Reversal, user, note: str = "") -> TickOff:
    """Biller staff applied a reversal in their own system and tick it off the
    "to apply" list. Done once: a double click, or two clerks at the same time,
    find it applied and are told by whom, not refused."""
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ApplicationError(
            f"A note is at most {NOTE_MAX} characters ({len(note)} given).",
            code=ErrorCode.NOTE_TOO_LONG,
        )
    if (char := _note_control_character(note)) is not None:
        raise ApplicationError(
            f"A note cannot hold a control character (U+{ord(char):04X} given).",
            code=ErrorCode.INVALID_NOTE,
        )
    applied_now = _mark_applied_once(reversal=reversal, user=user, reason=note or PORTAL_NOTE)
    reversal = Reversal.objects.select_related("payment", "applied_by").get(pk=reversal.pk)
    if not applied_now and reversal.status != ReversalStatus.APPLIED:
        raise ApplicationError(
            f"This {reversal.get_kind_display().lower()} is not waiting to be applied in your "
            f"system: {reversal.get_status_display().lower()}.",
            code=ErrorCode.NOT_TO_APPLY,
            extra={"status": reversal.status},
        )
    return TickOff(reversal=reversal, applied_now=applied_now)


def _mark_applied_once(*, reversal: Reversal, user, reason: str) -> bool:
    """`to_apply` becomes `applied`, with who and when, in one conditional UPDATE:
    of two callers exactly one changes the row (and writes the audit line)."""
    with transaction.atomic():
        changed = Reversal.objects.filter(pk=reversal.pk, status=ReversalStatus.TO_APPLY).update(
            status=ReversalStatus.APPLIED, applied_at=timezone.now(), applied_by=user
        )
        if changed:
            OperatorAction.objects.create(
                reversal=reversal,
                action=OperatorAction.Action.APPLIED,
                reason=reason[:NOTE_MAX],
                user=user,
            )
    return bool(changed)
