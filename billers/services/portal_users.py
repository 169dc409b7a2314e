"""Biller portal users: Django users who are members of one or more billers."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from billers.models import Biller, BillerMembership
from icintegrations.errors import ApplicationError


@transaction.atomic
def portal_user_create(*, username: str, password: str, bids: list[int], email: str = ""):
    """Create a portal user with access to the billers `bids`, or, when the user
    exists, set its password and add those billers. Nothing is written when a
    BID is unknown or the password is refused."""
    username = username.strip()
    if not username:
        raise ApplicationError("A portal user needs a username.", code="invalid_username")
    if not bids:
        raise ApplicationError("A portal user needs at least one biller.", code="no_billers")
    billers = list(Biller.objects.filter(bid__in=bids))
    missing = sorted(set(bids) - {b.bid for b in billers})
    if missing:
        raise ApplicationError(
            f"No biller with BID {', '.join(map(str, missing))}.", code="biller_not_found"
        )
    User = get_user_model()
    user = User.objects.filter(username=username).first() or User(username=username)
    try:
        validate_password(password, user)
    except ValidationError as e:
        raise ApplicationError(" ".join(e.messages), code="weak_password") from None
    if user.pk and (user.is_staff or user.is_superuser):
        raise ApplicationError(
            f"{username!r} is an admin user; portal users are separate accounts.",
            code="admin_user",
        )
    user.email = email or user.email
    user.set_password(password)
    user.save()
    for biller in billers:
        BillerMembership.objects.get_or_create(user=user, biller=biller)
    return user
