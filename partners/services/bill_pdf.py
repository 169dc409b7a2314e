"""Bill presentment: the partner's PDF of an invoice, checked on its way to the payer.

A partner's PDF reaches the payer whole, or the payer can tell it did not:

- a body that does not start with `%PDF-` is 502 `partner_bad_response`;
- a body of at most SMALL_BILL bytes is read whole first and checked: its
  declared `Content-Length` is what came, and `%%EOF` is within its last KiB
  (a PDF cut short, even with a Content-Length that matches what was sent, is
  502 `partner_bad_response`);
- a larger body is streamed, its `Content-Length` passed on. When it ends short
  (fewer bytes than declared, a broken connection, no `%%EOF` at the end), the
  stream raises BillCutShort before its last chunk: the WSGI server (gunicorn)
  drops the payer's connection short of the declared length, so the client sees
  a cut-off transfer, never a short file that looks whole.

Every problem is recorded under Partner calls, with `partner_bad_response`.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from billers.models import Biller
from icintegrations.errors import ErrorCode, NotFoundError, partner_error
from partners.connectors.errors import (
    NotSupported,
    Outcome,
    PartnerBadResponse,
    PartnerError,
    PartnerNotFound,
)
from partners.connectors.registry import connector_build
from partners.models import PartnerCall
from partners.selectors import connector_config
from partners.services.rtdr import invoice_for_payer, partner_call_record

logger = logging.getLogger("partners.bill_pdf")

# A bill up to this size is read and checked whole before the payer gets a byte.
SMALL_BILL = 64 * 1024
# Where a whole PDF's `%%EOF` is: within its last KiB (PDF 1.7, 7.5.5).
EOF_WITHIN = 1024
PDF_MAGIC = b"%PDF-"
# The partner errors a bill PDF tells apart; any other is partner_unavailable.
BILL_PDF_ERRORS = (
    ErrorCode.PARTNER_AUTH_FAILED,
    ErrorCode.PARTNER_TIMEOUT,
    ErrorCode.PARTNER_BAD_RESPONSE,
)


class BillCutShort(Exception):
    """Raised from a bill's stream after its first bytes went out: the partner's
    body ended short. The WSGI server then drops the payer's connection."""


@dataclass(frozen=True)
class BillPdf:
    """A bill on its way to the payer: its bytes, and the length to declare."""

    chunks: Iterator[bytes]
    length: int | None


def bill_pdf_fetch(*, biller: Biller, invoice_number: str, zip_code: str | None = None) -> BillPdf:
    """The partner's PDF of an invoice the hub knows (with the lookup's second factor)."""
    invoice_for_payer(biller=biller, invoice_number=invoice_number, zip_code=zip_code)
    connector = connector_build(connector_config(biller=biller))
    record = partial(
        partner_call_record, biller=biller, partner=connector.partner, operation="bill_pdf",
        invoice_number=invoice_number,
    )  # fmt: skip
    try:
        document = connector.fetch_bill_pdf(invoice_number)
        declared = document.declared_length
        chunks = iter(document.chunks)
        whole_at_most = SMALL_BILL if declared is None or declared <= SMALL_BILL else 0
        head, ended = _read_head(chunks, at_least=max(whole_at_most + 1, len(PDF_MAGIC)))
        problem = _head_problem(head, ended=ended, declared=declared)
        if problem:
            _close(chunks)
            raise PartnerBadResponse(problem, exchange=document.exchange)
    except NotSupported:
        raise NotFoundError(
            "This biller's partner presents no bill PDF.", code=ErrorCode.BILL_NOT_AVAILABLE
        ) from None
    except PartnerError as e:
        code = ErrorCode.INVOICE_NOT_FOUND if isinstance(e, PartnerNotFound) else e.code
        record(outcome=e.outcome, exchange=e.exchange, error_code=code, message=e.message)
        if code == ErrorCode.INVOICE_NOT_FOUND:
            raise NotFoundError("The partner has no bill for this invoice.", code=code) from None
        raise partner_error(code, told_apart=BILL_PDF_ERRORS) from None
    call = record(outcome=Outcome.SUCCESS, exchange=document.exchange)
    if ended:
        return BillPdf(chunks=iter((head,)), length=len(head))
    return BillPdf(chunks=_streamed(head, chunks, declared=declared, call=call), length=declared)


def _read_head(chunks: Iterator[bytes], *, at_least: int) -> tuple[bytes, bool]:
    """The first `at_least` bytes or more (whole chunks), and whether the body ended."""
    head = bytearray()
    for chunk in chunks:
        head += chunk
        if len(head) >= at_least:
            return bytes(head), False
    return bytes(head), True


def _head_problem(head: bytes, *, ended: bool, declared: int | None) -> str:
    if not head.startswith(PDF_MAGIC):
        return "the partner's answer is not a PDF (it does not start with %PDF-)"
    if not ended:
        return ""
    if declared is not None and len(head) != declared:
        return f"the PDF was cut short: {len(head)} of {declared} bytes"
    if b"%%EOF" not in head[-EOF_WITHIN:]:
        return f"the PDF was cut short: {len(head)} bytes, and no %%EOF at its end"
    return ""


def _streamed(
    head: bytes, chunks: Iterator[bytes], *, declared: int | None, call: PartnerCall
) -> Iterator[bytes]:
    """`head`, then the rest as it comes, one chunk behind: the last chunk goes
    out only once the body is known whole, so a body found short (or without its
    %%EOF) never reaches the payer's declared length. Then BillCutShort."""
    sent, tail, pending = 0, b"", head
    try:
        try:
            for chunk in chunks:
                if not chunk:
                    continue
                yield pending
                sent += len(pending)
                tail, pending = (tail + pending)[-EOF_WITHIN:], chunk
        except PartnerError as e:
            problem = f"the PDF was cut short after {sent + len(pending)} bytes: {e.message}"
        else:
            received = sent + len(pending)
            if declared is not None and received != declared:
                problem = f"the PDF was cut short: {received} of {declared} bytes"
            elif b"%%EOF" not in (tail + pending)[-EOF_WITHIN:]:
                problem = f"the PDF was cut short: {received} bytes, and no %%EOF at its end"
            else:
                yield pending
                return
    finally:
        _close(chunks)  # also when the payer goes away mid-download
    PartnerCall.objects.filter(pk=call.pk).update(
        outcome=PartnerBadResponse.outcome,
        error_code=ErrorCode.PARTNER_BAD_RESPONSE,
        message=f"{problem}; the payer's download was cut off"[:500],
    )
    logger.warning(
        "Bill PDF of %s for biller %s: %s; the payer's connection is dropped",
        call.invoice_number, call.biller_id, problem,
    )  # fmt: skip
    raise BillCutShort(problem)


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()
