import pytest

from invoicefiles.services.processing import files_dir
from invoicefiles.services.uploads import invoice_file_receive
from tests.partners.conftest import _fresh_throttles, api  # noqa: F401 - shared fixtures

HEADER = (
    "invoice_number|invoice_date|due_date|amount_due|past_due_amount|customer_id|customer_name|"
    "address|address2|city|state|ZIP|phone|email|registration value"
)


def imt_row(number="INV001", *, date="2026-10-01", due="2026-10-21", amount="50.00",
            past_due="0.00", customer="0406", name="Jane Roe", address="1 Main St",
            address2="", city="Peoria", state="AZ", zip_code="85345", phone="555-0100",
            email="jane@example.test", registration=""):  # fmt: skip
    return "|".join(
        [number, date, due, amount, past_due, customer, name, address, address2, city, state,
         zip_code, phone, email, registration]
    )  # fmt: skip


def imt_file(*rows, header=HEADER, newline="\n") -> bytes:
    return (newline.join([header, *rows]) + newline).encode()


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    settings.ICI_INVOICE_FILE_DIR = tmp_path / "invoice-files"
    yield
    assert files_dir() == tmp_path / "invoice-files"


@pytest.fixture
def imt_biller(presets):
    return presets["imt"]


@pytest.fixture
def upload(imt_biller, django_capture_on_commit_callbacks):
    """Receive bytes as the API would, and run the task (django-q2 sync) on commit."""

    def send(content: bytes, biller=None, name="invoices.txt"):
        with django_capture_on_commit_callbacks(execute=True):
            received = invoice_file_receive(
                biller=biller or imt_biller, chunks=[content], original_name=name
            )
        received.invoice_file.refresh_from_db()
        return received.invoice_file

    return send
