"""What can go wrong with a partner call, classified once.

Every partner call ends in one of four outcomes (ARCHITECTURE.md, decision 3):
success, rejected (the partner said no: final), not sent (nothing reached the
partner: safe to retry), unknown (the request left and no usable answer came
back: it may have been applied). Anything not listed here is not retryable.
"""

from enum import StrEnum

from icintegrations.errors import ErrorCode


class Outcome(StrEnum):
    SUCCESS = "success"
    REJECTED = "rejected"
    NOT_SENT = "not_sent"
    UNKNOWN = "unknown"


class PartnerError(Exception):
    """A partner call that did not succeed. `exchange` is the redacted record."""

    outcome: Outcome = Outcome.UNKNOWN
    code: ErrorCode = ErrorCode.PARTNER_ERROR

    def __init__(self, message: str, *, exchange=None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.exchange = exchange
        self.status_code = status_code

    @property
    def sent(self) -> bool:
        return self.outcome != Outcome.NOT_SENT

    @property
    def retry_safe(self) -> bool:
        return self.outcome == Outcome.NOT_SENT


class PartnerNotSent(PartnerError):
    """Connection refused, DNS failure, connect timeout: the partner saw nothing."""

    outcome = Outcome.NOT_SENT
    code = ErrorCode.PARTNER_UNAVAILABLE


class PartnerUnknown(PartnerError):
    """Sent, and no usable answer: a 5xx, a reset connection, a malformed body."""

    outcome = Outcome.UNKNOWN
    code = ErrorCode.PARTNER_UNAVAILABLE


class PartnerTimeout(PartnerUnknown):
    """Sent, and no answer within the read timeout."""

    code = ErrorCode.PARTNER_TIMEOUT


class PartnerBadResponse(PartnerUnknown):
    """An answer the connector cannot read (not JSON, wrong shape)."""

    code = ErrorCode.PARTNER_BAD_RESPONSE


class PartnerRejected(PartnerError):
    """The partner refused the request (4xx, or a failure status in its body)."""

    outcome = Outcome.REJECTED
    code = ErrorCode.PARTNER_REJECTED


class PartnerAuthError(PartnerRejected):
    """The partner refused our credentials (401/403): a configuration problem."""

    code = ErrorCode.PARTNER_AUTH_FAILED


class PartnerNotFound(PartnerRejected):
    """The partner has no such invoice."""

    code = ErrorCode.PARTNER_NOT_FOUND


class NotSupported(Exception):
    """The partner has no such call (e.g. no reversal API in its documents)."""


class PartnerNotConfigured(PartnerNotSent):
    """A setting the call needs is missing: nothing was sent; fix the biller's set-up."""

    code = ErrorCode.PARTNER_NOT_CONFIGURED


def status_error(status: int, *, not_found: bool = False) -> type[PartnerError] | None:
    """What a partner's HTTP status means, for every connector: None for 2xx.

    401/403: our credentials refused; 5xx: no usable answer (it may have been
    applied); any other status, a redirect included (never followed): refused.
    `not_found` makes 404 mean "no such invoice" (a lookup by invoice number).
    """
    if 200 <= status < 300:
        return None
    if status in (401, 403):
        return PartnerAuthError
    if not_found and status == 404:
        return PartnerNotFound
    if status >= 500:
        return PartnerUnknown
    return PartnerRejected
