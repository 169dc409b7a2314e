"""Payment history, its totals and its CSV export (portal pages).

The filters come as GET parameters (`from`, `to`, `status`, `method`,
`source`, `number`, `payer`, `sort`, and `cursor` for a page after the first),
read by `portal.forms.HistoryFilterForm`; anything invalid is answered with the
page, a message saying what, and 400. The reads are in `portal.selectors.history`.
"""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from portal.access import biller_page
from portal.formatting import history_rows_format
from portal.forms import HistoryFilterForm
from portal.selectors.history import (
    DEFAULT_SORT,
    InvalidCursor,
    payment_history_csv,
    payment_history_page,
    payment_history_totals,
)

BAD_CURSOR = (
    "This page link is not valid: it was changed, or it belongs to another list. "
    "Start again from the first page."
)


def _url(name: str, bid: int, params: dict[str, str]) -> str:
    url = reverse(name, kwargs={"bid": bid})
    return f"{url}?{urlencode(params)}" if params else url


def _page_urls(bid: int, form: HistoryFilterForm, page) -> dict:
    filters = form.params(sort=False)
    sort = form.cleaned_data.get("sort") or DEFAULT_SORT
    with_sort = form.params()

    def by(column: str) -> str:
        target = column if sort == f"-{column}" else f"-{column}"
        params = dict(filters)
        if target != DEFAULT_SORT:
            params["sort"] = target
        return _url("portal:payments", bid, params)

    return {
        "sort_paid_url": by("paid_at"),
        "sort_amount_url": by("amount"),
        "first_url": _url("portal:payments", bid, with_sort),
        "next_url": _url("portal:payments", bid, {**with_sort, "cursor": page.next_cursor})
        if page.next_cursor
        else None,
        "prev_url": _url("portal:payments", bid, {**with_sort, "cursor": page.prev_cursor})
        if page.prev_cursor
        else None,
        "export_url": _url("portal:export", bid, with_sort),
        "totals_url": _url("portal:payment_totals", bid, filters),
        "totals_partial_url": _url("portal:payment_totals", bid, {**filters, "partial": "1"}),
    }


def _bad_request(request, biller, form, messages):
    return render(
        request,
        "portal/payments.html",
        {"biller": biller, "section": "payments", "form": form, "errors": messages},
        status=400,
    )


@require_GET
@login_required
@biller_page
def payments(request, biller):
    """The biller's payments, filtered and sorted, one keyset page at a time."""
    form = HistoryFilterForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, biller, form, form.messages())
    try:
        page = payment_history_page(
            biller=biller, query=form.query(), cursor=request.GET.get("cursor") or None
        )
    except InvalidCursor:
        return _bad_request(request, biller, form, [BAD_CURSOR])
    history_rows_format(page.rows, bid=biller.bid)
    sort = form.cleaned_data.get("sort") or DEFAULT_SORT
    return render(
        request,
        "portal/payments.html",
        {
            "biller": biller,
            "section": "payments",
            "form": form,
            "page": page,
            "sort": sort,
            "filtered": bool(form.params(sort=False)),
            **_page_urls(biller.bid, form, page),
        },
    )


@require_GET
@login_required
@biller_page
def totals(request, biller):
    """Count, amount and fees of the filtered set: a page of its own (the no-JS
    link), or with `partial=1` the fragment the history page loads into itself."""
    form = HistoryFilterForm(request.GET)
    partial = request.GET.get("partial") == "1"
    template = "portal/_payment_totals.html" if partial else "portal/payment_totals.html"
    context = {"biller": biller, "section": "payments", "form": form}
    if not form.is_valid():
        return render(request, template, {**context, "errors": form.messages()}, status=400)
    return render(
        request,
        template,
        {
            **context,
            "totals": payment_history_totals(biller=biller, query=form.query()),
            "as_of": timezone.now(),
            "filtered": bool(form.params(sort=False)),
            "one_status": bool(form.cleaned_data["status"]),
            "payments_url": _url("portal:payments", biller.bid, form.params()),
        },
    )


@require_GET
@login_required
@biller_page
def export(request, biller):
    """The filtered set as a CSV download, streamed in the page's order."""
    form = HistoryFilterForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, biller, form, form.messages())
    response = StreamingHttpResponse(
        payment_history_csv(biller=biller, query=form.query()),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="payments-{biller.bid}-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
