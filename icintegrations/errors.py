"""The hub's domain error: a message for people and a stable code for programs."""


class ApplicationError(Exception):
    """Raised by services; callers turn it into an HTTP answer or a CLI error.

    `code` is stable (programs may depend on it), `message` is for people and
    never carries a secret, `extra` holds structured details.
    """

    status_code = 400

    def __init__(self, message: str, *, code: str, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}

    def __str__(self):
        return f"{self.message} [{self.code}]"


class NotFoundError(ApplicationError):
    status_code = 404


class PartnerUnavailableError(ApplicationError):
    status_code = 503


class PartnerTimeoutError(ApplicationError):
    status_code = 504


class PartnerFailedError(ApplicationError):
    """The partner answered, but not usefully (credentials refused, a bad record)."""

    status_code = 502
