"""What a sandbox endpoint receives and answers: a `Call` in, a `Reply` out.
Apart from the server, so that the partners' handlers and the server that
routes to them do not import each other."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from partners.sandbox.ledger import Ledger


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    close_connection: bool = False
    # Close the connection without answering at all (the timeout fault).
    hang_up: bool = False
    # Run once the answer is sent (the control API's `down`).
    after: Callable[[], None] | None = None

    @classmethod
    def json(cls, status: int, payload: Any, **kwargs: Any) -> Reply:
        return cls(status, json.dumps(payload).encode(), "application/json", **kwargs)


HANG_UP = Reply(0, hang_up=True, close_connection=True)
SERVICE_UNAVAILABLE = Reply(503, b"<html>Service Unavailable</html>", "text/html")


@dataclass(frozen=True)
class Call:
    """One request to a partner endpoint, as its handler sees it."""

    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes
    params: dict[str, str]
    ledger: Ledger
    credential: str = field(repr=False)

    def json(self, status: int, payload: Any) -> Reply:
        return Reply.json(status, payload)

    def reply(self, status: int, body: bytes, content_type: str) -> Reply:
        return Reply(status, body, content_type)
