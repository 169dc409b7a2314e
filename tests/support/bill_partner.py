"""A partner that serves one bill PDF as a test sets it: whole, cut short, not a
PDF, with whatever Content-Length. IMT's wire (`/api/integration/invoice/<n>/pdf`),
on 127.0.0.1; a cut-short body is sent and then the connection is closed."""

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def pdf_of(size: int) -> bytes:
    """A PDF-looking body of exactly `size` bytes, ending with %%EOF."""
    head, tail = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", b"\ntrailer\n<<>>\n%%EOF\n"
    return head + b"x" * (size - len(head) - len(tail)) + tail


@dataclass
class Bill:
    body: bytes
    sent: int | None = None  # bytes actually sent; None: all of them
    content_length: int | None = None  # declared; None: len(body)
    content_type: str = "application/pdf"


class BillPartner:
    def __init__(self) -> None:
        self.bill = Bill(pdf_of(692))
        self.requests = 0
        partner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's name)
                partner.requests += 1
                bill = partner.bill
                if not self.path.endswith("/pdf"):
                    self.send_error(404)
                    return
                length = len(bill.body) if bill.content_length is None else bill.content_length
                self.send_response(200)
                self.send_header("Content-Type", bill.content_type)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                sent = bill.body if bill.sent is None else bill.body[: bill.sent]
                self.wfile.write(sent)
                self.wfile.flush()
                if len(sent) < length:
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> "BillPartner":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
