"""A user of one biller gets 404 for every page, file and form of another, and
every form of these pages carries its CSRF token."""

import re

import pytest
from django.urls import reverse

from payments.models import OperatorAction, ReversalStatus
from tests.portal.builders import reversal_to_apply
from tests.portal.test_files import stored_file


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    settings.ICI_INVOICE_FILE_DIR = tmp_path / "invoice-files"


def test_every_page_of_another_biller_is_not_found(portal, biller, other_biller):
    theirs = reversal_to_apply(other_biller)
    their_file = stored_file(other_biller)
    objects = {
        "payment_guid": theirs.payment.payment_guid,
        "reversal_id": theirs.pk,
        "file_id": their_file.pk,
    }
    pages = {
        "payment": ["payment_guid"],
        "to_apply": [],
        "files": [],
        "file": ["file_id"],
        "file_bif": ["file_id"],
        "activity": [],
    }
    for name, params in pages.items():
        for bid in (other_biller.bid, biller.bid):  # their BID, and their rows under ours
            if bid == biller.bid and not params:
                continue
            url = reverse(f"portal:{name}", kwargs={"bid": bid, **{p: objects[p] for p in params}})
            assert portal.get(url).status_code == 404, url
    for bid in (other_biller.bid, biller.bid):
        url = reverse("portal:reversal_applied", kwargs={"bid": bid, "reversal_id": theirs.pk})
        assert portal.post(url).status_code == 404, url
    theirs.refresh_from_db()
    assert theirs.status == ReversalStatus.TO_APPLY
    assert not OperatorAction.objects.exists()


def test_every_form_on_these_pages_carries_its_csrf_token(portal, biller):
    reversal = reversal_to_apply(biller)
    pages = [
        reverse("portal:to_apply", kwargs={"bid": biller.bid}),
        reverse(
            "portal:payment",
            kwargs={"bid": biller.bid, "payment_guid": reversal.payment.payment_guid},
        ),
    ]
    for url in pages:
        body = portal.get(url).content.decode()
        forms = re.findall(r'<form[^>]*method="post".*?</form>', body, flags=re.S)
        assert len(forms) >= 2, url  # the tick-off and the log-out
        for form in forms:
            assert 'name="csrfmiddlewaretoken"' in form, (url, form[:120])
