"""A payment's page: its facts, the calls to the partner in plain words, and
its reversal."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from partners.selectors import biller_redactor
from payments.models import ReversalStatus
from payments.services.reversals import NOTE_MAX
from portal import formatting
from portal.access import biller_page
from portal.selectors.payments import payment_detail


@require_GET
@login_required
@biller_page
def payment(request, biller, payment_guid):
    detail = payment_detail(biller=biller, payment_guid=payment_guid)
    if detail is None:
        raise Http404("No such payment.")
    scrub = formatting.Scrubber(biller_redactor(biller=biller))
    reversal = detail.reversal
    noun = formatting.reversal_noun(reversal)
    context = {
        "biller": biller,
        "section": "payments",
        "payment": detail.payment,
        "receipt_number": scrub(detail.payment.receipt_number),
        "delivery": detail.delivery,
        "summary": formatting.delivery_summary(detail.delivery, noun="payment", scrub=scrub),
        "steps": formatting.delivery_steps(detail.delivery, noun="payment", scrub=scrub),
        "reversal": reversal,
        "return_code_meaning": formatting.return_code_meaning(
            reversal.return_code if reversal is not None else None
        ),
        "reversal_summary": (
            formatting.delivery_summary(detail.reversal_delivery, noun=noun, scrub=scrub)
            if detail.reversal_delivery
            else None
        ),
        "reversal_steps": formatting.delivery_steps(
            detail.reversal_delivery, noun=noun, scrub=scrub
        ),
        "to_apply": reversal is not None and reversal.status == ReversalStatus.TO_APPLY,
        "note_max": NOTE_MAX,
        "here": request.path,
    }
    return render(request, "portal/payment.html", context)
