import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from billers.models import Invoice
from billers.services.api_clients import api_client_create
from tests.support.invoicefiles import imt_file, imt_row

URL = "/api/v1/billers/1367/invoice-files"


@pytest.fixture
def post(api, django_capture_on_commit_callbacks):
    def send(content: bytes, *, multipart=False, client=None):
        client = client or api
        with django_capture_on_commit_callbacks(execute=True):
            if multipart:
                upload = io.BytesIO(content)
                upload.name = "imt.txt"
                return client.post(URL, data={"file": upload}, format="multipart")
            return client.post(URL + "?name=imt.txt", data=content, content_type="text/plain")

    return send


def test_a_raw_upload_answers_202_then_its_status_counts_and_errors(post, api):
    response = post(imt_file(imt_row("INV001"), imt_row("INV002", amount="x")))

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["id"]
    status = api.get(f"{URL}/{body['id']}").json()
    assert status["status"] == "done"
    assert (status["rows"], status["accepted"], status["rejected"]) == (2, 1, 1)
    assert status["errors"] == [
        {
            "line": 3,
            "field": "amount_due",
            "message": "'x' is not an amount (ASCII digits, at most two decimals, no exponent) "
            "(FileSpecID 13)",
        }
    ]
    assert status["name"] == "imt.txt"


def test_a_multipart_upload_and_its_bif(post, api):
    response = post(imt_file(imt_row("INV001", amount="9.99")), multipart=True)

    assert response.status_code == 202
    file_id = response.json()["id"]
    bif = api.get(f"{URL}/{file_id}/bif")
    assert bif.status_code == 200
    assert bif["Content-Disposition"].startswith("attachment")
    content = b"".join(bif.streaming_content).decode()
    assert content.startswith("FH|") and "|1|9.99\r\n" in content
    assert "\r\nIH|N||INV001|" in content


def test_the_same_file_twice_is_recognised_and_not_applied_twice(post, api):
    first = post(imt_file(imt_row("INV001", amount="10.00"))).json()
    Invoice.objects.filter(invoice_number="INV001").update(balance_due="4.00")  # paid since

    again = post(imt_file(imt_row("INV001", amount="10.00")))

    assert again.status_code == 200
    assert again.json()["id"] == first["id"] and again.json()["duplicate"] is True
    assert str(Invoice.objects.get(invoice_number="INV001").balance_due) == "4.00"


def test_a_failed_file_sent_again_is_processed_again(post, api, imt_biller):
    content = imt_file(imt_row("INV001"))
    imt_biller.field_mappings.filter(file_spec_id=13).update(partner_field="amount")
    first = post(content).json()
    assert api.get(f"{URL}/{first['id']}").json()["error"]["code"] == "missing_column"
    imt_biller.field_mappings.filter(file_spec_id=13).update(partner_field="amount_due")

    again = post(content)

    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert api.get(f"{URL}/{first['id']}").json()["status"] == "done"
    assert Invoice.objects.filter(invoice_number="INV001").exists()


def test_a_missing_column_is_a_failed_status_naming_it(post, api):
    body = post(imt_file(header="invoice_number|customer_id")).json()

    status = api.get(f"{URL}/{body['id']}").json()
    assert status["status"] == "failed"
    assert status["error"]["code"] == "missing_column"
    assert "'amount_due'" in status["error"]["message"]


def test_a_file_over_the_size_limit_is_refused_and_not_kept(post, settings):
    settings.ICI_INVOICE_FILE_MAX_BYTES = 100
    from invoicefiles.services.storage import files_dir

    response = post(imt_file(*[imt_row(f"INV{n}") for n in range(5)]))

    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert response.json()["extra"]["max_bytes"] == 100
    assert not [p for p in files_dir().rglob("*") if p.is_file()]


def test_the_size_limit_holds_while_streaming(imt_biller, settings):
    settings.ICI_INVOICE_FILE_MAX_BYTES = 10
    from invoicefiles.services.uploads import invoice_file_receive

    with pytest.raises(Exception) as caught:
        invoice_file_receive(biller=imt_biller, chunks=[b"12345", b"67890", b"1"])
    assert caught.value.code == "file_too_large"


def test_another_billers_client_sees_nothing(post, presets):
    _, token = api_client_create(name="peoria-only", bids=[2249])
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = post(imt_file(imt_row()), client=other)

    assert response.status_code == 404
    assert response.json()["code"] == "biller_not_found"


def test_an_unknown_file_id_is_404(api, presets):
    response = api.get(f"{URL}/not-a-uuid")

    assert response.status_code == 404
    assert response.json()["code"] == "invoice_file_not_found"


def test_unauthenticated_is_refused(presets):
    response = APIClient().post(URL, data=b"x", content_type="text/plain")

    assert response.status_code == 401


def test_the_command_imports_a_file_once(imt_biller, tmp_path):
    path = tmp_path / "imt.txt"
    path.write_bytes(imt_file(imt_row("INV001"), imt_row("INV002", amount="bad")))
    out = io.StringIO()

    call_command("import_invoice_file", "1367", str(path), stdout=out)
    call_command("import_invoice_file", "1367", str(path), stdout=out)

    text = out.getvalue()
    assert "done, encoding utf-8, 2 rows, 1 accepted, 1 rejected" in text
    assert "line 3 amount_due" in text
    assert "not applied again" in text
    assert Invoice.objects.count() == 1


def test_the_command_says_why_a_file_fails(imt_biller, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\x00\x01\x02")

    with pytest.raises(CommandError, match="binary"):
        call_command("import_invoice_file", "1367", str(path), stdout=io.StringIO())
