"""Bad input to the portal (issue 15, item 5): a page number out of range,
negative or not a number, another numeric query value, a tick-off note with a
control character. Each is a 400 portal page that says what was wrong, never a
500 (a huge page once raised `DataError: bigint out of range` on PostgreSQL)."""

import html

import pytest
from django.urls import reverse

from payments.models import OperatorAction, ReversalStatus
from tests.portal.builders import reversal_to_apply
from tests.portal.test_files import _errors, stored_file

BAD_PAGES = [
    "99999999999999999999",  # the request
    "1000001",  # one past the last page offered
    "-1",
    "0",
    "abc",
    "1e3",
    "²",  # a digit to str.isdigit, not to int()
    "١٢",  # Arabic-Indic digits: int() reads them, the portal does not
    "1%00",
]


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    settings.ICI_INVOICE_FILE_DIR = tmp_path / "invoice-files"


def _portal_400(response) -> str:
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    body = html.unescape(response.content.decode())
    assert 'class="card error"' in body  # the message, in the portal's own page
    assert "portal" in body.lower()
    return body


@pytest.mark.parametrize("page", BAD_PAGES)
def test_a_bad_page_of_the_files_list_is_a_400_portal_page(portal, biller, page):
    stored_file(biller)

    response = portal.get(reverse("portal:files", kwargs={"bid": biller.bid}) + f"?page={page}")

    assert "The page number must be a whole number from 1 to 1,000,000" in _portal_400(response)


@pytest.mark.parametrize("page", BAD_PAGES)
def test_a_bad_page_of_a_files_row_errors_is_a_400_portal_page(portal, biller, page):
    invoice_file = stored_file(biller)
    _errors(invoice_file, 3)
    url = reverse("portal:file", kwargs={"bid": biller.bid, "file_id": invoice_file.pk})

    body = _portal_400(portal.get(f"{url}?page={page}"))

    assert "The page number must be a whole number from 1 to 1,000,000" in body
    assert invoice_file.original_name in body  # still the file's page


def test_the_last_page_offered_is_answered_without_an_error(portal, biller):
    stored_file(biller)
    url = reverse("portal:files", kwargs={"bid": biller.bid})

    response = portal.get(f"{url}?page=1000000")

    # no such page among a biller's few files: the ordinary "no page" answer, not a 500
    assert "There is no page 1000000" in _portal_400(response)


@pytest.mark.parametrize("days", ["99999999999999999999", "-7", "abc", "³0", "30.0"])
def test_a_bad_activity_period_is_a_400_portal_page(portal, biller, days):
    response = portal.get(reverse("portal:activity", kwargs={"bid": biller.bid}) + f"?days={days}")

    assert "Choose 7, 30 or 90 days" in _portal_400(response)


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85"])
def test_a_tick_off_note_with_a_control_character_is_refused_and_nothing_changes(
    portal, biller, char
):
    reversal = reversal_to_apply(biller)
    url = reverse("portal:reversal_applied", kwargs={"bid": biller.bid, "reversal_id": reversal.pk})

    response = portal.post(url, {"note": f"applied{char}in our system"})

    assert "A note cannot hold a control character" in _portal_400(response)
    reversal.refresh_from_db()
    assert reversal.status == ReversalStatus.TO_APPLY
    assert not OperatorAction.objects.exists()


def test_a_note_over_several_lines_is_kept(portal, biller):
    reversal = reversal_to_apply(biller)
    url = reverse("portal:reversal_applied", kwargs={"bid": biller.bid, "reversal_id": reversal.pk})

    portal.post(url, {"note": "Voided in Munis.\r\n\tBatch 12"})

    reversal.refresh_from_db()
    assert reversal.status == ReversalStatus.APPLIED
    assert OperatorAction.objects.get().reason == "Voided in Munis.\r\n\tBatch 12"
