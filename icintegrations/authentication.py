"""API clients authenticate with `Authorization: Bearer <token>`; only the
token's SHA-256 is stored. (Kept apart from rest_framework.views, which imports
the authentication classes named in the settings.)"""

import hashlib

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from billers.models import ApiClient
from icintegrations.memo import TtlCache

_clients = TtlCache("api clients")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ClientPrincipal:
    """request.user for an API client."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, client_id: int, name: str):
        self.pk = self.id = client_id
        self.name = name

    def __str__(self):
        return self.name


class BearerTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as 'Authorization: Bearer <token>'."
            )
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        digest = token_hash(token)
        row = _clients.get_or_load(digest, lambda: _client_row(digest))
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return ClientPrincipal(*row), None

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class IsApiClient(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.user, ClientPrincipal)


def _client_row(digest: str) -> tuple[int, str] | None:
    return (
        ApiClient.objects.filter(token_hash=digest, is_active=True)
        .values_list("id", "name")
        .first()
    )
