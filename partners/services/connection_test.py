"""Test connection: one read-only call to each endpoint of a biller's partner
that has one, with the biller's settings as they are now, and the redacted
request and answer of each.

The lookup is made for an invoice number no partner has unless one is given:
a partner that answers "no such invoice" was reached and took the
credentials. An endpoint whose only call posts (a payment) is listed, not
called: a test must not move money. Nothing is written: neither invoices nor
partner call records (a test is not traffic). A test that passes (every
endpoint called answered, a "no such invoice" included, and took the
credentials) is recorded as go-live evidence, with who ran it.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from billers.models import Biller, GoLiveEvidence
from billers.services.go_live_evidence import go_live_evidence_record
from partners.connectors.errors import (
    Outcome,
    PartnerAuthError,
    PartnerError,
    PartnerNotConfigured,
    PartnerNotFound,
    PartnerNotSent,
    PartnerRejected,
)
from partners.services.access import PartnerAccess, partner_access

logger = logging.getLogger(__name__)

MISSING_INVOICE = "ICI-CONNECTION-TEST-0"
MAX_PDF_BYTES = 20 << 20


@dataclass(frozen=True)
class EndpointCheck:
    endpoint: str
    called: bool
    verdict: str  # what the answer means, for a person
    reached: bool = False  # the partner answered
    outcome: str = ""  # success, rejected, not_sent or unknown
    exchange: dict | None = None  # the request and the answer, redacted
    ok: bool = False  # called, and the connection works (found, or "no such invoice")


@dataclass(frozen=True)
class ConnectionTest:
    biller: Biller
    invoice_number: str
    checks: tuple[EndpointCheck, ...]
    problem: str = ""

    @property
    def passed(self) -> bool:
        """Every endpoint tried (called, or not for want of a setting) works."""
        tried = [check for check in self.checks if check.called or check.outcome]
        return not self.problem and bool(tried) and all(check.ok for check in tried)


def _verdict(error: PartnerError, invoice_number: str) -> tuple[str, bool]:
    """What a failed call says about the connection, and whether the partner answered."""
    if isinstance(error, PartnerNotFound):
        return (
            f"Reached: the partner answered that it has no invoice {invoice_number!r}, "
            "so the endpoint and the credentials work.",
            True,
        )
    if isinstance(error, PartnerNotConfigured):
        return f"Not called: {error.message}", False
    if isinstance(error, PartnerAuthError):
        return f"Reached, but the partner refused the biller's credentials ({error.message}).", True
    if isinstance(error, PartnerRejected):
        return f"Reached, but the partner refused the request ({error.message}).", True
    if isinstance(error, PartnerNotSent):
        return f"Not reached: {error.message}. Nothing was sent.", False
    return f"Sent, and no usable answer: {error.message}.", False


def _check(
    access: PartnerAccess, endpoint: str, invoice_number: str, call: Callable[[], tuple]
) -> EndpointCheck:
    redact = access.redactor.text
    try:
        verdict, exchange = call()
    except PartnerError as e:
        verdict, reached = _verdict(e, invoice_number)
        return EndpointCheck(
            endpoint=endpoint,
            called=not isinstance(e, PartnerNotConfigured),
            verdict=redact(verdict),
            reached=reached,
            outcome=e.outcome,
            exchange=access.redacted_exchange(e.exchange),
            ok=isinstance(e, PartnerNotFound),
        )
    return EndpointCheck(
        endpoint=endpoint,
        called=True,
        verdict=redact(verdict),
        reached=True,
        outcome=Outcome.SUCCESS,
        exchange=access.redacted_exchange(exchange),
        ok=True,
    )


def connection_test_run(
    *, biller: Biller, invoice_number: str = "", user: AbstractBaseUser | None = None
) -> ConnectionTest:
    invoice_number = invoice_number.strip() or MISSING_INVOICE
    try:
        access = partner_access(biller=biller)
    except LookupError:
        return ConnectionTest(
            biller, invoice_number, (), problem=f"No connector serves {biller.partner!r}."
        )
    connector = access.connector

    def lookup():
        found = connector.fetch_invoice(invoice_number)
        return f"Reached: the partner answered with invoice {invoice_number!r}.", found.exchange

    def bill_pdf():
        document = connector.fetch_bill_pdf(invoice_number)
        size = 0
        for chunk in document.chunks:  # read to the end: the connection goes back to the pool
            size += len(chunk)
            if size > MAX_PDF_BYTES:
                break
        return (
            f"Reached: the partner sent the bill of {invoice_number!r} "
            f"({size} bytes of {document.content_type}).",
            document.exchange,
        )

    checks = [_check(access, "Invoice lookup (RTDR)", invoice_number, lookup)]
    if connector.supports_bill_pdf:
        checks.append(_check(access, "Bill PDF (bill presentment)", invoice_number, bill_pdf))
    posts = ["Payment posting (Data Pump)"]
    if connector.supports_reversal:
        posts.append("Reversal posting (Data Pump)")
    checks += [
        EndpointCheck(
            endpoint=endpoint,
            called=False,
            verdict="Not called: its only call posts, and a test must not move money.",
        )
        for endpoint in posts
    ]
    logger.info(
        "Connection test of biller %s: %s",
        biller.bid,
        ", ".join(f"{c.endpoint}: {c.outcome or 'not called'}" for c in checks),
    )
    result = ConnectionTest(biller, invoice_number, tuple(checks))
    if result.passed:
        go_live_evidence_record(
            biller=biller,
            kind=GoLiveEvidence.Kind.CONNECTION_TEST,
            user=user,
            detail=f"invoice {invoice_number}",
        )
    return result
