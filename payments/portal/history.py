"""Payment history and its CSV export (to be built)."""

from django.http import Http404


def payments(request, bid):
    raise Http404("not built yet")


def export(request, bid):
    raise Http404("not built yet")
