"""Biller portal users: Django users who are members of one or more billers.

Adding a biller to an existing user is additive: its password is neither asked
for nor changed. A new user's password is validated by Django's validators."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from billers.models import BillerMembership
from billers.selectors import billers_get
from icintegrations.errors import ApplicationError, ErrorCode


@dataclass(frozen=True)
class PortalUserSaved:
    user: User
    created: bool
    added: list[int] = field(default_factory=list)  # BIDs the user was made a member of


def portal_user_exists(*, username: str) -> bool:
    """Whether `username` names an account already (then no password is asked for)."""
    return get_user_model().objects.filter(username=username.strip()).exists()


@transaction.atomic
def portal_user_save(
    *, username: str, bids: list[int], password: str | None = None, email: str = ""
) -> PortalUserSaved:
    """Create the portal user `username` with `password` and the billers `bids`;
    for an existing user, add the billers and change nothing else (password,
    email). Nothing is written when a BID is unknown or a password refused."""
    username = username.strip()
    if not username:
        raise ApplicationError("A portal user needs a username.", code=ErrorCode.INVALID_USERNAME)
    if not bids:
        raise ApplicationError(
            "A portal user needs at least one biller.", code=ErrorCode.NO_BILLERS
        )
    billers_get(bids=bids)
    user = get_user_model().objects.select_for_update().filter(username=username).first()
    if user is not None:
        return PortalUserSaved(
            user, created=False, added=portal_user_billers_add(user=user, bids=bids)
        )
    if not password:
        raise ApplicationError(
            f"{username!r} is a new portal user: it needs a password.",
            code=ErrorCode.WEAK_PASSWORD,
        )
    user = get_user_model()(username=username, email=email)
    _password_check(user, password)
    user.set_password(password)
    user.save()
    return PortalUserSaved(user, created=True, added=portal_user_billers_add(user=user, bids=bids))


@transaction.atomic
def portal_user_billers_add(*, user, bids: list[int]) -> list[int]:
    """Make `user` a member of the billers `bids`; returns the BIDs it was not a
    member of already. An admin account is refused: portal users are separate."""
    if user.is_staff or user.is_superuser:
        raise ApplicationError(
            f"{user.get_username()!r} is an admin user; portal users are separate accounts.",
            code=ErrorCode.ADMIN_USER,
        )
    added = []
    for biller in billers_get(bids=bids):
        _, created = BillerMembership.objects.get_or_create(user=user, biller=biller)
        if created:
            added.append(biller.bid)
    return added


def portal_user_password_set(*, user, password: str) -> None:
    """Set a portal user's password (the demo's reset), validated as a new one is."""
    _password_check(user, password)
    user.set_password(password)
    user.save(update_fields=["password"])


def _password_check(user, password: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as e:
        raise ApplicationError(" ".join(e.messages), code=ErrorCode.WEAK_PASSWORD) from None
