"""CitizenServe (City of Peoria's technical design): the getQuery report for
RTDR (invoice generation and, per ITG-3323, balance update) and
addlicensepayment for the Data Pump."""

import json
import re
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from billers.catalog import SettingId
from partners.connectors.base import (
    Connector,
    PartnerRecord,
    PaymentMethod,
    PaymentRequest,
    PostResult,
)
from partners.connectors.errors import (
    Outcome,
    PartnerBadResponse,
    PartnerError,
    PartnerNotConfigured,
    PartnerNotFound,
    PartnerRejected,
    status_error,
)
from partners.connectors.http import PartnerHttpClient

# Settings: RTDR_URL is the getQuery report URL without its Param_1 value (and
# holds the installationID), PAYMENTS_URL is addlicensepayment, PAYMENTS_PASSWORD
# is the apikey header, RTDR_KEY is redacted too.

PAYMENT_TYPES = {PaymentMethod.CARD: "Credit", PaymentMethod.BANK: "ACH"}
RECEIPT = re.compile(r"Receipt\s*#\s*([A-Za-z0-9-]+)")


def _with_query(url: str, **params) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _decimal(value) -> Decimal | None:
    """A JSON number or numeric string as an exact amount; None if it is neither."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return None
    return amount.quantize(Decimal("0.01")) if amount.is_finite() else None


def installation_id(rtdr_url: str) -> int | None:
    """The installationID query parameter of the getQuery URL (setting 8)."""
    value = dict(parse_qsl(urlsplit(rtdr_url).query)).get("installationID", "")
    return int(value) if value.isdigit() else None


class CitizenServeConnector(Connector):
    partner = "CitizenServe"
    supports_invoice_on_demand = True
    needed_settings = (
        (SettingId.RTDR_URL,),
        (SettingId.PAYMENTS_URL,),
        (SettingId.PAYMENTS_PASSWORD,),
    )
    # The document's "Test Endpoint" and "Prod Endpoint" of getQuery.
    base_urls = {"test": "https://test.citizenserve.com", "prod": "https://www.citizenserve.com"}

    def _client(self) -> PartnerHttpClient:
        return PartnerHttpClient(
            partner=self.partner,
            secret_headers=("apikey",),
            secrets=(
                self.config.setting(SettingId.RTDR_KEY),
                self.config.setting(SettingId.PAYMENTS_PASSWORD),
            ),
        )

    def fetch_invoice(self, invoice_number: str) -> PartnerRecord:
        base = self.config.setting(SettingId.RTDR_URL)
        if not base:
            raise PartnerNotConfigured(
                f"Biller {self.config.bid} has no setting {SettingId.RTDR_URL}."
            )
        response = self._client().request(
            "GET",
            _with_query(base, Param_1=invoice_number),
            headers={"Accept": "application/json"},
        )
        exchange = response.exchange
        error = status_error(response.status_code)
        if error is not None:
            raise error(f"CitizenServe answered {response.status_code}", exchange=exchange)
        try:
            rows = response.json()
        except ValueError:
            raise PartnerBadResponse(
                "CitizenServe sent a body that is not JSON", exchange=exchange
            ) from None
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise PartnerBadResponse(
                "CitizenServe sent no JSON array of records", exchange=exchange
            )
        if not rows:
            raise PartnerNotFound(
                f"CitizenServe has no license {invoice_number}", exchange=exchange
            )
        wanted = invoice_number.strip().lower()
        record = next(
            (row for row in rows if str(row.get("licensenumber", "")).strip().lower() == wanted),
            rows[0],
        )
        return PartnerRecord(invoice_number=invoice_number, record=record, exchange=exchange)

    def reconciliation_figure(self, record: dict) -> Decimal | None:
        return _decimal(record.get("balancedue"))

    def figure_after_payment(self, figure: Decimal, amount: Decimal) -> Decimal:
        return figure - amount  # a payment lowers the license's balance due

    def payment_body(self, payment: PaymentRequest) -> dict:
        return {
            "installationID": installation_id(self.config.setting(SettingId.RTDR_URL)),
            "licenseNumber": payment.account_number,
            "paymentAmount": f"{payment.amount.quantize(Decimal('0.01'))}",
            "paymentDate": payment.paid_on.strftime("%m/%d/%Y"),
            "paymentType": PAYMENT_TYPES[payment.method],
            "paymentReference": payment.approval_code,
            "paymentNote": payment.payment_guid,
            "receivedFrom": payment.payer_name,
        }

    def post_payment(self, payment: PaymentRequest) -> PostResult:
        url, key = (
            self.config.setting(SettingId.PAYMENTS_URL),
            self.config.setting(SettingId.PAYMENTS_PASSWORD),
        )
        body = self.payment_body(payment)
        missing = [
            name
            for name, value in (
                (f"setting {SettingId.PAYMENTS_URL}", url),
                (f"setting {SettingId.PAYMENTS_PASSWORD}", key),
                (f"installationID in setting {SettingId.RTDR_URL}", body["installationID"]),
            )
            if not value
        ]
        if missing:
            return PostResult.failed(
                PartnerNotConfigured, None, f"Biller {self.config.bid} lacks {', '.join(missing)}."
            )
        client = self._client()
        try:
            response = client.request(
                "POST",
                url,
                headers={
                    "apikey": key,
                    "Cache-Control": "no-cache",
                    "Content-Type": "text/plain",
                },
                data=json.dumps(body).encode("utf-8"),
            )
        except PartnerError as e:
            return PostResult.of_error(e)
        exchange, status = response.exchange, response.status_code
        error = status_error(status)
        if error is not None:
            return PostResult.failed(error, exchange, f"CitizenServe answered {status}")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "Status" not in answer:
            return PostResult.failed(
                PartnerBadResponse, exchange, "CitizenServe's answer cannot be read"
            )
        # Kept on the attempt and the payment: blanked of the biller's secrets, as the
        # recorded exchange is, should the partner echo one.
        description = client.redactor.text(str(answer.get("Description", "")))
        if answer["Status"] != "Success":
            return PostResult.failed(
                PartnerRejected, exchange, description or str(answer["Status"])
            )
        match = RECEIPT.search(description)
        return PostResult(
            Outcome.SUCCESS, exchange, receipt_number=match.group(1) if match else "",
            message=description,
        )  # fmt: skip
