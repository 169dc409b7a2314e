"""Reversals to apply: the list of those the biller applies in its own system,
and ticking one off."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from icintegrations.errors import ApplicationError
from partners.selectors import biller_redactor
from payments.services.reversals import NOTE_MAX, reversal_tick_off
from portal import formatting
from portal.access import biller_page
from portal.selectors.reversals import reversal_of_biller, reversals_to_apply


def _to_apply_page(request, biller, *, error: str = "", status: int = 200):
    lists = reversals_to_apply(biller=biller)
    scrub = formatting.Scrubber(biller_redactor(biller=biller))
    for reversal in (*lists.waiting, *lists.recently_applied):
        reversal.payment.receipt_number = scrub(reversal.payment.receipt_number)  # not saved
    context = {
        "biller": biller,
        "section": "to_apply",
        "lists": lists,
        "note_max": NOTE_MAX,
        "error": error,
        # where each tick-off comes back to (also when this is the answer to one)
        "here": reverse("portal:to_apply", kwargs={"bid": biller.bid}),
    }
    return render(request, "portal/to_apply.html", context, status=status)


@require_GET
@login_required
@biller_page
def to_apply(request, biller):
    return _to_apply_page(request, biller)


@require_POST
@login_required
@biller_page
def reversal_applied(request, biller, reversal_id):
    """Tick a reversal off: applied in the biller's own system. A second tick
    (a double click, a colleague) is told who did it and when."""
    reversal = reversal_of_biller(biller=biller, reversal_id=reversal_id)
    if reversal is None:
        raise Http404("No such reversal.")
    try:
        done = reversal_tick_off(
            reversal=reversal, user=request.user, note=request.POST.get("note", "")
        )
    except ApplicationError as e:
        return _to_apply_page(request, biller, error=e.message, status=400)
    done_reversal, payment = done.reversal, done.reversal.payment
    what = f"{done_reversal.get_kind_display()} of payment {payment.payment_guid}"
    if done.applied_now:
        messages.success(request, f"{what} (invoice {payment.invoice_number}) marked applied.")
    else:
        by = done_reversal.applied_by
        messages.info(
            request,
            f"{what} was already applied by {by.get_username() if by else 'someone'} "
            f"at {formatting.when(done_reversal.applied_at)}.",
        )
    return redirect(_next_url(request, biller))


def _next_url(request, biller) -> str:
    """Back where the form was (the list or the payment), within this biller's portal."""
    target = request.POST.get("next", "")
    if target.startswith(f"/portal/{biller.bid}/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("portal:to_apply", kwargs={"bid": biller.bid})
