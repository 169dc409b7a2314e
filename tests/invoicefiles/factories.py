import hashlib
import uuid

import factory

from invoicefiles.models import InvoiceFile, InvoiceFileError, InvoiceFileStatus
from tests.billers.factories import BillerFactory


class InvoiceFileFactory(factory.django.DjangoModelFactory):
    """A stored upload's row, queued; no file is written (give `path` and write
    one under `files_dir()` where a test reads it)."""

    class Meta:
        model = InvoiceFile

    id = factory.LazyFunction(uuid.uuid4)
    biller = factory.SubFactory(BillerFactory)
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.id.bytes).hexdigest())
    original_name = "invoices.txt"
    size = 1
    path = factory.LazyAttribute(lambda o: f"uploads/{o.id}")
    status = InvoiceFileStatus.QUEUED


class InvoiceFileErrorFactory(factory.django.DjangoModelFactory):
    """A refused row of a file."""

    class Meta:
        model = InvoiceFileError

    invoice_file = factory.SubFactory(InvoiceFileFactory)
    line = factory.Sequence(lambda n: n + 2)
    field = "due_date"
    message = "'2026-13-01' is not a date."
