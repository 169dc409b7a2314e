"""Who sees which biller in the portal (selectors)."""

from django.http import Http404

from billers.models import Biller


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
