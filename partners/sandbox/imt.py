"""IMT's wire format, as the IMT Software Services technical design (BID 1367) shows it.

A Django REST Framework API: every call carries the Integrator ID in the
`X-Integrator-ID` header (else 403), invoices are read by number (200/404), a
payment is POSTed as JSON (201 with the posted payment, 400 with field errors),
and the bill is served as a PDF.
"""

from __future__ import annotations

import hmac
import json
import re
import zlib
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from partners.sandbox.wire import Call, Reply

NAME = "imt"
DISPLAY_NAME = "IMT"
INVOICE_KEY = "invoice_number"
ACCOUNT_KEY = "customer"
FIRST_RECEIPT = 1
PAYMENT_METHODS = ("cash", "credit", "check", "echeck", "other")

# The sample answer of the technical design.
SAMPLE_INVOICE = {
    "id": 599531,
    "amount_due": "50.00",
    "past_due": "50.00",
    "invoice_number": "040620220901",
    "total_amount": "50.00",
    "paid_amount": "0.00",
    "invoice_month": "2022-09-01",
    "sent": True,
    "status": "F",
    "due_date": "2022-10-21",
    "created": "2022-10-03T16:41:40-05:00",
    "updated": "2022-10-03T16:42:56-05:00",
    "customer": "0406",
}

_CENT = Decimal("0.01")
_REQUIRED = "This field is required."


def demo_invoices() -> list[dict[str, Any]]:
    """The design's sample and 20 generated invoices of 100.00, nothing past due."""
    records = [dict(SAMPLE_INVOICE)]
    for n in range(1, 21):
        records.append(
            {
                "id": 700000 + n,
                "amount_due": "100.00",
                "past_due": "0.00",
                "invoice_number": f"IMT{n:07d}",
                "total_amount": "100.00",
                "paid_amount": "0.00",
                "invoice_month": "2026-01-01",
                "sent": True,
                "status": "F",
                "due_date": "2026-02-20",
                "created": "2026-01-02T08:00:00-05:00",
                "updated": "2026-01-02T08:00:00-05:00",
                "customer": f"C{n:04d}",
            }
        )
    return records


def open_invoice(number: str, *, balance: Decimal, account: str, name: str) -> dict[str, Any]:
    """An invoice of `balance`, nothing paid or past due (tests and benchmarks).
    IMT's record names no customer: `name` is not used."""
    return {
        "id": zlib.crc32(number.encode()) % 10**6,
        "invoice_number": number,
        "customer": account,
        "amount_due": _money(balance),
        "past_due": "0.00",
        "total_amount": _money(balance),
        "paid_amount": "0.00",
    }


def apply_payment(record: dict[str, Any], amount: Decimal, received_at: str) -> None:
    """Move the amount from `amount_due` to `paid_amount`; past due never exceeds what is due."""
    due = Decimal(record.get("amount_due") or "0") - amount
    record["amount_due"] = _money(due)
    record["paid_amount"] = _money(Decimal(record.get("paid_amount") or "0") + amount)
    past_due = min(Decimal(record.get("past_due") or "0"), max(due, Decimal(0)))
    record["past_due"] = _money(past_due)
    record["updated"] = received_at


def forbidden(call: Call) -> Reply:
    return call.json(403, {"detail": "Invalid integrator id."})


def invoice_detail(call: Call) -> Reply:
    """GET /api/integration/invoice/<invoice_number>/detail."""
    denied = _authenticate(call)
    if denied:
        return denied
    invoice = call.ledger.get_invoice(call.params["invoice_number"])
    if invoice is None:
        return _not_found(call)
    return call.json(200, invoice)


def invoice_pdf(call: Call) -> Reply:
    """GET /api/integration/invoice/<invoice_number>/pdf: a one-page bill."""
    denied = _authenticate(call)
    if denied:
        return denied
    invoice = call.ledger.get_invoice(call.params["invoice_number"])
    if invoice is None:
        return _not_found(call)
    lines = [
        f"IMT invoice {invoice['invoice_number']}",
        f"Customer {invoice.get('customer', '')}",
        f"Amount due ${invoice.get('amount_due', '')}",
        f"Due date {invoice.get('due_date', '')}",
    ]
    return call.reply(200, render_pdf(lines), "application/pdf")


def post_payment(call: Call) -> Reply:
    """POST /api/integration/invoice/post-payment."""
    denied = _authenticate(call)
    if denied:
        return denied
    content_type = (call.headers.get("Content-Type") or "").split(";")[0].strip()
    if content_type and content_type != "application/json":
        return call.json(415, {"detail": f'Unsupported media type "{content_type}" in request.'})
    try:
        body = json.loads(call.body)
    except ValueError as e:
        return call.json(400, {"detail": f"JSON parse error - {e}"})
    if not isinstance(body, dict):
        kind = type(body).__name__
        return call.json(
            400, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}
        )
    errors: dict[str, list[str]] = {}
    # Checked in this order (the order of the errors answered); echoed back as JSON.
    fields: dict[str, Any] = {
        "customer": _string(body, "customer", errors),
        "invoice_number": _string(body, "invoice_number", errors),
        "transaction_id": _string(body, "transaction_id", errors),
        "amount": _amount(body, errors),
        "payment_method": _choice(body, "payment_method", PAYMENT_METHODS, errors),
        "message": _string(body, "message", errors, required=False),
        "source": _string(body, "source", errors, required=False),
    }
    if errors:
        return call.json(400, errors)
    invoice = call.ledger.get_invoice(fields["invoice_number"])
    if invoice is None:
        number = fields["invoice_number"]
        return call.json(
            400, {"invoice_number": [f"Object with invoice_number={number} does not exist."]}
        )
    if invoice.get("customer") != fields["customer"]:
        return call.json(400, {"customer": ["Customer does not match the invoice."]})
    try:
        payment = call.ledger.apply_payment(
            key=fields["transaction_id"],
            invoice_number=fields["invoice_number"],
            amount=fields["amount"],
            body=body,
        )
    except LookupError:
        return _not_found(call)
    echo = {"id": int(payment["receipt"]), **fields, "amount": _money(fields["amount"])}
    echo["created"] = payment["received_at"]
    return call.json(201, echo)


ROUTES = (
    (
        "GET",
        re.compile(r"/api/integration/invoice/(?P<invoice_number>[^/]+)/detail/?"),
        "lookup",
        invoice_detail,
    ),
    ("POST", re.compile(r"/api/integration/invoice/post-payment/?"), "payment", post_payment),
    (
        "GET",
        re.compile(r"/api/integration/invoice/(?P<invoice_number>[^/]+)/pdf/?"),
        "pdf",
        invoice_pdf,
    ),
)


def render_pdf(lines: list[str]) -> bytes:
    """A minimal valid one-page PDF 1.4 showing `lines` in Helvetica."""
    text = ["BT", "/F1 14 Tf", "72 720 Td", "18 TL"]
    for line in lines:
        text.append(f"({_pdf_text(line)}) Tj T*")
    text.append("ET")
    stream = "\n".join(text).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _pdf_text(value: str) -> str:
    value = value.encode("latin-1", "replace").decode("latin-1")
    return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _authenticate(call: Call) -> Reply | None:
    given = call.headers.get("X-Integrator-ID")
    if not given:
        return call.json(403, {"detail": "Authentication credentials were not provided."})
    if not hmac.compare_digest(given.encode(), call.credential.encode()):
        return forbidden(call)
    return None


def _not_found(call: Call) -> Reply:
    return call.json(404, {"detail": "Not found."})


def _string(
    body: dict[str, Any], name: str, errors: dict[str, list[str]], *, required: bool = True
) -> str:
    if name not in body:
        if required:
            errors[name] = [_REQUIRED]
        return ""
    value = body[name]
    if value is None:
        errors[name] = ["This field may not be null."]
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        errors[name] = ["Not a valid string."]
        return ""
    value = str(value)
    if required and not value.strip():
        errors[name] = ["This field may not be blank."]
    return value


def _amount(body: dict[str, Any], errors: dict[str, list[str]]) -> Decimal:
    if "amount" not in body:
        errors["amount"] = [_REQUIRED]
        return Decimal(0)
    value = body["amount"]
    try:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidOperation
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        errors["amount"] = ["A valid number is required."]
        return Decimal(0)
    exponent = amount.as_tuple().exponent  # an int when finite; "n", "N" or "F" otherwise
    if not amount.is_finite():
        errors["amount"] = ["A valid number is required."]
    elif isinstance(exponent, int) and exponent < -2:
        errors["amount"] = ["Ensure that there are no more than 2 decimal places."]
    elif amount < _CENT:
        errors["amount"] = ["Ensure this value is greater than or equal to 0.01."]
    return amount


def _choice(
    body: dict[str, Any], name: str, choices: tuple[str, ...], errors: dict[str, list[str]]
) -> str:
    if name not in body:
        errors[name] = [_REQUIRED]
        return ""
    value = body[name]
    if value not in choices:
        errors[name] = [f'"{value}" is not a valid choice.']
        return ""
    return value


def _money(value: Decimal) -> str:
    return str(value.quantize(_CENT))
