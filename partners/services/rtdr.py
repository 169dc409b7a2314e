"""RTDR: the payer site's real-time invoice lookup, served from the partner.

An invoice refreshed less than 6 hours ago is served from the hub, unless the
biller's option 64 is On. A missing invoice is generated from the partner where
the biller's integration does invoice-on-demand (setting 131); an existing one
has its balance refreshed. Concurrent lookups of one invoice make one partner
call (RtdrFlight). When the partner is down or slow, the last known invoice is
served as stale; without one the lookup fails with a stable code.
"""

import datetime
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypedDict

from django.db import IntegrityError, transaction
from django.utils import timezone

from billers.catalog import SettingId
from billers.models import Biller, Customer, Invoice, InvoiceType, RefreshSource
from icintegrations.errors import ApplicationError, ErrorCode, NotFoundError, partner_error
from icintegrations.metrics import partner_call_observe, rtdr_lookup_observe
from partners.connectors.base import BalanceUpdate, Connector, PartnerRecord
from partners.connectors.errors import Outcome, PartnerError, PartnerNotFound
from partners.connectors.http import Exchange
from partners.connectors.registry import connector_build
from partners.mapping import MappedRecord, MappingError
from partners.models import PartnerCall, RtdrFlight
from partners.selectors import (
    InvoiceView,
    biller_mapper,
    connector_config,
    invoice_for_lookup,
)
from partners.storable import BadRecordError, storable_problems

logger = logging.getLogger("partners.rtdr")

FRESH_FOR = datetime.timedelta(hours=6)
FLIGHT_LEASE = datetime.timedelta(seconds=30)  # longer than a partner call can take
FLIGHT_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class LookupResult:
    invoice: InvoiceView
    stale: bool


def invoice_not_found(invoice_number: str) -> NotFoundError:
    # One answer for "no such invoice" and "wrong second factor".
    return NotFoundError(
        f"No invoice {invoice_number} for this biller.", code=ErrorCode.INVOICE_NOT_FOUND
    )


def _zip_matches(stored: str, given: str | None) -> bool:
    def digits(value):
        return "".join(ch for ch in (value or "") if ch.isalnum())[:5].upper()

    return bool(given) and bool(stored) and digits(stored) == digits(given)


def _served(
    biller: Biller, invoice: InvoiceView, zip_code: str | None, stale: bool
) -> LookupResult:
    if biller.lookup_requires_zip and not _zip_matches(invoice.customer.zip, zip_code):
        raise invoice_not_found(invoice.invoice_number)
    return LookupResult(invoice=invoice, stale=stale)


def _on_demand(connector: Connector) -> bool:
    raw = connector.config.setting(SettingId.JSON_CONFIGURATION)
    if not raw or not connector.supports_invoice_on_demand:
        return False
    try:
        integration = json.loads(raw)["InvoiceOnDemand"]["Integration"]
    except (ValueError, KeyError, TypeError):
        return False
    return integration == connector.partner


def invoice_lookup(
    *, biller: Biller, invoice_number: str, zip_code: str | None = None
) -> LookupResult:
    """The invoice for the payer, counted by outcome (icintegrations.metrics):
    served, stale, or the code of the error raised."""
    started = time.perf_counter()
    outcome = "error"  # anything but an ApplicationError (a 500)
    try:
        result = _lookup(biller=biller, invoice_number=invoice_number, zip_code=zip_code)
        outcome = "stale" if result.stale else "served"
        return result
    except ApplicationError as e:
        outcome = e.code
        raise
    finally:
        rtdr_lookup_observe(outcome=outcome, seconds=time.perf_counter() - started)


def _lookup(*, biller: Biller, invoice_number: str, zip_code: str | None) -> LookupResult:
    invoice = invoice_for_lookup(biller=biller, invoice_number=invoice_number)
    if invoice is not None and biller.lookup_requires_zip:
        # A refresh changes balances, never the customer: a wrong ZIP is refused
        # before any partner call.
        _served(biller, invoice, zip_code, stale=False)
    if (
        invoice is not None
        and not getattr(biller, "override_six_hours", False)
        and invoice.refreshed_at is not None
        and timezone.now() - invoice.refreshed_at < FRESH_FOR
    ):
        return _served(biller, invoice, zip_code, stale=False)

    connector = connector_build(connector_config(biller=biller))
    if invoice is None and not _on_demand(connector):
        raise invoice_not_found(invoice_number)

    try:
        code, refreshed = _refresh_once(biller, connector, invoice_number, invoice)
    except BadRecordError:
        if invoice is None:
            raise  # 502 partner_bad_record, naming the fields
        code, refreshed = ErrorCode.PARTNER_BAD_RECORD, None
    if not code:  # "" is success
        refreshed = refreshed or invoice_for_lookup(biller=biller, invoice_number=invoice_number)
        if refreshed is not None:
            return _served(biller, refreshed, zip_code, stale=False)
        code = ErrorCode.INVOICE_NOT_FOUND
    if code == ErrorCode.INVOICE_NOT_FOUND:
        raise invoice_not_found(invoice_number)
    if code == ErrorCode.PARTNER_AUTH_FAILED:  # a configuration problem: never served stale
        raise partner_error(code)
    if invoice is not None:
        return _served(biller, invoice, zip_code, stale=True)
    raise partner_error(code)


# --- one partner call per invoice at a time ----------------------------------


def _flight_acquire(biller: Biller, invoice_number: str) -> uuid.UUID | None:
    now, token = timezone.now(), uuid.uuid4()
    taken = (
        RtdrFlight.objects.filter(biller=biller, invoice_number=invoice_number)
        .exclude(finished_at__isnull=True, started_at__gte=now - FLIGHT_LEASE)
        .update(token=token, started_at=now, finished_at=None, error_code="")
    )
    if taken:
        return token
    try:
        with transaction.atomic():
            RtdrFlight.objects.create(
                biller=biller, invoice_number=invoice_number, token=token, started_at=now
            )
    except IntegrityError:
        return None  # another lookup is calling the partner
    return token


def _flight_wait(biller: Biller, invoice_number: str) -> str | None:
    """Wait for the flight in progress; its error code ("" for success), or None
    if its lease ran out."""
    deadline = time.monotonic() + FLIGHT_LEASE.total_seconds()
    while time.monotonic() < deadline:
        time.sleep(FLIGHT_POLL_SECONDS)
        flight = (
            RtdrFlight.objects.filter(biller=biller, invoice_number=invoice_number)
            .values("finished_at", "error_code")
            .first()
        )
        if flight is None:
            return None
        if flight["finished_at"] is not None:
            return flight["error_code"]
    return None


def _flight_release(biller: Biller, invoice_number: str, token: uuid.UUID, code: str) -> None:
    RtdrFlight.objects.filter(biller=biller, invoice_number=invoice_number, token=token).update(
        finished_at=timezone.now(), error_code=code
    )


def _refresh_once(
    biller: Biller, connector: Connector, invoice_number: str, existing: InvoiceView | None
) -> tuple[str, InvoiceView | None]:
    """Call the partner unless another lookup of the invoice is: then wait for
    it. Returns the error code ("" for success) and the refreshed invoice when
    this lookup made the call."""
    token = _flight_acquire(biller, invoice_number)
    if token is None:
        code = _flight_wait(biller, invoice_number)
        if code is not None:
            return code, None
        token = _flight_acquire(biller, invoice_number)
        if token is None:
            return ErrorCode.PARTNER_TIMEOUT, None
        existing = invoice_for_lookup(biller=biller, invoice_number=invoice_number)
    try:
        return _refresh(
            biller,
            connector,
            invoice_number,
            existing,
            finish=lambda code: _flight_release(biller, invoice_number, token, code),
        )
    except BadRecordError:
        raise  # recorded, and the flight released with its code
    except Exception:
        _flight_release(biller, invoice_number, token, ErrorCode.PARTNER_UNAVAILABLE)
        raise


# --- the partner call and what is written from it -----------------------------


class _CallTarget(TypedDict):
    """Who called whom, for what: `partner_call_record`'s first four keywords."""

    biller: Biller
    partner: str
    operation: str
    invoice_number: str


def partner_call_record(
    *,
    biller: Biller,
    partner: str,
    operation: str,
    invoice_number: str,
    outcome: str,
    exchange: Exchange | None,
    error_code: str = "",
    message: str = "",
) -> PartnerCall:
    call = PartnerCall.objects.create(
        biller=biller,
        partner=partner,
        operation=operation,
        invoice_number=invoice_number[:100],
        outcome=outcome,
        error_code=error_code,
        message=message[:500],
        status_code=exchange.status_code if exchange else None,
        duration_ms=exchange.duration_ms if exchange else None,
        exchange=exchange.as_dict() if exchange else None,
    )
    logger.info(
        "Partner call: %s %s for biller %s: %s%s",
        partner, operation, biller.bid, outcome, f" ({error_code})" if error_code else "",
        extra={
            "bid": biller.bid, "partner": partner, "operation": operation,
            "outcome": str(outcome), "error_code": error_code,
            "status_code": call.status_code, "duration_ms": call.duration_ms,
        },
    )  # fmt: skip
    partner_call_observe(
        partner=partner, operation=operation, outcome=outcome,
        duration_ms=exchange.duration_ms if exchange else None,
    )  # fmt: skip
    if error_code == ErrorCode.PARTNER_AUTH_FAILED:
        logger.error(
            "RTDR: %s refused the credentials of biller %s on %s (see Partner calls in the "
            "admin)",
            partner, biller.bid, operation,
        )  # fmt: skip
    return call


def _refresh(
    biller: Biller,
    connector: Connector,
    invoice_number: str,
    existing: InvoiceView | None,
    *,
    finish: Callable[[str], None],
) -> tuple[str, InvoiceView | None]:
    """One partner call and what is written from it, with the call's record and
    the flight's release (`finish`) in the same transaction as the invoice."""
    operation = "invoice_refresh" if existing else "invoice_generate"
    record_call = _CallTarget(
        biller=biller, partner=connector.partner, operation=operation,
        invoice_number=invoice_number,
    )  # fmt: skip
    read_at = timezone.now()  # the figure's time (refreshed_at): README, "The open balance"
    try:
        record = connector.fetch_invoice(invoice_number)
    except PartnerError as e:
        code = ErrorCode.INVOICE_NOT_FOUND if isinstance(e, PartnerNotFound) else e.code
        with transaction.atomic():
            partner_call_record(
                **record_call, outcome=e.outcome, exchange=e.exchange, error_code=code,
                message=e.message,
            )  # fmt: skip
            finish(code)
        return code, None

    problems, errors, balance, mapped = _read(biller, connector, record, existing)
    if problems:
        _bad_record(record_call, record, finish, problems)
        if errors:
            raise BadRecordError(errors)
        return ErrorCode.PARTNER_BAD_RECORD, None

    refreshed = None
    if existing is None:
        # No balance rule ran: the mapping did, and found no problem.
        assert mapped is not None
        try:
            refreshed = InvoiceView.of(
                invoice_create_from_partner(
                    biller=biller, mapped=mapped, record=record, read_at=read_at
                )
            )
        except IntegrityError as e:
            # Written meanwhile by another path (an invoice file): refresh that one.
            existing = invoice_for_lookup(biller=biller, invoice_number=invoice_number)
            if existing is None:  # no such row: not a race, a record the hub cannot store
                problem = f"the hub cannot store the record: {str(e).splitlines()[0][:200]}"
                _bad_record(record_call, record, finish, problem)
                raise BadRecordError([]) from e
    with transaction.atomic():
        if existing is not None:
            if balance is None:
                # The partner's balance rule gave none: the mapping ran, and found no problem.
                assert mapped is not None
                balance = BalanceUpdate(
                    balance_due=mapped.invoice.get("balance_due"),
                    past_due=mapped.invoice.get("past_due"),
                    total_amount_due=mapped.invoice.get("total_amount_due"),
                )
            refreshed = invoice_balance_update(
                invoice=existing, balance=balance, record=record, read_at=read_at
            )
        partner_call_record(**record_call, outcome=Outcome.SUCCESS, exchange=record.exchange)
        finish("")
    return "", refreshed


def _read(
    biller: Biller, connector: Connector, record: PartnerRecord, existing: InvoiceView | None
) -> tuple[str, list[MappingError], BalanceUpdate | None, MappedRecord | None]:
    """The partner's record read: by the partner's balance rule for an existing
    invoice, else by the biller's mapping. The problems ("" for none), the mapping
    errors among them, and the balance or the mapped record."""
    balance, mapped = None, None
    try:
        if existing is not None:
            balance = connector.balance_update(record)
        if balance is None:
            mapper = biller_mapper(biller=biller, settings=connector.config.settings)
            mapped = mapper.apply(record.record)
            errors = list(mapped.errors)
            if not errors and existing is None:  # mapped, but can it be stored?
                errors = storable_problems(
                    mapped, {step.ic_field: step.file_spec_id for step in mapper.steps}
                )
            return "; ".join(str(error) for error in errors), errors, None, mapped
    except PartnerError as e:
        return e.message, [], None, None
    return "", [], balance, mapped


def _bad_record(
    record_call: _CallTarget, record: PartnerRecord, finish: Callable[[str], None], problems: str
) -> None:
    """A partner's record the hub refused: recorded under Partner calls as such."""
    logger.warning(
        "RTDR: biller %s invoice %s: %s",
        record_call["biller"].bid, record_call["invoice_number"], problems,
    )  # fmt: skip
    with transaction.atomic():
        partner_call_record(
            **record_call, outcome=Outcome.SUCCESS, exchange=record.exchange,
            error_code=ErrorCode.PARTNER_BAD_RECORD, message=problems,
        )  # fmt: skip
        finish(ErrorCode.PARTNER_BAD_RECORD)


@transaction.atomic
def invoice_create_from_partner(
    *,
    biller: Biller,
    mapped: MappedRecord,
    record: PartnerRecord,
    via: str = RefreshSource.RTDR_GENERATE,
    read_at: datetime.datetime | None = None,
) -> Invoice:
    customer_fields = dict(mapped.customer)
    account_number = customer_fields.pop("account_number", "") or record.invoice_number
    customer, created = Customer.objects.get_or_create(
        biller=biller, account_number=account_number, defaults=customer_fields
    )
    if not created and any(getattr(customer, k) != v for k, v in customer_fields.items()):
        for name, value in customer_fields.items():
            setattr(customer, name, value)
        customer.save(update_fields=[*customer_fields, "updated_at"])
    invoice_fields = dict(mapped.invoice)
    type_id = invoice_fields.pop("invoice_type_id", None)
    invoice_fields.pop("invoice_format_guid", None)
    invoice_fields["invoice_number"] = record.invoice_number
    invoice_type = (
        InvoiceType.objects.filter(biller=biller, type_id=type_id).first() if type_id else None
    )
    return Invoice.objects.create(
        biller=biller,
        customer=customer,
        invoice_type=invoice_type,
        raw_payload=record.record,
        refreshed_at=read_at or timezone.now(),
        refreshed_via=via,
        **invoice_fields,
    )


def invoice_balance_update(
    *,
    invoice: InvoiceView,
    balance: BalanceUpdate,
    record: PartnerRecord,
    read_at: datetime.datetime | None = None,
) -> InvoiceView:
    """Write a refreshed balance (one UPDATE, no read) and return the invoice as it
    is now. Its `refreshed_at` is `read_at`, when the partner was asked."""
    now = timezone.now()
    read_at = read_at or now
    changes = {
        name: getattr(balance, name)
        for name in ("balance_due", "past_due", "total_amount_due")
        if getattr(balance, name) is not None
    }
    Invoice.objects.filter(pk=invoice.id).update(
        **changes,
        raw_payload=record.record,
        refreshed_at=read_at,
        refreshed_via=RefreshSource.RTDR_REFRESH,
        updated_at=now,
    )
    return replace(invoice, **changes, refreshed_at=read_at)


# --- bill presentment ----------------------------------------------------------


def invoice_for_payer(*, biller: Biller, invoice_number: str, zip_code: str | None) -> InvoiceView:
    """The invoice as the hub knows it, for a payer who gave the lookup's second
    factor (the bill PDF: partners.services.bill_pdf); else invoice_not_found."""
    invoice = invoice_for_lookup(biller=biller, invoice_number=invoice_number)
    if invoice is None:
        raise invoice_not_found(invoice_number)
    return _served(biller, invoice, zip_code, stale=False).invoice
