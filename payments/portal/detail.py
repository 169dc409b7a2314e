"""A payment's page, reversals to apply, invoice files and activity (to be built)."""

from django.http import Http404


def payment(request, bid, payment_guid):
    raise Http404("not built yet")


def to_apply(request, bid):
    raise Http404("not built yet")


def reversal_applied(request, bid, reversal_id):
    raise Http404("not built yet")


def files(request, bid):
    raise Http404("not built yet")


def file(request, bid, file_id):
    raise Http404("not built yet")


def activity(request, bid):
    raise Http404("not built yet")
