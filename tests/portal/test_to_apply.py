"""Reversals to apply in the biller's own system, and ticking them off."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments.models import OperatorAction, ReversalKind, ReversalStatus
from payments.services.reversals import reversal_tick_off
from tests.billers.factories import PortalUserFactory
from tests.payments.factories import ReversalFactory
from tests.portal.builders import posted_payment, reversal_to_apply


def _list_url(biller):
    return reverse("portal:to_apply", kwargs={"bid": biller.bid})


def _tick_url(reversal):
    return reverse(
        "portal:reversal_applied",
        kwargs={"bid": reversal.payment.biller.bid, "reversal_id": reversal.pk},
    )


def _recorded_at(reversal, when):
    type(reversal).objects.filter(pk=reversal.pk).update(created_at=when)


def test_the_list_shows_what_to_apply_oldest_first_with_the_payment(portal, biller):
    newer = reversal_to_apply(biller, invoice_number="INV-NEWER")
    older = reversal_to_apply(
        biller, kind=ReversalKind.ACH_RETURN, return_code="R01", invoice_number="INV-OLDER",
        account_number="C-0406", payer_name="Jose L Salazar",
    )  # fmt: skip
    _recorded_at(older, datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC))
    ReversalFactory(payment=posted_payment(biller), status=ReversalStatus.DELIVERED)

    page = portal.get(_list_url(biller)).content.decode()

    assert "2 waiting" in page
    assert page.index("INV-OLDER") < page.index("INV-NEWER")
    for fact in ("ACH return R01", "$50.00", "C-0406", "Jose L Salazar", "RCPT-77812",
                 str(older.payment.payment_guid), "2026-11-01 00:00 UTC"):  # fmt: skip
        assert fact in page, fact
    assert page.count("Mark applied") == 2
    assert _tick_url(newer) in page and _tick_url(older) in page


def test_an_empty_list_says_so(portal, biller):
    page = portal.get(_list_url(biller)).content.decode()
    assert "Nothing to apply" in page


def test_ticking_off_marks_it_applied_by_whom_and_when(portal, biller, staff):
    reversal = reversal_to_apply(biller, invoice_number="INV-9")

    response = portal.post(_tick_url(reversal), {"note": "Batch 4411"}, follow=True)

    assert response.redirect_chain == [(_list_url(biller), 302)]
    page = response.content.decode()
    guid = reversal.payment.payment_guid
    assert f"Void of payment {guid} (invoice INV-9) marked applied." in page
    assert "Nothing to apply" in page
    recent = page[page.index("Applied in the last 7 days") :]
    assert "clerk" in recent and "Batch 4411" in recent and "INV-9" in recent
    reversal.refresh_from_db()
    assert reversal.status == ReversalStatus.APPLIED
    assert reversal.applied_by == staff
    assert reversal.applied_at is not None
    action = OperatorAction.objects.get(reversal=reversal)
    assert (action.action, action.reason, action.user) == ("applied", "Batch 4411", staff)


def test_a_tick_without_a_note_is_fine(portal, biller):
    reversal = reversal_to_apply(biller)
    assert portal.post(_tick_url(reversal)).status_code == 302
    reversal.refresh_from_db()
    assert reversal.status == ReversalStatus.APPLIED
    note = OperatorAction.objects.get(reversal=reversal).reason
    assert note == "Ticked off in the biller portal."


def test_a_double_click_applies_it_once_and_says_who_did_it(portal, biller, staff):
    reversal = reversal_to_apply(biller)
    portal.post(_tick_url(reversal))
    applied_at = type(reversal).objects.get(pk=reversal.pk).applied_at

    second = portal.post(_tick_url(reversal), follow=True)

    assert second.status_code == 200
    page = second.content.decode()
    assert f"was already applied by clerk at {applied_at:%Y-%m-%d %H:%M} UTC" in page
    assert OperatorAction.objects.filter(reversal=reversal).count() == 1
    assert type(reversal).objects.get(pk=reversal.pk).applied_at == applied_at


def test_two_clerks_at_once_apply_it_once(biller, staff):
    other_clerk = PortalUserFactory(username="colleague", billers=[biller])
    reversal = reversal_to_apply(biller)
    seen_by_first, seen_by_second = (type(reversal).objects.get(pk=reversal.pk) for _ in "ab")

    first = reversal_tick_off(reversal=seen_by_first, user=staff)
    second = reversal_tick_off(reversal=seen_by_second, user=other_clerk)

    assert (first.applied_now, second.applied_now) == (True, False)
    assert second.reversal.applied_by == staff
    assert OperatorAction.objects.filter(reversal=reversal).count() == 1


@pytest.mark.parametrize(
    "status", [ReversalStatus.DELIVERED, ReversalStatus.PENDING, ReversalStatus.NOT_NEEDED]
)
def test_a_reversal_not_waiting_to_be_applied_is_refused_with_a_message(portal, biller, status):
    reversal = ReversalFactory(payment=posted_payment(biller), status=status)

    response = portal.post(_tick_url(reversal))

    assert response.status_code == 400
    assert "This void is not waiting to be applied in your system" in response.content.decode()
    reversal.refresh_from_db()
    assert reversal.status == status
    assert not OperatorAction.objects.exists()


def test_a_note_too_long_is_refused_and_nothing_changes(portal, biller):
    reversal = reversal_to_apply(biller)

    response = portal.post(_tick_url(reversal), {"note": "x" * 501})

    assert response.status_code == 400
    page = response.content.decode()
    assert "A note is at most 500 characters (501 given)." in page
    reversal.refresh_from_db()
    assert reversal.status == ReversalStatus.TO_APPLY
    # the list is there again, and its forms come back to it
    assert page.count(f'name="next" value="{_list_url(biller)}"') == 1


def test_another_billers_reversal_is_not_found_and_stays_to_apply(portal, biller, other_biller):
    theirs = reversal_to_apply(other_biller)
    under_our_bid = reverse(
        "portal:reversal_applied", kwargs={"bid": biller.bid, "reversal_id": theirs.pk}
    )

    assert portal.post(under_our_bid).status_code == 404
    assert portal.post(_tick_url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ReversalStatus.TO_APPLY
    assert not OperatorAction.objects.exists()
    assert str(theirs.payment.payment_guid) not in portal.get(_list_url(biller)).content.decode()


def test_ticking_off_is_a_post(portal, biller):
    reversal = reversal_to_apply(biller)
    assert portal.get(_tick_url(reversal)).status_code == 405
    reversal.refresh_from_db()
    assert reversal.status == ReversalStatus.TO_APPLY


def test_the_tick_off_form_needs_its_csrf_token(staff, biller):
    reversal = reversal_to_apply(biller)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)

    refused = client.post(_tick_url(reversal))

    assert refused.status_code == 403
    reversal.refresh_from_db()
    assert reversal.status == ReversalStatus.TO_APPLY
    # the same form with the token from the page goes through
    client.get(_list_url(biller))
    accepted = client.post(
        _tick_url(reversal), {"csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    )
    assert accepted.status_code == 302
    reversal.refresh_from_db()
    assert reversal.status == ReversalStatus.APPLIED


def test_a_next_page_outside_the_portal_is_not_followed(portal, biller):
    reversal = reversal_to_apply(biller)
    response = portal.post(_tick_url(reversal), {"next": "https://evil.example/portal/"})
    assert response["Location"] == _list_url(biller)


def test_a_long_list_shows_the_oldest_and_says_how_many_wait(portal, biller, monkeypatch):
    from portal.selectors import reversals as selectors

    real = selectors.reversals_to_apply
    monkeypatch.setattr(
        "portal.views.reversals.reversals_to_apply",
        lambda **kw: real(**kw, limit=2),
    )
    for _ in range(3):
        reversal_to_apply(biller)

    page = portal.get(_list_url(biller)).content.decode()

    assert "3 waiting (the oldest 2 shown)" in page
    assert page.count("Mark applied") == 2


def test_applied_ones_are_listed_for_a_week(portal, biller):
    this_week, last_month = reversal_to_apply(biller), reversal_to_apply(biller)
    for reversal in (this_week, last_month):
        portal.post(_tick_url(reversal))
    type(last_month).objects.filter(pk=last_month.pk).update(
        applied_at=timezone.now() - datetime.timedelta(days=8)
    )

    page = portal.get(_list_url(biller)).content.decode()

    recent = page[page.index("Applied in the last 7 days") :]
    assert this_week.payment.invoice_number in recent
    assert last_month.payment.invoice_number not in recent
