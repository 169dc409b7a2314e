import ipaddress
import os
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from partners.sandbox import SandboxServer
from partners.sandbox.server import PARTNERS

CREDENTIAL_ENV = {
    "citizenserve": "ICI_SANDBOX_CITIZENSERVE_KEY",
    "imt": "ICI_SANDBOX_IMT_INTEGRATOR_ID",
}
DEFAULT_CREDENTIAL = {
    "citizenserve": "sandbox-citizenserve-key",
    "imt": "sandbox-imt-integrator",
}


class Command(BaseCommand):
    help = (
        "Serve a local simulator of a partner's API (its wire format, a ledger of what "
        "it received, injected faults) on a loopback address until SIGINT or SIGTERM. "
        "Each request is logged as one line: method, path, status."
    )

    def add_arguments(self, parser):
        parser.add_argument("partner", choices=sorted(PARTNERS))
        parser.add_argument("--port", type=int, required=True, help="0 picks a free port")
        parser.add_argument("--host", default="127.0.0.1", help="a loopback address only")
        parser.add_argument(
            "--credential",
            help=(
                "the API key (CitizenServe) or Integrator ID (IMT) to accept; default from "
                f"{' / '.join(CREDENTIAL_ENV.values())}, else a public sandbox value"
            ),
        )
        parser.add_argument("--latency-ms", type=float, default=0)
        parser.add_argument("--error-rate", type=float, default=0.0)
        parser.add_argument("--timeout-rate", type=float, default=0.0)
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, partner, port, host, credential, **options):
        if not _is_loopback(host):
            raise CommandError(f"--host must be a loopback address (127.0.0.1, ::1), not {host}")
        if not 0 <= port <= 65535:
            raise CommandError(f"--port must be between 0 and 65535, not {port}")
        credential, source = _credential(partner, credential)
        server = SandboxServer(
            partner=partner, credential=credential, host=host, port=port, seed=options["seed"]
        )
        try:
            server.set_faults(
                latency_ms=options["latency_ms"],
                error_rate=options["error_rate"],
                timeout_rate=options["timeout_rate"],
            )
            server.start()
        except ValueError as e:
            raise CommandError(str(e)) from None
        except OSError as e:
            raise CommandError(f"Cannot listen on {host}:{port}: {e}") from None

        stopping = threading.Event()
        previous = {
            signum: signal.signal(signum, lambda *_: stopping.set())
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self.stdout.write(
                f"{server.display_name} sandbox on {server.url} (credential from {source})"
            )
            self.stdout.flush()
            while not stopping.wait(0.5):
                pass
        finally:
            server.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stdout.write(f"{server.display_name} sandbox stopped.")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _credential(partner: str, given: str | None) -> tuple[str, str]:
    """The credential to accept and where it came from (never the value itself)."""
    if given:
        return given, "--credential"
    name = CREDENTIAL_ENV[partner]
    if os.environ.get(name):
        return os.environ[name], name
    return DEFAULT_CREDENTIAL[partner], "the public sandbox default"
