"""What a sandbox partner holds: its invoices, the payments it applied, the calls it got.

Every read returns a copy taken under the lock, so a test can inspect the ledger
while the server's threads keep writing to it.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter, deque
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol


class PartnerRecords(Protocol):
    """The part of a partner's wire module (`citizenserve`, `imt`) the ledger uses."""

    NAME: str
    INVOICE_KEY: str
    ACCOUNT_KEY: str
    FIRST_RECEIPT: int

    def demo_invoices(self) -> list[dict[str, Any]]: ...

    def apply_payment(self, record: dict[str, Any], amount: Decimal, received_at: str) -> None: ...

    def open_invoice(
        self, number: str, *, balance: Decimal, account: str, name: str
    ) -> dict[str, Any]: ...


QUERIES_KEPT = 200  # the last requests' query strings, for the tests to read


class Ledger:
    def __init__(self, records: PartnerRecords, *, demo_data: bool = False) -> None:
        self._records = records
        self._lock = threading.Lock()
        self._invoices: dict[str, dict[str, Any]] = {}
        self._payments: list[dict[str, Any]] = []
        self._requests: Counter[str] = Counter()
        self._queries: deque[dict[str, Any]] = deque(maxlen=QUERIES_KEPT)
        self._next_receipt = records.FIRST_RECEIPT
        self.reset(demo_data=demo_data)

    @property
    def partner(self) -> str:
        return self._records.NAME

    @property
    def invoices(self) -> dict[str, dict[str, Any]]:
        """Invoice number -> the partner's own record (a copy)."""
        with self._lock:
            return copy.deepcopy(self._invoices)

    @property
    def payments(self) -> list[dict[str, Any]]:
        """One entry per payment applied, oldest first (a copy)."""
        with self._lock:
            return copy.deepcopy(self._payments)

    @property
    def requests(self) -> dict[str, int]:
        """Operation name -> how many requests reached its handler (a copy)."""
        with self._lock:
            return dict(self._requests)

    @property
    def queries(self) -> list[dict[str, Any]]:
        """The query string of each of the last requests (up to QUERIES_KEPT), oldest
        first: `{"operation": "lookup", "query": {"installationID": "24", ...}}`."""
        with self._lock:
            return copy.deepcopy(list(self._queries))

    def add_invoice(self, record: dict[str, Any]) -> None:
        """Add or replace one invoice, keyed by the partner's invoice number field."""
        number = record.get(self._records.INVOICE_KEY) if isinstance(record, dict) else None
        if not isinstance(number, str) or not number:
            raise ValueError(f"an invoice needs a non-empty {self._records.INVOICE_KEY!r}")
        with self._lock:
            self._invoices[number] = copy.deepcopy(record)

    def add_open_invoice(
        self, number: str, *, balance: Decimal, account: str, name: str
    ) -> tuple[str, dict[str, Any]]:
        """Add an invoice of `balance` in the partner's own format; returns the
        account number the partner files it under, and the record."""
        record = self._records.open_invoice(number, balance=balance, account=account, name=name)
        self.add_invoice(record)
        return record[self._records.ACCOUNT_KEY], record

    def get_invoice(self, invoice_number: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._invoices.get(invoice_number)
            return copy.deepcopy(record) if record is not None else None

    def count_request(self, operation: str, query: dict[str, str] | None = None) -> None:
        with self._lock:
            self._requests[operation] += 1
            self._queries.append({"operation": operation, "query": dict(query or {})})

    def apply_payment(
        self, *, key: str, invoice_number: str, amount: Decimal, body: Any
    ) -> dict[str, Any]:
        """Apply a payment to its invoice's balance and record it; LookupError if unknown.

        The partners do not deduplicate: a second payment with the same key is
        applied again, and flagged `duplicate` so that tests can see it.
        """
        received_at = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock:
            record = self._invoices.get(invoice_number)
            if record is None:
                raise LookupError(invoice_number)
            self._records.apply_payment(record, amount, received_at)
            payment = {
                "received_at": received_at,
                "key": key,
                "invoice_number": invoice_number,
                "amount": str(amount.quantize(Decimal("0.01"))),
                "body": copy.deepcopy(body),
                "duplicate": any(p["key"] == key for p in self._payments),
                "receipt": str(self._next_receipt),
            }
            self._next_receipt += 1
            self._payments.append(payment)
            return copy.deepcopy(payment)

    def payments_for(self, key: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy([p for p in self._payments if p["key"] == key])

    def snapshot(self) -> dict[str, Any]:
        """A JSON-serialisable copy of the whole ledger."""
        with self._lock:
            return copy.deepcopy(
                {
                    "invoices": self._invoices,
                    "payments": self._payments,
                    "requests": dict(self._requests),
                }
            )

    def reset(self, demo_data: bool) -> None:
        """Forget every invoice, payment and request count; reload the demo invoices if asked."""
        with self._lock:
            self._invoices = {}
            self._payments = []
            self._requests = Counter()
            self._queries.clear()
            self._next_receipt = self._records.FIRST_RECEIPT
            if demo_data:
                for record in self._records.demo_invoices():
                    self._invoices[record[self._records.INVOICE_KEY]] = record
