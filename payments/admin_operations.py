"""The operations page of the admin site (staff only: see payments.admin_urls):
every partner's calls, breakers, billers whose credentials are refused, and the
deliveries waiting for a person."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse

from payments.models import DeliveryStatus
from payments.selectors_operations import DEFAULT_WINDOW, WINDOWS, operations_summary


def _deliveries_url(partner: str, status: str) -> str:
    query = urlencode({"status__exact": status, "partner__exact": partner})
    return f"{reverse('admin:payments_delivery_changelist')}?{query}"


def operations_view(request):
    """Every partner at a glance over a recent window (staff only: see payments.admin_urls)."""
    window = request.GET.get("window", DEFAULT_WINDOW)
    if window not in WINDOWS:
        window = DEFAULT_WINDOW
    summary = operations_summary(window=window)
    partners = [
        {
            "name": p.partner,
            "sources": [("Real-time calls (RTDR, bills)", p.realtime), ("Data Pump", p.pump)],
            "dead_letters": p.dead_letters,
            "dead_letters_url": _deliveries_url(p.partner, DeliveryStatus.DEAD),
            "review_items": p.review_items,
            "review_items_url": _deliveries_url(p.partner, DeliveryStatus.REVIEW),
            "breaker": p.breaker,
        }
        for p in summary.partners
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Operations",
        "summary": summary,
        "partners": partners,
        "windows": list(WINDOWS),
        "breakers_url": reverse("admin:payments_circuitbreaker_changelist"),
        "holds_url": reverse("admin:payments_credentialhold_changelist"),
        "auth_retry_minutes": f"{settings.ICI_PUMP_AUTH_RETRY_MINUTES:g}",
    }
    return TemplateResponse(request, "admin/operations.html", context)
