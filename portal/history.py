"""Payment history, its totals and its CSV export (portal pages).

The filters come as GET parameters (`from`, `to`, `status`, `method`,
`source`, `number`, `payer`, `sort`, and `cursor` for a page after the first);
anything invalid is answered with the page, a message saying what, and 400.
The reads are in `portal.payment_history`.
"""

import datetime
import uuid
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from payments.models import PaymentMethod, PaymentStatus, ReversalKind, ReversalStatus
from portal.access import portal_biller
from portal.payment_history import (
    DEFAULT_SORT,
    HistoryQuery,
    InvalidCursor,
    payment_history_csv,
    payment_history_page,
    payment_history_totals,
)

# Short labels for the filter (the models' labels are sentences).
STATUS_CHOICES = [
    (PaymentStatus.PENDING, "Pending"),
    (PaymentStatus.POSTED, "Posted"),
    (PaymentStatus.REJECTED, "Rejected"),
    (PaymentStatus.REVIEW, "Review"),
    (PaymentStatus.FAILED, "Failed"),
    (PaymentStatus.REVERSED, "Reversed (never sent)"),
]
SORT_CHOICES = [
    ("-paid_at", "Newest first"),
    ("paid_at", "Oldest first"),
    ("-amount", "Largest amount first"),
    ("amount", "Smallest amount first"),
]
# Dates a filter may name: wide, but a day's bounds in any time zone stay
# within what a datetime can hold.
EARLIEST, LATEST = datetime.date(1900, 1, 1), datetime.date(9998, 12, 31)
BAD_CURSOR = (
    "This page link is not valid: it was changed, or it belongs to another list. "
    "Start again from the first page."
)


class HistoryFilterForm(forms.Form):
    """The history's filters and sort, as GET parameters (`from` and `to` are
    Python keywords, hence the fields added in __init__)."""

    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), *STATUS_CHOICES],
        error_messages={"invalid_choice": "Unknown status “%(value)s”."},
    )
    method = forms.ChoiceField(
        required=False,
        choices=[("", "Card or bank"), *PaymentMethod.choices],
        error_messages={"invalid_choice": "Unknown payment method “%(value)s”."},
    )
    source = forms.CharField(required=False, max_length=32, label="Source code (exact)")
    number = forms.CharField(
        required=False, max_length=100, label="Invoice or account number (exact)"
    )
    payer = forms.CharField(required=False, max_length=200, label="Payer name starts with")
    sort = forms.ChoiceField(
        required=False,
        choices=SORT_CHOICES,
        error_messages={"invalid_choice": "Unknown sort “%(value)s”."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = {
            "from": forms.DateField(
                required=False,
                label="Paid from",
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                error_messages={"invalid": "“Paid from” must be a date such as 2026-11-20."},
            ),
            "to": forms.DateField(
                required=False,
                label="Paid to (inclusive)",
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                error_messages={"invalid": "“Paid to” must be a date such as 2026-11-20."},
            ),
        }
        self.fields = {**fields, **self.fields}

    def clean(self):
        data = super().clean()
        for name, label in (("from", "Paid from"), ("to", "Paid to")):
            day = data.get(name)
            if day and not EARLIEST <= day <= LATEST:
                self.add_error(
                    name, f"“{label}” is out of range: give a date from {EARLIEST} to {LATEST}."
                )
        start, end = data.get("from"), data.get("to")
        if start and end and start > end:
            raise forms.ValidationError("“Paid from” is after “Paid to”.")
        return data

    def query(self) -> HistoryQuery:
        data = self.cleaned_data
        return HistoryQuery(
            date_from=data["from"],
            date_to=data["to"],
            status=data["status"],
            method=data["method"],
            source=data["source"],
            number=data["number"],
            payer=data["payer"],
            sort=data["sort"] or DEFAULT_SORT,
        )

    def params(self, *, sort: bool = True) -> dict[str, str]:
        """The valid filters (and sort) as URL parameters, empty ones left out."""
        params = {}
        for name in ("from", "to", "status", "method", "source", "number", "payer"):
            value = self.cleaned_data.get(name)
            if value:
                params[name] = value.isoformat() if hasattr(value, "isoformat") else value
        if sort and self.cleaned_data.get("sort") not in ("", None, DEFAULT_SORT):
            params["sort"] = self.cleaned_data["sort"]
        return params

    def messages(self) -> list[str]:
        return [message for errors in self.errors.values() for message in errors]


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


_REVERSAL_LABELS = {
    (kind, status): f"{kind_label}: {status_label.lower()}"
    for kind, kind_label in ReversalKind.choices
    for status, status_label in ReversalStatus.choices
}


_NO_GUID = str(uuid.UUID(int=0))
_STATUS_LABELS = dict(PaymentStatus.choices)
_METHOD_LABELS = {PaymentMethod.CARD: "Card", PaymentMethod.BANK: "Bank"}


def _present(rows: list[dict], bid: int) -> None:
    """What the page shows of each row, formatted here rather than by template
    filters: 50 rows of filters and {% url %} were a quarter of the page's time."""
    url = reverse("portal:payment", kwargs={"bid": bid, "payment_guid": _NO_GUID})
    for row in rows:
        row["url"] = url.replace(_NO_GUID, str(row["payment_guid"]))
        row["paid"] = timezone.localtime(row["paid_at"]).strftime("%Y-%m-%d %H:%M")
        row["amount_text"] = f"{row['amount']:,.2f}"
        row["fee_text"] = f"{row['service_fee']:,.2f}"
        row["method_label"] = _METHOD_LABELS.get(row["method"], row["method"])
        row["status_label"] = _STATUS_LABELS.get(row["status"], row["status"])
        if row["reversal__kind"]:
            row["reversal_label"] = _REVERSAL_LABELS.get(
                (row["reversal__kind"], row["reversal__status"]), row["reversal__kind"]
            )


def _bad_request(request, biller, form, messages):
    return render(
        request,
        "portal/payments.html",
        {"biller": biller, "section": "payments", "form": form, "errors": messages},
        status=400,
    )


@require_GET
@login_required
def payments(request, bid):
    """The biller's payments, filtered and sorted, one keyset page at a time."""
    biller = portal_biller(user=request.user, bid=bid)
    form = HistoryFilterForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, biller, form, form.messages())
    try:
        page = payment_history_page(
            biller=biller, query=form.query(), cursor=request.GET.get("cursor") or None
        )
    except InvalidCursor:
        return _bad_request(request, biller, form, [BAD_CURSOR])
    _present(page.rows, biller.bid)
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
def totals(request, bid):
    """Count, amount and fees of the filtered set: a page of its own (the no-JS
    link), or with `partial=1` the fragment the history page loads into itself."""
    biller = portal_biller(user=request.user, bid=bid)
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
def export(request, bid):
    """The filtered set as a CSV download, streamed in the page's order."""
    biller = portal_biller(user=request.user, bid=bid)
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
