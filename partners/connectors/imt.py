"""IMT Software Services (BID 1367's technical design): invoice detail for the
RTDR balance update, post-payment for the Data Pump, and the bill PDF. Auth is
the X-Integrator-ID header."""

import json
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from billers.catalog import SettingId
from partners.connectors.base import (
    BalanceUpdate,
    BillDocument,
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
    status_error,
)
from partners.connectors.http import PartnerHttpClient, Response

# IMT's settings: RTDR_URL holds the API's base URL (one for RTDR and the Data
# Pump), RTDR_KEY and PAYMENTS_PASSWORD the integrator ID (either serves for both).

DEFAULT_BASE_URLS = {
    "test": "https://billingtest.imtapps.com",
    "prod": "https://billing.imtapps.com",
}
PAYMENT_METHODS = {PaymentMethod.CARD: "credit", PaymentMethod.BANK: "echeck"}


def _money(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


class ImtConnector(Connector):
    partner = "IMT"
    supports_bill_pdf = True
    # The API's base URL (8) serves RTDR and the Data Pump; the integrator ID is
    # read from 10 or 13, either serving for both.
    needed_settings = (
        (SettingId.RTDR_URL,),
        (SettingId.RTDR_KEY, SettingId.PAYMENTS_PASSWORD),
    )
    base_urls = DEFAULT_BASE_URLS

    @property
    def base_url(self) -> str:
        base = self.config.setting(SettingId.RTDR_URL)
        return (base or DEFAULT_BASE_URLS.get(self.config.environment, "")).rstrip("/")

    def _integrator_id(self, setting_id: int) -> str:
        return self.config.setting(setting_id) or self.config.setting(
            SettingId.PAYMENTS_PASSWORD if setting_id == SettingId.RTDR_KEY else SettingId.RTDR_KEY
        )

    def _client(self) -> PartnerHttpClient:
        return PartnerHttpClient(
            partner=self.partner,
            secret_headers=("x-integrator-id",),
            secrets=(
                self.config.setting(SettingId.RTDR_KEY),
                self.config.setting(SettingId.PAYMENTS_PASSWORD),
            ),
        )

    def _invoice_url(self, invoice_number: str, what: str) -> str:
        return f"{self.base_url}/api/integration/invoice/{quote(invoice_number, safe='')}/{what}"

    def _get(self, invoice_number: str, what: str, *, stream=False) -> Response:
        integrator_id = self._integrator_id(SettingId.RTDR_KEY)
        if not integrator_id:
            raise PartnerNotConfigured(f"Biller {self.config.bid} has no Integrator ID.")
        response = self._client().request(
            "GET",
            self._invoice_url(invoice_number, what),
            headers={"X-Integrator-ID": integrator_id},
            stream=stream,
        )
        status = response.status_code
        error = status_error(status, not_found=True)
        if error is None:
            return response
        if stream:
            assert response.raw is not None  # the client keeps the raw response
            response.raw.close()
        raise error(f"IMT answered {status}", exchange=response.exchange)

    def fetch_invoice(self, invoice_number: str) -> PartnerRecord:
        response = self._get(invoice_number, "detail")
        try:
            record = response.json()
        except ValueError:
            record = None
        if not isinstance(record, dict):
            raise PartnerBadResponse("IMT sent no JSON invoice", exchange=response.exchange)
        return PartnerRecord(
            invoice_number=invoice_number, record=record, exchange=response.exchange
        )

    def balance_update(self, record: PartnerRecord) -> BalanceUpdate:
        # "Update balancedue with amountdue; update past due with past_due."
        balance = _money(record.record.get("amount_due"))
        if balance is None:
            raise PartnerBadResponse("IMT's invoice has no amount_due", exchange=record.exchange)
        return BalanceUpdate(balance_due=balance, past_due=_money(record.record.get("past_due")))

    def reconciliation_figure(self, record: dict) -> Decimal | None:
        return _money(record.get("paid_amount"))

    def figure_after_payment(self, figure: Decimal, amount: Decimal) -> Decimal:
        return figure + amount  # a payment raises the invoice's paid amount

    def payment_body(self, payment: PaymentRequest) -> dict:
        return {
            "customer": payment.account_number,
            "invoice_number": payment.invoice_number,
            "transaction_id": payment.payment_guid,
            "amount": f"{payment.amount.quantize(Decimal('0.01'))}",
            "payment_method": PAYMENT_METHODS[payment.method],
            "message": "",
            "source": "invoice_cloud",
        }

    def post_payment(self, payment: PaymentRequest) -> PostResult:
        integrator_id = self._integrator_id(SettingId.PAYMENTS_PASSWORD)
        if not integrator_id or not self.base_url:
            return PostResult.failed(
                PartnerNotConfigured,
                None,
                f"Biller {self.config.bid} has no IMT base URL or Integrator ID.",
            )
        client = self._client()
        try:
            response = client.request(
                "POST",
                f"{self.base_url}/api/integration/invoice/post-payment",
                headers={"X-Integrator-ID": integrator_id, "Content-Type": "application/json"},
                data=json.dumps(self.payment_body(payment)).encode("utf-8"),
            )
        except PartnerError as e:
            return PostResult.of_error(e)
        status, exchange = response.status_code, response.exchange
        if 200 <= status < 300:
            try:
                answer = response.json()
            except ValueError:
                answer = None
            receipt = str(answer.get("id", "")) if isinstance(answer, dict) else ""
            receipt = client.redactor.text(receipt)  # kept on the payment: see CitizenServe
            return PostResult(Outcome.SUCCESS, exchange, receipt_number=receipt)
        error = status_error(status)
        assert error is not None  # not a 2xx
        # A 400 says what was wrong with the post: keep it for the person who reads it.
        return PostResult.failed(
            error, exchange, exchange.response_body[:500] or f"IMT answered {status}"
        )

    def fetch_bill_pdf(self, invoice_number: str) -> BillDocument:
        response = self._get(invoice_number, "pdf", stream=True)
        return BillDocument(
            content_type=response.headers.get("Content-Type", "application/pdf"),
            chunks=response.iter_body(),
            exchange=response.exchange,
            declared_length=response.declared_length,
        )
