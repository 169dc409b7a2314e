"""`make demo`: the whole system on the embedded default, in one terminal.

Migrates the SQLite database, loads both presets (a biller that exists already
is left as the admin has it: its edits survive a restart), starts the two
partner sandboxes and points the demo billers at them, creates a demo admin login and a
demo API token, and a biller portal login with a month of demo payments (all
printed), then runs the django-q2 worker and the web server until Ctrl-C, which
stops everything.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
WEB_PORT = int(os.environ.get("ICI_DEMO_PORT", "8000"))
CITIZENSERVE_PORT = int(os.environ.get("ICI_DEMO_CITIZENSERVE_PORT", "8101"))
IMT_PORT = int(os.environ.get("ICI_DEMO_IMT_PORT", "8102"))


def manage(*args, capture=False):
    command = [PYTHON, "manage.py", *args]
    if capture:
        return subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    subprocess.run(command, cwd=ROOT, check=True)
    return ""


def start(*args):
    # Each child in its own process group, so Ctrl-C reaches it only through us.
    return subprocess.Popen([PYTHON, "manage.py", *args], cwd=ROOT, start_new_session=True)


def wait_for_port(port, timeout=20.0):
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing is listening on 127.0.0.1:{port} after {timeout:.0f} s")


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main():
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started with SIGINT ignored
    os.environ["ICI_MODE"] = "demo"
    manage("migrate", "--noinput", "-v", "0")
    manage("load_biller_preset", "--activate")
    children = [
        start("partner_sandbox", "citizenserve", "--port", str(CITIZENSERVE_PORT)),
        start("partner_sandbox", "imt", "--port", str(IMT_PORT)),
    ]
    try:
        wait_for_port(CITIZENSERVE_PORT)
        wait_for_port(IMT_PORT)
        manage(
            "point_billers_at_sandboxes",
            "--citizenserve", f"http://127.0.0.1:{CITIZENSERVE_PORT}",
            "--imt", f"http://127.0.0.1:{IMT_PORT}", "--demo-invoices",
        )  # fmt: skip
        login = manage("demo_admin", capture=True).strip()
        token = manage(
            "create_api_client", "demo-payer-site", "--biller", "2249", "--biller", "1367",
            "--replace", capture=True,
        ).splitlines()[-1]  # fmt: skip
        children.append(start("qcluster"))
        children.append(start("runserver", f"127.0.0.1:{WEB_PORT}", "--noreload"))
        # A portal user for both billers, and a month of payments the worker delivers.
        portal = manage("demo_portal", capture=True).strip().splitlines()[-1]
        wait_for_port(WEB_PORT)
        base = f"http://127.0.0.1:{WEB_PORT}"
        print(
            f"""
icintegrations demo is running (Ctrl-C stops it all)
  admin:        {base}/admin/   {login}
  portal:       {base}/portal/  {portal}
  API docs:     {base}/api/docs/
  API token:    TOKEN={token}
  try:          curl -H "Authorization: Bearer $TOKEN" {base}/api/v1/billers/2249/invoices/PBL19-010007
                curl -H "Authorization: Bearer $TOKEN" {base}/api/v1/billers/1367/invoices/040620220901
  sandboxes:    CitizenServe http://127.0.0.1:{CITIZENSERVE_PORT}/_sandbox/ledger
                IMT          http://127.0.0.1:{IMT_PORT}/_sandbox/ledger
""",
            flush=True,
        )
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        failed = [child.args[2] for child in children if child.poll() is not None]
        print(f"stopped: {', '.join(failed)} exited", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)  # the main process only (qcluster)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    main()
