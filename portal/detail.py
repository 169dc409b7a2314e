"""A payment's page, reversals to apply, invoice files and activity.

Thin views: `portal_biller` first (404 for a biller the user is not a member
of), then a selector (reads) or a service (the tick-off), then a template.
Bad input is a 400 page that says what was wrong.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from icintegrations.errors import ApplicationError
from invoicefiles.downloads import bif_response
from invoicefiles.selectors import invoice_file_bif
from partners.selectors import biller_redactor
from payments.models import ReversalStatus
from payments.services.reversals import NOTE_MAX, reversal_tick_off
from portal import present
from portal.access import portal_biller
from portal.selectors import (
    invoice_file_errors_page,
    invoice_file_of_biller,
    invoice_files,
    payment_activity,
    payment_detail,
    reversal_of_biller,
    reversals_to_apply,
)

ACTIVITY_DAYS = (7, 30, 90)
FILES_PER_PAGE = 50
ERRORS_PER_PAGE = 200


class BadInput(Exception):
    pass


def _page_number(request, name: str = "page") -> int:
    raw = request.GET.get(name, "1").strip() or "1"
    if not raw.isdigit() or int(raw) < 1:
        raise BadInput(f"The page number must be a whole number from 1 up ({raw[:20]!r} given).")
    return int(raw)


# -- a payment --------------------------------------------------------------------


@require_GET
@login_required
def payment(request, bid, payment_guid):
    biller = portal_biller(user=request.user, bid=bid)
    detail = payment_detail(biller=biller, payment_guid=payment_guid)
    if detail is None:
        raise Http404("No such payment.")
    scrub = present.Scrubber(biller_redactor(biller=biller))
    reversal = detail.reversal
    noun = present.reversal_noun(reversal)
    context = {
        "biller": biller,
        "section": "payments",
        "payment": detail.payment,
        "receipt_number": scrub(detail.payment.receipt_number),
        "delivery": detail.delivery,
        "summary": present.delivery_summary(detail.delivery, noun="payment", scrub=scrub),
        "steps": present.delivery_steps(detail.delivery, noun="payment", scrub=scrub),
        "reversal": reversal,
        "return_code_meaning": present.return_code_meaning(reversal and reversal.return_code),
        "reversal_summary": (
            present.delivery_summary(detail.reversal_delivery, noun=noun, scrub=scrub)
            if detail.reversal_delivery
            else None
        ),
        "reversal_steps": present.delivery_steps(detail.reversal_delivery, noun=noun, scrub=scrub),
        "to_apply": reversal is not None and reversal.status == ReversalStatus.TO_APPLY,
        "note_max": NOTE_MAX,
        "here": request.path,
    }
    return render(request, "portal/payment.html", context)


# -- reversals to apply -------------------------------------------------------------


def _to_apply_page(request, biller, *, error: str = "", status: int = 200):
    lists = reversals_to_apply(biller=biller)
    scrub = present.Scrubber(biller_redactor(biller=biller))
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
def to_apply(request, bid):
    biller = portal_biller(user=request.user, bid=bid)
    return _to_apply_page(request, biller)


@require_POST
@login_required
def reversal_applied(request, bid, reversal_id):
    """Tick a reversal off: applied in the biller's own system. A second tick
    (a double click, a colleague) is told who did it and when."""
    biller = portal_biller(user=request.user, bid=bid)
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
            f"at {present.when(done_reversal.applied_at)}.",
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


# -- invoice files -------------------------------------------------------------------


@require_GET
@login_required
def files(request, bid):
    biller = portal_biller(user=request.user, bid=bid)
    context = {"biller": biller, "section": "files"}
    try:
        number = _page_number(request)
    except BadInput as e:
        return render(request, "portal/files.html", {**context, "error": str(e)}, status=400)
    rows = invoice_files(biller=biller)
    offset = (number - 1) * FILES_PER_PAGE
    page = list(rows[offset : offset + FILES_PER_PAGE + 1])
    if number > 1 and not page:
        return render(
            request,
            "portal/files.html",
            {**context, "error": f"There is no page {number}: there are fewer files."},
            status=400,
        )
    context.update(
        {
            "files": page[:FILES_PER_PAGE],
            "page": number,
            "has_next": len(page) > FILES_PER_PAGE,
            "offset": offset,
        }
    )
    return render(request, "portal/files.html", context)


@require_GET
@login_required
def file(request, bid, file_id):
    biller = portal_biller(user=request.user, bid=bid)
    invoice_file = invoice_file_of_biller(biller=biller, file_id=file_id)
    if invoice_file is None:
        raise Http404("No such file.")
    scrub = present.Scrubber(biller_redactor(biller=biller))
    context = {
        "biller": biller,
        "section": "files",
        "file": invoice_file,
        "file_error": scrub(invoice_file.error_message),
        "warnings": [scrub(str(w)) for w in invoice_file.warnings or ()],
        "has_bif": invoice_file_bif(invoice_file=invoice_file) is not None,
    }
    try:
        number = _page_number(request)
    except BadInput as e:
        return render(request, "portal/file.html", {**context, "error": str(e)}, status=400)
    offset = (number - 1) * ERRORS_PER_PAGE
    errors, total = invoice_file_errors_page(
        invoice_file=invoice_file, offset=offset, limit=ERRORS_PER_PAGE
    )
    if number > 1 and not errors:
        pages = max(1, -(-total // ERRORS_PER_PAGE))
        return render(
            request,
            "portal/file.html",
            {**context, "error": f"There is no page {number} of row errors (pages 1 to {pages})."},
            status=400,
        )
    for error in errors:
        error.message = scrub(error.message)
    context.update(
        {
            "errors": errors,
            "errors_total": total,
            "errors_first": offset + 1,
            "errors_last": offset + len(errors),
            "page": number,
            "per_page": ERRORS_PER_PAGE,
            "has_next": offset + len(errors) < total,
        }
    )
    return render(request, "portal/file.html", context)


@require_GET
@login_required
def file_bif(request, bid, file_id):
    """The file's BIF, streamed; 404 when the file is another biller's or has none."""
    biller = portal_biller(user=request.user, bid=bid)
    invoice_file = invoice_file_of_biller(biller=biller, file_id=file_id)
    path = invoice_file_bif(invoice_file=invoice_file) if invoice_file else None
    if path is None:
        raise Http404("No BIF for this file.")
    return bif_response(invoice_file=invoice_file, path=path)


# -- activity ---------------------------------------------------------------------------


@require_GET
@login_required
def activity(request, bid):
    biller = portal_biller(user=request.user, bid=bid)
    context = {"biller": biller, "section": "activity", "choices": ACTIVITY_DAYS}
    raw = request.GET.get("days", "30").strip()
    if not raw.isdigit() or int(raw) not in ACTIVITY_DAYS:
        *others, last = (str(d) for d in ACTIVITY_DAYS)
        choices = f"{', '.join(others)} or {last}"
        context.update({"days": 30, "error": f"Choose {choices} days ({raw[:20]!r} given)."})
        return render(request, "portal/activity.html", context, status=400)
    days = payment_activity(biller=biller, days=int(raw))
    rows, totals = present.activity_table(days)
    context.update(
        {
            "days": int(raw),
            "time_zone": settings.TIME_ZONE,
            "chart": present.activity_chart(days),
            "rows": rows,
            "totals": totals,
        }
    )
    return render(request, "portal/activity.html", context)
