"""A local HTTP simulator of one partner, with fault injection and a control API.

The partner's endpoints (`citizenserve.ROUTES`, `imt.ROUTES`) answer in the
partner's wire format from an in-memory `Ledger`. Faults apply to them only, in
this order per request: count it, `auth_fail` (403), `latency_ms`, `error_rate`
(503, nothing applied), apply the request, `timeout_rate` (wait `hang_seconds`,
then hang up without an answer: applied, the client sees a read timeout),
`malformed_rate` (200 with a truncated body: applied). The control API under
`/_sandbox/` lets another process read the ledger and change the faults.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any, TypeGuard
from urllib.parse import parse_qs, unquote, urlsplit

from partners.sandbox import citizenserve, imt
from partners.sandbox.ledger import Ledger
from partners.sandbox.wire import HANG_UP, SERVICE_UNAVAILABLE, Call, Reply

logger = logging.getLogger(__name__)

PARTNERS = {citizenserve.NAME: citizenserve, imt.NAME: imt}
CONTROL_PREFIX = "/_sandbox/"
MAX_BODY_BYTES = 1 << 20
_POLL_SECONDS = 0.05
_RATES = ("error_rate", "timeout_rate", "malformed_rate")
_DURATIONS = ("latency_ms", "hang_seconds")


@dataclass(frozen=True)
class Faults:
    latency_ms: float = 0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    hang_seconds: float = 5.0
    auth_fail: bool = False
    malformed_rate: float = 0.0

    def __post_init__(self) -> None:
        for name in _DURATIONS:
            if not _is_number(getattr(self, name)) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be a number >= 0")
        for name in _RATES:
            if not _is_number(getattr(self, name)) or not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be a number between 0 and 1")
        if not isinstance(self.auth_fail, bool):
            raise ValueError("auth_fail must be true or false")


class SandboxServer:
    """One partner's sandbox on a local port; see the module docstring."""

    def __init__(
        self,
        *,
        partner: str,
        credential: str,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        demo_data: bool = True,
    ) -> None:
        if partner not in PARTNERS:
            raise ValueError(f"partner must be one of {', '.join(PARTNERS)}, not {partner!r}")
        if not credential:
            raise ValueError("a sandbox needs a credential")
        self.partner = partner
        self.host = host
        self.port = port
        self.demo_data = demo_data
        self.url: str | None = None
        self.ledger = Ledger(PARTNERS[partner], demo_data=demo_data)
        self._wire = PARTNERS[partner]
        self._credential = credential
        self._seed = seed
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self._faults = Faults()
        self._faults_lock = threading.Lock()
        # Guards the listening server: _state is new, up, closing (the control
        # API's `down` answered, the socket not yet closed), down or stopped.
        self._lifecycle = threading.Lock()
        self._state = "new"
        self._up_at = 0.0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    def __repr__(self) -> str:
        return f"<SandboxServer {self.partner} {self.url or 'not started'} {self._state}>"

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def display_name(self) -> str:
        return self._wire.DISPLAY_NAME

    @property
    def serving(self) -> bool:
        """Up: not going down, down, or stopped (a connection accepted just before
        the socket closed must not be answered either)."""
        return self._state == "up"

    @property
    def faults(self) -> Faults:
        return self._faults

    def set_faults(
        self,
        *,
        latency_ms: float | None = None,
        error_rate: float | None = None,
        timeout_rate: float | None = None,
        hang_seconds: float | None = None,
        auth_fail: bool | None = None,
        malformed_rate: float | None = None,
    ) -> Faults:
        """Change the given faults only (None leaves one as it is); ValueError if invalid."""
        changes: dict[str, Any] = {
            "latency_ms": latency_ms,
            "error_rate": error_rate,
            "timeout_rate": timeout_rate,
            "hang_seconds": hang_seconds,
            "auth_fail": auth_fail,
            "malformed_rate": malformed_rate,
        }
        with self._faults_lock:
            self._faults = dataclasses.replace(
                self._faults, **{k: v for k, v in changes.items() if v is not None}
            )
            return self._faults

    def reset(self, *, demo_data: bool | None = None) -> None:
        """Empty the ledger (then reload the demo data if asked) and clear every fault."""
        self.ledger.reset(self.demo_data if demo_data is None else demo_data)
        with self._faults_lock:
            self._faults = Faults()
        with self._rng_lock:
            self._rng.seed(self._seed)

    def start(self) -> SandboxServer:
        """Listen (OSError if the port is taken) and serve in a daemon thread."""
        with self._lifecycle:
            if self._state != "new":
                raise RuntimeError("a SandboxServer starts only once")
            self._listen()
            assert self._httpd is not None
            self.port = self._httpd.server_address[1]
            host = f"[{self.host}]" if ":" in self.host else self.host
            self.url = f"http://{host}:{self.port}"
            self._state = "up"
        logger.info("%s sandbox listening on %s", self.display_name, self.url)
        return self

    def go_down(self, seconds: float) -> None:
        """Refuse connections for `seconds`, then listen again on the same port.

        Returns as soon as the listening socket is closed; open connections are
        cut too. Going down while down extends the outage.
        """
        if not _is_number(seconds) or seconds < 0:
            raise ValueError("seconds must be a number >= 0")
        with self._lifecycle:
            if self._state == "down":
                self._up_at = max(self._up_at, time.monotonic() + seconds)
                return
            if self._state == "stopped":
                return  # stopped while a `down` was being answered: stopped wins
            if self._state not in ("up", "closing"):
                raise RuntimeError(f"the sandbox is {self._state}, not up")
            self._state = "down"
            self._up_at = time.monotonic() + seconds
            self._close()
        logger.info("%s sandbox down for %ss", self.display_name, seconds)
        threading.Thread(target=self._come_back, name="sandbox-come-back", daemon=True).start()

    def stop(self) -> None:
        """Stop serving and close every socket; safe to call more than once."""
        with self._lifecycle:
            self._stopped.set()
            self._state = "stopped"
            self._close()

    def _listen(self) -> None:
        httpd = _HTTPServer((self.host, self.port), self)
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": _POLL_SECONDS},
            name=f"sandbox-{self.partner}",
            daemon=True,
        )
        thread.start()
        self._httpd, self._thread = httpd, thread

    def _close(self) -> None:
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if thread is not None:
            thread.join(timeout=5)

    def _come_back(self) -> None:
        while not self._stopped.is_set():
            with self._lifecycle:
                if self._state != "down":
                    return
                remaining = self._up_at - time.monotonic()
                if remaining <= 0:
                    try:
                        self._listen()
                    except OSError:
                        logger.warning("sandbox cannot listen on port %s yet; retrying", self.port)
                        remaining = 0.2
                    else:
                        self._state = "up"
                        logger.info("%s sandbox up again on %s", self.display_name, self.url)
                        return
            self._stopped.wait(remaining)

    def _chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        if rate >= 1:
            return True
        with self._rng_lock:
            return self._rng.random() < rate

    def _answer(self, method: str, target: str, headers: Message, body: bytes) -> Reply:
        split = urlsplit(target)
        if split.path == CONTROL_PREFIX.rstrip("/") or split.path.startswith(CONTROL_PREFIX):
            return self._control(method, split.path, body)
        route = _route(self._wire.ROUTES, method, split.path)
        if isinstance(route, Reply):
            return route
        operation, handler, params = route
        call = Call(
            method=method,
            path=split.path,
            query={k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()},
            headers=headers,
            body=body,
            params=params,
            ledger=self.ledger,
            credential=self._credential,
        )
        return self._with_faults(operation, handler, call)

    def _with_faults(self, operation: str, handler: Callable[[Call], Reply], call: Call) -> Reply:
        self.ledger.count_request(operation, call.query)
        faults = self.faults
        if faults.auth_fail:
            return self._wire.forbidden(call)
        if faults.latency_ms:
            self._stopped.wait(faults.latency_ms / 1000)
        if self._chance(faults.error_rate):
            return SERVICE_UNAVAILABLE
        reply = handler(call)
        if self._chance(faults.timeout_rate):
            self._stopped.wait(faults.hang_seconds)
            return HANG_UP
        if self._chance(faults.malformed_rate):
            return Reply(200, reply.body[: max(1, len(reply.body) // 2)], reply.content_type)
        return reply

    def _control(self, method: str, path: str, body: bytes) -> Reply:
        action = path.removeprefix(CONTROL_PREFIX.rstrip("/")).strip("/")
        try:
            payload = _json_object(body) if method == "POST" else {}
        except ValueError as e:
            return Reply.json(400, {"detail": str(e)})
        known = {
            "ledger": ("GET", self._control_ledger),
            "faults": ("POST", self._control_faults),
            "invoices": ("POST", self._control_invoices),
            "down": ("POST", self._control_down),
            "reset": ("POST", self._control_reset),
        }
        if action == "faults" and method == "GET":
            return Reply.json(200, dataclasses.asdict(self.faults))
        if action not in known:
            return Reply.json(404, {"detail": "Not found."})
        allowed, answer = known[action]
        if method != allowed:
            return Reply.json(405, {"detail": f'Method "{method}" not allowed.'})
        try:
            return answer(payload)
        except ValueError as e:
            return Reply.json(400, {"detail": str(e)})

    def _control_ledger(self, payload: dict[str, Any]) -> Reply:
        return Reply.json(200, self.ledger.snapshot())

    def _control_faults(self, payload: dict[str, Any]) -> Reply:
        fields = {f.name for f in dataclasses.fields(Faults)}
        unknown = sorted(set(payload) - fields)
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(unknown)}")
        if any(v is None for v in payload.values()):
            raise ValueError("a fault cannot be null")
        return Reply.json(200, dataclasses.asdict(self.set_faults(**payload)))

    def _control_invoices(self, payload: dict[str, Any]) -> Reply:
        self.ledger.add_invoice(payload)
        return Reply.json(201, payload)

    def _control_down(self, payload: dict[str, Any]) -> Reply:
        seconds = payload.get("seconds")
        if not _is_number(seconds) or seconds < 0:
            raise ValueError("seconds must be a number >= 0")
        with self._lifecycle:
            if self._state == "up":
                # Down from this answer on: a request that slips in before the
                # socket closes is hung up on, as a dead partner would.
                self._state = "closing"
        return Reply.json(
            202,
            {"down_for_seconds": seconds},
            close_connection=True,
            after=lambda: self.go_down(seconds),
        )

    def _control_reset(self, payload: dict[str, Any]) -> Reply:
        demo_data = payload.get("demo_data", self.demo_data)
        if not isinstance(demo_data, bool):
            raise ValueError("demo_data must be true or false")
        self.reset(demo_data=demo_data)
        return Reply.json(200, {"demo_data": demo_data, "faults": dataclasses.asdict(self.faults)})


class _HTTPServer(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind also resolves the host's FQDN: slow, and not needed.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """Cut every open connection (the partner went down), waking their threads."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.exception("sandbox error while serving %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PartnerSandbox/1.0"
    sys_version = ""
    timeout = 30  # an idle keep-alive connection is closed after this many seconds
    # Headers and body are written apart: without TCP_NODELAY the body waits for
    # the client's delayed ACK, ~40 ms on every answer over a reused connection.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _dispatch(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if self.headers.get("Transfer-Encoding") or not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            self._send(Reply.json(400, {"detail": "Send a body of at most 1 MiB with a length."}))
            return
        body = self.rfile.read(length) if length else b""
        if not self.server.sandbox.serving:
            self.close_connection = True
            return
        try:
            reply = self.server.sandbox._answer(self.command, self.path, self.headers, body)
        except Exception:
            logger.exception("sandbox failed to answer %s %s", self.command, self.path)
            reply = Reply(500, b"<html>Internal Server Error</html>", "text/html")
        if reply.close_connection:
            self.close_connection = True
        if reply.hang_up:
            logger.info("%s %s (hung up without an answer)", self.command, self.path)
            return
        self._send(reply)
        if reply.after is not None:
            try:
                reply.after()
            except Exception:
                logger.exception("sandbox control action failed")

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Method, path and status only: never a header, so never a credential.
        logger.info("%s %s %s", self.command, self.path, int(code) if code != "-" else code)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("sandbox: " + format, *args)


def _route(
    routes: tuple, method: str, path: str
) -> tuple[str, Callable[[Call], Reply], dict[str, str]] | Reply:
    allowed = []
    for route_method, pattern, operation, handler in routes:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        if route_method == method:
            return operation, handler, {k: unquote(v) for k, v in match.groupdict().items()}
        allowed.append(route_method)
    if allowed:
        return Reply(405, b"<html>Method Not Allowed</html>", "text/html")
    return Reply(404, b"<html>Not Found</html>", "text/html")


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        payload = json.loads(body)
    except ValueError as e:
        raise ValueError(f"the body is not valid JSON: {e}") from e
    if not isinstance(payload, dict):
        raise ValueError("the body must be a JSON object")
    return payload


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
