# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test fuzz multimachine install browser lint typecheck

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The whole system on the embedded default (SQLite, django-q2's ORM broker):
# web, worker, both partner sandboxes, the demo billers pointed at them. Public
# demo keys: never put a real partner credential in it.
demo: install
	ICI_MODE=demo $(BIN)/python scripts/run_demo.py

# The suite on SQLite with the ORM broker; then, when ICI_TEST_DATABASE_URL and
# ICI_TEST_REDIS_URL are set (.ci/run sets them), again on PostgreSQL with
# Redis as django-q2's broker.
test: install browser
	env -u DATABASE_URL -u ICI_REDIS_URL $(BIN)/pytest
	@if [ -n "$$ICI_TEST_DATABASE_URL" ] && [ -n "$$ICI_TEST_REDIS_URL" ]; then \
		echo "== again on PostgreSQL ($$ICI_TEST_DATABASE_URL) with the Redis broker =="; \
		DATABASE_URL="$$ICI_TEST_DATABASE_URL" ICI_REDIS_URL="$$ICI_TEST_REDIS_URL" $(BIN)/pytest; \
	else \
		echo "PostgreSQL + Redis run skipped: set ICI_TEST_DATABASE_URL and ICI_TEST_REDIS_URL to run it."; \
	fi

# schemathesis against a live hub on PostgreSQL and Redis (scripts/fuzz.py starts
# and stops it): 0 server errors and 0 answers the OpenAPI schema does not
# document, within ICI_FUZZ_SECONDS (default 140). Needs PostgreSQL and Redis on
# 127.0.0.1 (ICI_FUZZ_DATABASE_URL, ICI_FUZZ_REDIS_URL); .ci/run runs it.
fuzz: install
	$(BIN)/python scripts/fuzz.py

# The hub as if on four machines (scripts/multimachine.py starts and stops it all):
# 2 gunicorn and 2 qcluster, each with its own ICI_VAR_DIR, ICI_MODE=production,
# on PostgreSQL and Redis (ICI_MULTI_DATABASE_URL, ICI_MULTI_REDIS_URL); an invoice
# file through one web and its BIF through the other; 200 payments through both
# while one qcluster is SIGKILLed: each posted exactly once. About 90 s; .ci/run runs it.
multimachine: install
	$(BIN)/python scripts/multimachine.py

# Debian's Chromium (packages chromium and chromium-driver) for the browser tests
# in tests/browser, installed when it is missing and this machine can (root, or
# sudo without a password, and apt-get). Without it those tests skip, and fail
# under CI=true. Playwright drives it; no browser is downloaded.
browser:
	@if [ -z "$$ICI_CHROMIUM" ] && ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then sudo=""; \
		elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
		else echo "No Chromium, and no way to install it here: the browser tests will skip."; exit 0; fi; \
		echo "Installing Debian's chromium and chromium-driver for the browser tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		$$sudo apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
		|| { $$sudo apt-get update -q >/dev/null 2>&1 \
			&& $$sudo apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; } \
		|| echo "Could not install Chromium: the browser tests will skip."; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy with django-stubs and djangorestframework-stubs (configured in
# pyproject.toml) over the product packages; an app not created yet is skipped.
TYPED_APPS := icintegrations billers partners payments invoicefiles portal onboarding

typecheck: install
	ICI_MODE=test $(BIN)/mypy $(wildcard $(TYPED_APPS))
