import pytest

from invoicefiles.services.storage import files_dir
from invoicefiles.services.uploads import invoice_file_receive


@pytest.fixture(autouse=True)
def _fresh_throttles(fresh_throttles):
    """Every test here starts and ends with an empty cache (the API's throttles)."""


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
