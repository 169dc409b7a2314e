"""The one HTTP client every connector uses.

A (connect, read) timeout on every call, no redirects, keep-alive sessions, no
transport-level retries (a retry is the caller's decision, by outcome), and
`requests` exceptions translated into PartnerError subclasses. Secrets (header
values and any string registered as secret) are redacted from the exchange
record and from every log line.
"""

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.exceptions import IncompleteRead, ReadTimeoutError

from partners.connectors.errors import (
    PartnerBadResponse,
    PartnerNotSent,
    PartnerTimeout,
    PartnerUnknown,
)

logger = logging.getLogger("partners.http")

REDACTED = "***"
MAX_BODY_RECORDED = 4000


@dataclass(frozen=True)
class Exchange:
    """One request and its answer as recorded: secrets redacted, bodies cut short."""

    method: str
    url: str
    request_headers: dict
    request_body: str
    status_code: int | None = None
    response_body: str = ""
    duration_ms: float = 0.0
    error: str = ""

    def as_dict(self) -> dict:
        return {
            "method": self.method,
            "url": self.url,
            "request_headers": self.request_headers,
            "request_body": self.request_body,
            "status_code": self.status_code,
            "response_body": self.response_body,
            "duration_ms": round(self.duration_ms, 1),
            "error": self.error,
        }


@dataclass
class Response:
    status_code: int
    headers: dict
    content: bytes
    exchange: Exchange
    raw: requests.Response | None = field(default=None, repr=False)

    @property
    def declared_length(self) -> int | None:
        """The body's length as the partner declared it (`Content-Length`), or
        None: none given, not a number, or a compressed body (whose declared
        length is not that of the bytes `iter_body` yields)."""
        headers = {name.lower(): value for name, value in self.headers.items()}
        if headers.get("content-encoding", "identity").strip().lower() != "identity":
            return None
        value = str(headers.get("content-length", "")).strip()
        return int(value) if value.isascii() and value.isdigit() else None

    def iter_body(self, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        """A streamed body, chunk by chunk. A body that ends before its declared
        length, or a connection that breaks or times out on the way, raises a
        PartnerError (PartnerBadResponse for a short body): never a raw
        `requests` exception, and never a short body taken for a whole one."""
        if self.raw is None:
            yield self.content
            return
        declared, received = self.declared_length, 0
        try:
            for chunk in self.raw.iter_content(chunk_size=chunk_size):
                received += len(chunk)
                yield chunk
        except requests.exceptions.ChunkedEncodingError as e:  # urllib3's IncompleteRead
            received = max(received, _bytes_read(e))
            raise PartnerBadResponse(
                f"the body was cut short: {received}"
                + (f" of {declared}" if declared is not None else "")
                + " bytes",
                exchange=self.exchange,
            ) from e
        except requests.exceptions.ConnectionError as e:
            if not any(isinstance(arg, ReadTimeoutError) for arg in e.args):
                raise PartnerUnknown(
                    f"the connection broke after {received} bytes of the body",
                    exchange=self.exchange,
                ) from e
            raise PartnerTimeout(  # requests turns a read timeout here into a ConnectionError
                f"read timeout after {received} bytes of the body", exchange=self.exchange
            ) from e
        except requests.exceptions.RequestException as e:
            raise PartnerUnknown(
                f"the connection broke after {received} bytes of the body", exchange=self.exchange
            ) from e
        finally:
            self.raw.close()
        if declared is not None and received != declared:
            raise PartnerBadResponse(
                f"the body has {received} bytes, {declared} declared", exchange=self.exchange
            )

    def json(self):
        """The body as JSON. A NUL in a string (`\\u0000`) becomes a space: no
        PostgreSQL text or jsonb column holds one, and the BIF writes a space for it."""
        value = json.loads(self.content)
        return without_nul(value) if b"\\u0000" in self.content else value


def _bytes_read(error: Exception) -> int:
    """The bytes received before a body was cut short, as urllib3's IncompleteRead
    (wrapped in a ProtocolError, wrapped in requests' error) counts them; 0 if unknown."""
    pending: list[object] = [error]
    while pending:
        item = pending.pop()
        if isinstance(item, IncompleteRead):
            return item.partial
        if isinstance(item, BaseException):
            pending.extend(item.args)
    return 0


def without_nul(value):
    """A JSON-like value with every NUL in its strings (and keys) a space."""
    if isinstance(value, str):
        return value.replace("\x00", " ")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


class Redactor:
    def __init__(self, secrets=()):
        self.secrets = sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, REDACTED)
        return value

    def data(self, value):
        """A JSON-like value (a partner's record) with every secret redacted: in
        strings and keys, and a number that spells one is replaced whole."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return REDACTED if self.text(str(value)) != str(value) else value
        return value

    def headers(self, headers: dict, secret_headers: frozenset[str]) -> dict:
        return {
            name: REDACTED if name.lower() in secret_headers else self.text(str(value))
            for name, value in headers.items()
        }


_sessions = threading.local()


def _session() -> requests.Session:
    """One keep-alive session per thread (requests.Session is not thread-safe)."""
    session = getattr(_sessions, "session", None)
    if session is None:
        session = requests.Session()
        session.trust_env = False  # no proxy or netrc look-ups per call
        adapter = HTTPAdapter(pool_connections=16, pool_maxsize=16, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _sessions.session = session
    return session


class PartnerHttpClient:
    """Calls one partner. `secret_headers` are header names whose values are
    never recorded; `secrets` are strings redacted wherever they appear."""

    def __init__(
        self,
        *,
        partner: str,
        secret_headers=(),
        secrets=(),
        timeout: tuple[float, float] | None = None,
    ):
        self.partner = partner
        self.secret_headers = frozenset(h.lower() for h in secret_headers)
        self.redactor = Redactor(secrets)
        self.timeout = timeout or (
            settings.ICI_PARTNER_CONNECT_TIMEOUT,
            settings.ICI_PARTNER_READ_TIMEOUT,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict | None = None,
        params: dict | None = None,
        data: str | bytes | None = None,
        stream: bool = False,
    ) -> Response:
        headers = dict(headers or {})
        request = requests.Request(method, url, headers=headers, params=params, data=data)
        prepared = _session().prepare_request(request)
        assert prepared.url is not None  # a prepared request has its URL
        body = data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")
        record: dict[str, Any] = {
            "method": method,
            "url": self.redactor.text(prepared.url),
            "request_headers": self.redactor.headers(headers, self.secret_headers),
            "request_body": self.redactor.text(body)[:MAX_BODY_RECORDED],
        }
        started = time.perf_counter()
        try:
            raw = _session().send(
                prepared, timeout=self.timeout, allow_redirects=False, stream=stream
            )
            content = b"" if stream else raw.content
        except requests.exceptions.ConnectTimeout as e:
            raise self._fail(PartnerNotSent, "connect timeout", record, started, e) from e
        except requests.exceptions.ConnectionError as e:
            if _never_connected(e):
                raise self._fail(PartnerNotSent, "connection refused", record, started, e) from e
            raise self._fail(PartnerUnknown, "connection broken", record, started, e) from e
        except requests.exceptions.ReadTimeout as e:
            raise self._fail(PartnerTimeout, "read timeout", record, started, e) from e
        except requests.exceptions.RequestException as e:
            raise self._fail(PartnerUnknown, type(e).__name__, record, started, e) from e
        duration = (time.perf_counter() - started) * 1000
        text = "" if stream else content[:MAX_BODY_RECORDED].decode("utf-8", "replace")
        text = text.replace("\x00", " ")  # recorded in a text column (see Response.json)
        exchange = Exchange(
            **record,
            status_code=raw.status_code,
            response_body=self.redactor.text(text),
            duration_ms=duration,
        )
        logger.info(
            "%s %s %s -> %s in %.0f ms",
            self.partner, method, exchange.url, raw.status_code, duration,
        )  # fmt: skip
        return Response(raw.status_code, dict(raw.headers), content, exchange, raw)

    def _fail(self, error_class, what, record, started, cause):
        duration = (time.perf_counter() - started) * 1000
        exchange = Exchange(**record, duration_ms=duration, error=what)
        logger.warning(
            "%s %s %s failed: %s after %.0f ms",
            self.partner, record["method"], record["url"], what, duration,
        )  # fmt: skip
        return error_class(f"{self.partner}: {what}", exchange=exchange)


def _never_connected(error: requests.exceptions.ConnectionError) -> bool:
    """True when the TCP connection was never made (refused, DNS, unreachable)."""
    text = repr(error)
    return any(
        marker in text
        for marker in (
            "NewConnectionError",
            "Connection refused",
            "NameResolutionError",
            "Name or service not known",
            "Network is unreachable",
            "No route to host",
        )
    )
