"""An invoice file's days are the biller's: the mapping's today, the year of a
date, and the BIF's FileCreationDate, on the SQL path and the engine's alike.
IMT is America/Chicago (UTC-6 in winter)."""

import datetime

import pytest

from billers.models import Invoice, MappingRule
from invoicefiles.services.processing import invoice_file_process
from invoicefiles.services.storage import files_dir
from invoicefiles.services.uploads import invoice_file_receive
from tests.support.clock import clock_at
from tests.support.invoicefiles import imt_file, imt_row

pytestmark = pytest.mark.django_db

# 05:30 on New Year's Day in UTC: still 23:30 on December 31st in Chicago.
NEW_YEAR_UTC = datetime.datetime(2027, 1, 1, 5, 30, tzinfo=datetime.UTC)


def _process(biller, *, exact: bool):
    received = invoice_file_receive(
        biller=biller, chunks=[imt_file(imt_row("D01"), imt_row("D02"))], enqueue=False
    )
    result = invoice_file_process(file_id=received.invoice_file.pk, exact=exact)
    assert (result.status, result.accepted) == ("done", 2)
    return result


@pytest.mark.parametrize("exact", [False, True], ids=["sql", "engine"])
def test_the_bif_is_created_on_the_billers_day(imt_biller, monkeypatch, exact):
    clock_at(monkeypatch, NEW_YEAR_UTC)
    result = _process(imt_biller, exact=exact)
    header = (files_dir() / result.bif_path).read_bytes().split(b"\r\n")[0]
    assert b"|2026-12-31|" in header
    assert b"2027-01-01" not in header


@pytest.mark.parametrize("exact", [False, True], ids=["sql", "engine"])
def test_today_and_the_year_of_today_are_the_billers(imt_biller, monkeypatch, exact):
    # Given IMT's InvoiceDate mapped to today (BillerBillYear is the year of InvoiceDate)
    imt_biller.field_mappings.filter(ic_field="InvoiceDate").update(
        rule=MappingRule.TODAY, partner_field=""
    )
    clock_at(monkeypatch, NEW_YEAR_UTC)

    _process(imt_biller, exact=exact)

    dates = set(
        Invoice.objects.filter(biller=imt_biller).values_list("invoice_date", "biller_bill_year")
    )
    assert dates == {(datetime.date(2026, 12, 31), 2026)}
