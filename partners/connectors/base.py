"""The one interface every partner connector implements.

Inputs and results are frozen dataclasses, never models: a connector knows a
partner's wire format and nothing of the hub's database. Lookups raise a
PartnerError subclass when they do not succeed; posts return a result whose
`outcome` is one of the four, so that the Data Pump can record every attempt.
"""

import datetime
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from partners.connectors.errors import NotSupported, Outcome, PartnerError
from partners.connectors.http import Exchange


class PaymentMethod:
    CARD = "card"
    BANK = "bank"


@dataclass(frozen=True)
class ConnectorConfig:
    """What a connector needs of a biller: its settings, decrypted, by setting ID,
    and its time zone (an IANA name: the biller's days are days there)."""

    bid: int
    partner: str
    environment: str
    settings: dict[int, str]
    time_zone: str

    def setting(self, setting_id: int) -> str:
        return self.settings.get(setting_id, "") or ""


@dataclass(frozen=True)
class PartnerRecord:
    """An invoice as the partner returned it (its own field names)."""

    invoice_number: str
    record: dict
    exchange: Exchange | None


@dataclass(frozen=True)
class BalanceUpdate:
    """A refreshed balance, in the hub's terms. None means the partner did not say."""

    balance_due: Decimal | None
    past_due: Decimal | None = None
    total_amount_due: Decimal | None = None


@dataclass(frozen=True)
class PaymentRequest:
    payment_guid: str
    invoice_number: str
    account_number: str
    amount: Decimal  # without the service fee
    method: str  # PaymentMethod.CARD or PaymentMethod.BANK
    approval_code: str
    payer_name: str
    paid_on: datetime.date  # the day of paid_at in the biller's time zone


@dataclass(frozen=True)
class ReversalRequest:
    payment_guid: str
    invoice_number: str
    account_number: str
    amount: Decimal
    kind: str  # "void" or "ach_return"
    return_code: str = ""


@dataclass(frozen=True)
class PostResult:
    """The end of a post: one of the four outcomes, with what the partner said."""

    outcome: Outcome
    exchange: Exchange | None
    receipt_number: str = ""
    message: str = ""
    error_code: str = ""

    @property
    def succeeded(self) -> bool:
        return self.outcome == Outcome.SUCCESS

    @classmethod
    def failed(cls, error: type[PartnerError], exchange: Exchange | None, message: str):
        return cls(error.outcome, exchange, message=message, error_code=error.code)

    @classmethod
    def of_error(cls, error: PartnerError):
        return cls(error.outcome, error.exchange, message=error.message, error_code=error.code)


@dataclass(frozen=True)
class BillDocument:
    content_type: str
    chunks: Iterator[bytes] = field(repr=False)
    exchange: Exchange | None = None
    declared_length: int | None = None  # the partner's Content-Length, when it gave one


class Connector(ABC):
    """One partner. Subclasses set `partner` and implement the calls they have."""

    partner: str = ""
    supports_invoice_on_demand = False
    supports_reversal = False
    supports_bill_pdf = False
    # What the go-live checklist (onboarding.go_live) asks of a biller of this
    # partner: each group is met when one of its settings is set (a URL, a secret).
    needed_settings: ClassVar[tuple[tuple[int, ...], ...]] = ()
    # The partner's base URL (scheme and host) per environment, from its document:
    # a promotion to production rewrites the URL settings from one to the other.
    base_urls: ClassVar[dict[str, str]] = {}

    def __init__(self, config: ConnectorConfig):
        self.config = config

    @abstractmethod
    def fetch_invoice(self, invoice_number: str) -> PartnerRecord:
        """The partner's record of one invoice; raises PartnerNotFound when absent."""

    def balance_update(self, record: PartnerRecord) -> BalanceUpdate | None:
        """The balance in a partner record by the partner's own documented rule, or
        None when the biller's field mapping says where the balance is."""
        return None

    @abstractmethod
    def post_payment(self, payment: PaymentRequest) -> PostResult:
        """Post one payment. Never raises for a partner problem: see `outcome`."""

    def reconciliation_figure(self, record: dict) -> Decimal | None:
        """The number in the partner's invoice record that a payment changes (a
        balance due or a paid amount), or None when the record has none: what the
        Data Pump compares before and after a post whose outcome is unknown."""
        return None

    def figure_after_payment(self, figure: Decimal, amount: Decimal) -> Decimal:
        """The reconciliation figure once a payment of `amount` is applied."""
        raise NotSupported(f"{self.partner} has no reconciliation figure.")

    def post_reversal(self, reversal: ReversalRequest) -> PostResult:
        raise NotSupported(f"{self.partner} has no reversal call in its documents.")

    def fetch_bill_pdf(self, invoice_number: str) -> BillDocument:
        raise NotSupported(f"{self.partner} has no bill presentment call in its documents.")
