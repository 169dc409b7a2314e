"""The connectors over real HTTP against the partner sandboxes: what the
partner's ledger received, and how faults end in the four outcomes."""

import datetime
import json
from decimal import Decimal

import pytest

from partners.connectors.base import ConnectorConfig, PaymentMethod, PaymentRequest
from partners.connectors.citizenserve import CitizenServeConnector
from partners.connectors.errors import Outcome, PartnerAuthError, PartnerNotFound
from partners.connectors.imt import ImtConnector
from tests.support.partners import CITIZENSERVE_KEY, IMT_INTEGRATOR_ID


def citizenserve(sandbox, key=CITIZENSERVE_KEY):
    return CitizenServeConnector(
        ConnectorConfig(
            bid=2249,
            partner="CitizenServe",
            environment="test",
            settings={
                8: f"{sandbox.url}/Portal/PortalController?Action=getQuery&portalPageDisplay=true"
                "&report_ID=641&installationID=24&ctzPagePrefix=Portal_&ParamCount=1&Param_1=",
                11: f"{sandbox.url}/citizenws/service/addlicensepayment",
                13: key,
            },
            time_zone="UTC",
        )
    )


def imt(sandbox, integrator_id=IMT_INTEGRATOR_ID):
    return ImtConnector(
        ConnectorConfig(
            bid=1367,
            partner="IMT",
            environment="test",
            settings={8: sandbox.url, 10: integrator_id, 13: integrator_id},
            time_zone="UTC",
        )
    )


def payment(number, account, amount="10.00", guid="c0ffee00-0000-4000-8000-000000000001"):
    return PaymentRequest(
        payment_guid=guid,
        invoice_number=number,
        account_number=account,
        amount=Decimal(amount),
        method=PaymentMethod.CARD,
        approval_code="1234123",
        payer_name="John Smith",
        paid_on=datetime.date(2026, 11, 24),
    )


def test_citizenserve_payment_lands_in_the_ledger_once(citizenserve_sandbox):
    result = citizenserve(citizenserve_sandbox).post_payment(
        payment("PBL19-010007", "PBL19-010007")
    )
    assert result.outcome == Outcome.SUCCESS and result.receipt_number.isdigit()
    [entry] = citizenserve_sandbox.ledger.payments
    assert entry["key"] == "c0ffee00-0000-4000-8000-000000000001"
    assert entry["duplicate"] is False
    assert entry["body"] == {
        "installationID": 24,
        "licenseNumber": "PBL19-010007",
        "paymentAmount": "10.00",
        "paymentDate": "11/24/2026",
        "paymentType": "Credit",
        "paymentReference": "1234123",
        "paymentNote": "c0ffee00-0000-4000-8000-000000000001",
        "receivedFrom": "John Smith",
    }
    assert citizenserve_sandbox.ledger.get_invoice("PBL19-010007")["balancedue"] == 15


def test_citizenserve_refuses_a_wrong_key(citizenserve_sandbox):
    result = citizenserve(citizenserve_sandbox, key="wrong").post_payment(
        payment("PBL19-010007", "PBL19-010007")
    )
    assert (result.outcome, result.error_code) == (Outcome.REJECTED, "partner_auth_failed")
    assert citizenserve_sandbox.ledger.payments == []


def test_citizenserve_unknown_license_is_rejected(citizenserve_sandbox):
    result = citizenserve(citizenserve_sandbox).post_payment(payment("NOPE", "NOPE"))
    assert result.outcome == Outcome.REJECTED
    assert "not found" in result.message


@pytest.mark.parametrize(
    ("faults", "outcome", "applied"),
    [
        ({"error_rate": 1.0}, Outcome.UNKNOWN, False),
        ({"timeout_rate": 1.0, "hang_seconds": 1.0}, Outcome.UNKNOWN, True),
        ({"malformed_rate": 1.0}, Outcome.UNKNOWN, True),
    ],
)
def test_faults_after_sending_are_unknown(citizenserve_sandbox, faults, outcome, applied):
    citizenserve_sandbox.set_faults(**faults)
    result = citizenserve(citizenserve_sandbox).post_payment(
        payment("PBL19-010007", "PBL19-010007")
    )
    assert result.outcome == outcome
    assert bool(citizenserve_sandbox.ledger.payments) is applied


def test_a_partner_that_is_down_is_not_sent(citizenserve_sandbox, imt_sandbox):
    citizenserve_sandbox.go_down(5)
    imt_sandbox.go_down(5)
    result = citizenserve(citizenserve_sandbox).post_payment(
        payment("PBL19-010007", "PBL19-010007")
    )
    assert result.outcome == Outcome.NOT_SENT
    assert imt(imt_sandbox).post_payment(payment("IMT0000001", "C0001")).outcome == Outcome.NOT_SENT


def test_imt_payment_lands_in_the_ledger(imt_sandbox):
    result = imt(imt_sandbox).post_payment(payment("040620220901", "0406", amount="20.00"))
    assert result.outcome == Outcome.SUCCESS and result.receipt_number
    [entry] = imt_sandbox.ledger.payments
    assert entry["body"]["source"] == "invoice_cloud"
    assert entry["body"]["payment_method"] == "credit"
    assert imt_sandbox.ledger.get_invoice("040620220901")["amount_due"] == "30.00"


def test_imt_rejects_a_payment_for_another_customer(imt_sandbox):
    result = imt(imt_sandbox).post_payment(payment("040620220901", "9999"))
    assert (result.outcome, result.error_code) == (Outcome.REJECTED, "partner_rejected")
    assert imt_sandbox.ledger.payments == []


def test_imt_lookup_pdf_and_auth_over_http(imt_sandbox):
    connector = imt(imt_sandbox)
    record = connector.fetch_invoice("040620220901")
    assert connector.balance_update(record).balance_due == Decimal("50.00")
    document = connector.fetch_bill_pdf("040620220901")
    assert b"".join(document.chunks).startswith(b"%PDF")
    with pytest.raises(PartnerNotFound):
        connector.fetch_invoice("NOPE")
    with pytest.raises(PartnerAuthError) as raised:
        imt(imt_sandbox, integrator_id="wrong-id").fetch_invoice("040620220901")
    assert "wrong-id" not in json.dumps(raised.value.exchange.as_dict())
