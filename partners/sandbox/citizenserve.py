"""CitizenServe's wire format, as the City of Peoria technical design (BID 2249) shows it.

Invoice lookup (RTDR) is a GET on the portal's report query, answered with a JSON
array of at most one record and no credential. A payment (Data Pump) is a POST of
a JSON object in a `text/plain` body with an `apikey` header; the answer is always
200 with a `Status` of `Success` or `Failed`, except for a bad key (403).
"""

from __future__ import annotations

import hmac
import json
import re
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from partners.sandbox.wire import Call, Reply

NAME = "citizenserve"
DISPLAY_NAME = "CitizenServe"
INVOICE_KEY = "licensenumber"
ACCOUNT_KEY = "licensenumber"  # a license is its own account
FIRST_RECEIPT = 11863
PAYMENT_TYPES = ("Credit", "ACH")

# The sample answer of the technical design, byte for byte (trailing spaces included).
SAMPLE_RECORD = {
    "licensenumber": "PBL19-010007",
    "customerzip": "85345",
    "accountstatement": (
        "http://test.citizenserve.com/Documents/24/400417501_Account%20Statement%20Letter.htm "
    ),
    "totalamountdue": 70,
    "balancedue": 25,
    "customerstate": "AZ",
    "customeraddress": "JOSE SALAZAR 10539 W ALICE Avenue ",
    "customercity": "PEORIA",
    "description": "ROCKY POINT SHRIMP",
    "businessaddress": "10539 W ALICE Avenue  ",
    "customername": "JOSE L SALAZAR",
}

_AMOUNT = re.compile(r"\d+\.\d{2}")
_DATE = re.compile(r"\d{2}/\d{2}/\d{4}")
_CENT = Decimal("0.01")


def demo_invoices() -> list[dict[str, Any]]:
    """The design's sample, the license of its sample payment, and 20 generated ones."""
    records = [
        dict(SAMPLE_RECORD),
        {
            "licensenumber": "PBL19-010026",
            "customerzip": "85345",
            "accountstatement": _statement_url("400417526"),
            "totalamountdue": 240.83,
            "balancedue": 240.83,
            "customerstate": "AZ",
            "customeraddress": "JOHN SMITH 8401 W MONROE Street ",
            "customercity": "PEORIA",
            "description": "SMITH LANDSCAPING",
            "businessaddress": "8401 W MONROE Street  ",
            "customername": "JOHN SMITH",
        },
    ]
    for n in range(1, 21):
        records.append(
            {
                "licensenumber": f"PBL26-{n:06d}",
                "customerzip": "85345",
                "accountstatement": _statement_url(f"5000{n:05d}"),
                "totalamountdue": 100,
                "balancedue": 100,
                "customerstate": "AZ",
                "customeraddress": f"DEMO OWNER {n:02d} {8000 + n} W OLIVE Avenue ",
                "customercity": "PEORIA",
                "description": f"DEMO BUSINESS {n:02d}",
                "businessaddress": f"{8000 + n} W OLIVE Avenue  ",
                "customername": f"DEMO OWNER {n:02d}",
            }
        )
    return records


def open_invoice(number: str, *, balance: Decimal, account: str, name: str) -> dict[str, Any]:
    """A license with `balance` due (tests and benchmarks). The license number is
    the account: `account` is not used."""
    return {
        "licensenumber": number,
        "customerzip": "85345",
        "totalamountdue": _number(balance),
        "balancedue": _number(balance),
        "customername": name,
    }


def apply_payment(record: dict[str, Any], amount: Decimal, received_at: str) -> None:
    """Reduce the license's balance due (a JSON number) by the amount paid."""
    balance = Decimal(str(record.get("balancedue") or 0)) - amount
    record["balancedue"] = _number(balance)


def forbidden(call: Call) -> Reply:
    return call.json(403, {"Status": "Failed", "Description": "Invalid API key"})


def get_query(call: Call) -> Reply:
    """GET /Portal/PortalController?Action=getQuery&...&Param_1=<license number>."""
    problem = _query_problem(call.query)
    if problem:
        return call.json(400, {"Status": "Failed", "Description": problem})
    record = call.ledger.get_invoice(call.query["Param_1"])
    return call.json(200, [record] if record else [])


def add_license_payment(call: Call) -> Reply:
    """POST /citizenws/service/addlicensepayment."""
    key = call.headers.get("apikey") or ""
    if not hmac.compare_digest(key.encode(), call.credential.encode()):
        return forbidden(call)
    try:
        body = json.loads(call.body)
    except ValueError:
        return _failed(call, "Request body is not valid JSON")
    if not isinstance(body, dict):
        return _failed(call, "Request body must be a JSON object")
    problem = _payment_problem(body)
    if problem:
        return _failed(call, problem)
    try:
        payment = call.ledger.apply_payment(
            key=body["paymentNote"],
            invoice_number=body["licenseNumber"],
            amount=Decimal(body["paymentAmount"]),
            body=body,
        )
    except LookupError:
        return _failed(call, f"License {body['licenseNumber']} not found")
    return call.json(
        200,
        {
            "Status": "Success",
            "Description": f"Successfully added payment. Receipt #{payment['receipt']}",
        },
    )


ROUTES = (
    ("GET", re.compile(r"/Portal/PortalController"), "lookup", get_query),
    ("POST", re.compile(r"/citizenws/service/addlicensepayment"), "payment", add_license_payment),
)


def _query_problem(query: dict[str, str]) -> str | None:
    if query.get("Action") != "getQuery":
        return "Action must be getQuery"
    for name in ("report_ID", "installationID"):
        if not query.get(name, "").isdigit():
            return f"{name} must be an integer"
    if not query.get("Param_1"):
        return "Param_1 (the license number) is required"
    return None


def _payment_problem(body: dict[str, Any]) -> str | None:
    for name in (
        "installationID",
        "licenseNumber",
        "paymentAmount",
        "paymentDate",
        "paymentType",
        "paymentReference",
        "paymentNote",
        "receivedFrom",
    ):
        if name not in body:
            return f"Missing required field: {name}"
    installation = body["installationID"]
    if not isinstance(installation, int) or isinstance(installation, bool):
        return "installationID must be an integer"
    for name in ("licenseNumber", "paymentReference", "paymentNote", "receivedFrom"):
        if not isinstance(body[name], str):
            return f"{name} must be a string"
    for name in ("licenseNumber", "paymentNote"):
        if not body[name].strip():
            return f"{name} must not be blank"
    amount = body["paymentAmount"]
    if not (isinstance(amount, str) and _AMOUNT.fullmatch(amount) and Decimal(amount) > 0):
        return 'paymentAmount must be a positive amount with two decimals, e.g. "240.83"'
    if not (isinstance(body["paymentDate"], str) and _valid_date(body["paymentDate"])):
        return "paymentDate must be a date as MM/DD/YYYY"
    if body["paymentType"] not in PAYMENT_TYPES:
        return "paymentType must be Credit or ACH"
    return None


def _valid_date(value: str) -> bool:
    if not _DATE.fullmatch(value):
        return False
    try:
        datetime.strptime(value, "%m/%d/%Y")
    except ValueError:
        return False
    return True


def _failed(call: Call, description: str) -> Reply:
    return call.json(200, {"Status": "Failed", "Description": description})


def _number(value: Decimal) -> int | float:
    """A balance as CitizenServe writes it: 25 when whole, 240.83 otherwise."""
    value = value.quantize(_CENT)
    return int(value) if value == value.to_integral_value() else float(value)


def _statement_url(document: str) -> str:
    return f"http://sandbox.invalid/Documents/24/{document}_Account%20Statement%20Letter.htm "
