"""Accepting a payment from the payer site: the biller's policy, idempotency on
the payment GUID, and the payment written with its delivery in one transaction."""

import datetime
import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from billers.catalog import SettingId
from billers.models import BifCustomization, Biller, Invoice
from icintegrations.errors import ApplicationError, ErrorCode
from partners.selectors import connector_config
from payments.models import Delivery, DeliveryKind, Payment, PaymentMethod
from payments.selectors import invoice_open_balance
from payments.services.delivery import delivery_enqueue, delivery_request_id

# The settings naming the payment sources that are card and bank payments.
_METHOD_SETTINGS = (
    (SettingId.PAYMENTS_CC_CODES, PaymentMethod.CARD),
    (SettingId.PAYMENTS_ACH_CODES, PaymentMethod.BANK),
)
# The codes of the documents' settings 64 and 65: examples only; a biller takes its own.
SEED_PAYMENT_SOURCES = ("Web CC", "IVR CC", "AutopayCC", "Web Eck", "IVR Eck", "AutopayEck")
# A payment stamped this far in the future is refused (clocks drift a little).
CLOCK_SKEW = datetime.timedelta(minutes=5)


# Every code a payment_accept refuses with (422, PaymentRefused), in the order the
# rules run; the API's schema lists them.
ACCEPT_REFUSALS = (
    ErrorCode.AMOUNT_NOT_POSITIVE,
    ErrorCode.PAID_AT_IN_FUTURE,
    ErrorCode.PAYMENT_SOURCE_NOT_ACCEPTED,
    ErrorCode.INVOICE_NOT_FOUND,
    ErrorCode.ACCOUNT_MISMATCH,
    ErrorCode.AMOUNT_ABOVE_MAXIMUM,
    ErrorCode.PARTIAL_PAYMENT_NOT_ALLOWED,
    ErrorCode.BELOW_MINIMUM_AMOUNT_DUE,
    ErrorCode.AMOUNT_EXCEEDS_BALANCE,
)
# ... and with a 409 (PaymentConflict).
ACCEPT_CONFLICTS = (ErrorCode.PAYMENT_GUID_CONFLICT,)


class PaymentRefused(ApplicationError):
    """The biller's policy refuses the payment: the code says which rule."""

    status_code = 422


class PaymentConflict(ApplicationError):
    status_code = 409


@dataclass(frozen=True)
class PaymentIn:
    payment_guid: uuid.UUID
    invoice_number: str
    account_number: str
    amount: Decimal
    service_fee: Decimal
    payment_source: str
    approval_code: str
    payer_name: str
    paid_at: datetime.datetime

    def fingerprint(self, bid: int) -> str:
        """The request as accepted, normalised (amounts to cents, time in UTC)."""
        fields = asdict(self)
        fields.update(
            bid=bid,
            payment_guid=str(self.payment_guid),
            amount=f"{self.amount:.2f}",
            service_fee=f"{self.service_fee:.2f}",
            paid_at=self.paid_at.astimezone(datetime.UTC).isoformat(),
        )
        return request_fingerprint(fields)


def request_fingerprint(value) -> str:
    """What makes two requests the same request: the SHA-256 of their canonical JSON."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def payment_accept(*, biller: Biller, data: PaymentIn) -> tuple[Payment, bool]:
    """Accept a payment for delivery; returns (payment, created).

    The same request again returns the payment it made; another request under a
    used GUID is a PaymentConflict. A payment the biller's policy refuses is a
    PaymentRefused whose code names the rule; nothing is written for it.
    """
    fingerprint = data.fingerprint(biller.bid)
    existing = _existing(data.payment_guid, fingerprint)
    if existing is not None:
        return existing, False
    method, invoice = payment_policy_check(biller=biller, data=data)
    try:
        with transaction.atomic():
            # The balance check and the insert hold the invoice row, so that of two
            # concurrent payments the second sees the first (on SQLite the IMMEDIATE
            # transaction serialises writers already; select_for_update is a no-op there).
            invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
            existing = _existing(data.payment_guid, fingerprint)
            if existing is not None:  # the same request, committed while this one waited
                return existing, False
            payment_balance_check(biller=biller, invoice=invoice, amount=data.amount)
            payment = Payment.objects.create(
                payment_guid=data.payment_guid,
                biller=biller,
                invoice=invoice,
                invoice_number=data.invoice_number,
                account_number=data.account_number,
                amount=data.amount,
                service_fee=data.service_fee,
                payment_source=data.payment_source,
                method=method,
                approval_code=data.approval_code,
                payer_name=data.payer_name,
                paid_at=data.paid_at,
                request_fingerprint=fingerprint,
            )
            delivery = Delivery.objects.create(
                kind=DeliveryKind.PAYMENT,
                payment=payment,
                biller=biller,
                partner=biller.partner,
                invoice_number=data.invoice_number,
                next_attempt_at=timezone.now(),
                request_id=delivery_request_id(),
            )
            delivery_enqueue(delivery.pk, request_id=delivery.request_id)
    except IntegrityError:
        # The same GUID committed by a concurrent request between our read and write.
        existing = _existing(data.payment_guid, fingerprint)
        if existing is None:
            raise
        return existing, False
    return payment, True


def _existing(payment_guid: uuid.UUID, fingerprint: str) -> Payment | None:
    payment = Payment.objects.filter(payment_guid=payment_guid).first()
    if payment is not None and payment.request_fingerprint != fingerprint:
        raise PaymentConflict(
            f"Payment {payment_guid} was accepted with a different request.",
            code=ErrorCode.PAYMENT_GUID_CONFLICT,
        )
    return payment


def payment_method_of(*, biller: Biller, payment_source: str) -> str:
    """Card or bank, by the biller's settings 64 and 65 (pipe-separated codes)."""
    settings = connector_config(biller=biller).settings
    accepted: list[str] = []
    for setting_id, method in _METHOD_SETTINGS:
        codes = [code.strip() for code in (settings.get(setting_id) or "").split("|")]
        if payment_source in codes:
            return method
        accepted += [code for code in codes if code and code not in accepted]
    raise PaymentRefused(
        f"Biller {biller.bid} does not take payments from source {payment_source!r}; it takes "
        f"{', '.join(accepted) or 'none'} (its settings {SettingId.PAYMENTS_CC_CODES} and "
        f"{SettingId.PAYMENTS_ACH_CODES}).",
        code=ErrorCode.PAYMENT_SOURCE_NOT_ACCEPTED,
        extra={"accepted_sources": accepted},
    )


def payment_policy_check(*, biller: Biller, data: PaymentIn) -> tuple[str, Invoice]:
    """The biller's rules, in order; returns the payment's method and its invoice."""
    if data.amount <= 0:
        raise PaymentRefused("The amount must be above zero.", code=ErrorCode.AMOUNT_NOT_POSITIVE)
    if data.paid_at > timezone.now() + CLOCK_SKEW:
        raise PaymentRefused("paid_at is in the future.", code=ErrorCode.PAID_AT_IN_FUTURE)
    method = payment_method_of(biller=biller, payment_source=data.payment_source)
    invoice = (
        Invoice.objects.select_related("customer")
        .filter(biller=biller, invoice_number=data.invoice_number)
        .first()
    )
    if invoice is None:
        raise PaymentRefused(
            f"Biller {biller.bid} has no invoice {data.invoice_number}; look it up first.",
            code=ErrorCode.INVOICE_NOT_FOUND,
        )
    if invoice.customer.account_number != data.account_number:
        raise PaymentRefused(
            f"Invoice {data.invoice_number} is not on account {data.account_number}.",
            code=ErrorCode.ACCOUNT_MISMATCH,
        )
    if data.amount > biller.maximum_payment:
        # Before the balance: a ceiling no allowance lifts, and an answer that does
        # not depend on the invoice or on other payments.
        raise PaymentRefused(
            f"Biller {biller.bid} takes at most {biller.maximum_payment:.2f} in one payment.",
            code=ErrorCode.AMOUNT_ABOVE_MAXIMUM,
            extra={"maximum_payment": f"{biller.maximum_payment:.2f}"},
        )
    return method, invoice


def payment_balance_check(*, biller: Biller, invoice: Invoice, amount: Decimal) -> None:
    """The biller's rules that read the invoice's open balance (README, "The open
    balance"): payment in full, the minimum amount due, no overpayment beyond the
    allowance. Called with the invoice row held, so the balance cannot move meanwhile.
    Without a balance from the partner, none of them applies but the minimum."""
    rules = dict(
        BifCustomization.objects.filter(
            biller=biller, name__in=("AllowPartialPayments", "MinimumAmountDue")
        ).values_list("name", "value")
    )
    open_balance = invoice_open_balance(
        invoice_id=invoice.pk, balance_due=invoice.balance_due, refreshed_at=invoice.refreshed_at
    )
    balance = open_balance.balance_due
    if rules.get("AllowPartialPayments") == "No" and balance is not None and amount < balance:
        raise PaymentRefused(
            f"Biller {biller.bid} takes payment in full only: {balance:.2f} is due.",
            code=ErrorCode.PARTIAL_PAYMENT_NOT_ALLOWED,
            extra={"balance_due": f"{balance:.2f}"},
        )
    if rules.get("MinimumAmountDue"):
        minimum = Decimal(rules["MinimumAmountDue"])
        if balance is not None and 0 < balance < minimum:
            minimum = balance  # what is due is less than the minimum: paying it is enough
        if amount < minimum:
            raise PaymentRefused(
                f"Biller {biller.bid} takes at least {minimum:.2f}.",
                code=ErrorCode.BELOW_MINIMUM_AMOUNT_DUE,
                extra={"minimum_amount_due": f"{minimum:.2f}"},
            )
    allowance = biller.overpayment_allowance
    if balance is not None and allowance is not None and amount > balance + allowance:
        raise PaymentRefused(
            f"{amount:.2f} is more than the {balance:.2f} open on invoice "
            f"{invoice.invoice_number}.",
            code=ErrorCode.AMOUNT_EXCEEDS_BALANCE,
            extra={
                "balance_due": f"{balance:.2f}",
                "pending_payments": f"{open_balance.pending_payments:.2f}",
                "overpayment_allowance": f"{allowance:.2f}",
            },
        )
