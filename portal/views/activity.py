"""The activity page: payments received per day, by outcome, as a chart and a
table."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal import charts
from portal.access import biller_page
from portal.forms import ACTIVITY_DAYS, BadInput, activity_days
from portal.selectors.activity import payment_activity


@require_GET
@login_required
@biller_page
def activity(request, biller):
    context = {"biller": biller, "section": "activity", "choices": ACTIVITY_DAYS}
    try:
        number = activity_days(request.GET.get("days", "30").strip())
    except BadInput as e:
        context.update({"days": 30, "error": str(e)})
        return render(request, "portal/activity.html", context, status=400)
    days = payment_activity(biller=biller, days=number)
    rows, totals = charts.activity_table(days)
    context.update(
        {
            "days": number,
            "time_zone": biller.time_zone,
            "chart": charts.activity_chart(days),
            "rows": rows,
            "totals": totals,
        }
    )
    return render(request, "portal/activity.html", context)
