"""Who sees which biller in the portal (selectors)."""

import functools

from django.http import Http404
from django.utils import timezone

from billers.models import Biller
from billers.zones import zone_of


def portal_billers(*, user) -> list[Biller]:
    """The billers a portal user is a member of, by BID."""
    if not user.is_authenticated:
        return []
    return list(Biller.objects.filter(memberships__user=user).order_by("bid"))


def portal_biller(*, user, bid: int) -> Biller:
    """The biller `bid` if `user` is a member of it; otherwise 404, the same
    answer as for a BID that does not exist."""
    if user.is_authenticated:
        biller = Biller.objects.filter(bid=bid, memberships__user=user).first()
        if biller is not None:
            return biller
    raise Http404("No such biller.")


def biller_page(view):
    """A page of one biller (under @login_required): the view gets the biller
    the user may see (`portal_biller`: 404 otherwise) in place of its BID, and
    renders with times in the biller's time zone, the zone of its days."""

    @functools.wraps(view)
    def page(request, bid: int, **kwargs):
        biller = portal_biller(user=request.user, bid=bid)
        with timezone.override(zone_of(biller.time_zone)):
            return view(request, biller, **kwargs)

    return page
