"""The portal's input: the payment history's filters and sort (a Django form
over the GET parameters), and the page numbers and periods other pages take.

Anything invalid is a message that says what was wrong; the views answer it
with the page and 400.
"""

import datetime

from django import forms

from payments.models import PaymentMethod, PaymentStatus
from portal.selectors.history import DEFAULT_SORT, HistoryQuery

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
        assert data is not None  # Django's own clean() returns cleaned_data
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
        # django-stubs: an ErrorList yields its messages (its __getitem__ unwraps
        # each ValidationError), not the ValidationErrors it holds.
        return [message for errors in self.errors.values() for message in errors]  # type: ignore[misc]


class BadInput(Exception):
    pass


# The highest page any list offers: far beyond any biller's files or row errors,
# and small enough that the offset it makes fits every database's integers.
PAGE_MAX = 1_000_000


def _ascii_number(raw: str) -> int | None:
    """`raw` as a whole number when it is 1 to 7 ASCII digits, else None.
    (`str.isdigit` also accepts "²" and other digits `int()` refuses or reads.)"""
    if not raw or len(raw) > 7 or not raw.isascii() or not raw.isdigit():
        return None
    return int(raw)


def page_number(request, name: str = "page") -> int:
    """The `page` query value: a whole number from 1 to PAGE_MAX, else BadInput."""
    raw = request.GET.get(name, "1").strip() or "1"
    number = _ascii_number(raw)
    if number is None or not 1 <= number <= PAGE_MAX:
        raise BadInput(
            f"The page number must be a whole number from 1 to {PAGE_MAX:,} ({raw[:20]!r} given)."
        )
    return number


ACTIVITY_DAYS = (7, 30, 90)


def activity_days(raw: str) -> int:
    """The activity page's period: one of ACTIVITY_DAYS (`raw` already stripped)."""
    number = _ascii_number(raw)
    if number is None or number not in ACTIVITY_DAYS:
        *others, last = (str(d) for d in ACTIVITY_DAYS)
        choices = f"{', '.join(others)} or {last}"
        raise BadInput(f"Choose {choices} days ({raw[:20]!r} given).")
    return number
