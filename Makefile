# Serambi — the two commands are `make run` and `make test`; everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
UV_VERSION := 0.13.9
MEMBERS := $(wildcard contracts/pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml tools/*/pyproject.toml)
PYTEST_ARGS ?=

.PHONY: run test test-slow test-faults test-all bench lint schemas asyncapi openapi install chromium dovecot promtool clean-var

# Install: a venv with a pinned uv, then the locked workspace (every service, contracts, the ops CLI, dev tools).
$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) uv.lock pyproject.toml $(MEMBERS)
	$(UV) sync --frozen --all-packages --python $(BIN)/python
	touch $@

uv.lock: pyproject.toml $(MEMBERS) | $(UV)
	$(UV) lock --python $(BIN)/python
	touch $@

install: $(VENV)/.synced

## run: the whole local stack in the foreground (NATS, MongoDB-wire server, the four services, mail/SMS sinks)
run: install
	SERAMBI_ENVIRONMENT=development $(BIN)/serambi dev up

## test: the default suite (unit, contract, integration, end-to-end, the portal in a browser)
test: install chromium dovecot promtool
	$(BIN)/pytest $(PYTEST_ARGS)

## chromium: Debian's browser for tests/browser (Playwright is launched with its path); installed
## only when missing, through sudo unless make runs as root
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
chromium:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

## dovecot: Debian's IMAP server, started by the e-mail channel's tests with a throwaway
## configuration (tests/integration/complaints/dovecot_support.py); installed only when missing
dovecot:
	@test -x /usr/sbin/dovecot || command -v dovecot >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y dovecot-imapd)

## promtool: Prometheus' rule checker (Debian's prometheus package), used by tests/deploy to
## check deploy/observability's alert rules; installed only when missing
promtool:
	@command -v promtool >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends prometheus)

## test-slow: the long infrastructure tests (marker `slow`: NATS permissions and failover, the
## images, production start-up, the dev stack, replicas, the fuzz, the role matrix, WhatsApp,
## free text, tracking links, erasure and chunked bodies end to end, the survey pages and the
## longest console flows in the browser), kept out of `make test` so that it stays under 15 minutes; CI runs them after it
test-slow: install chromium dovecot promtool
	$(BIN)/pytest -m slow $(PYTEST_ARGS)

## test-faults: fault-injection tests (slow)
test-faults: install
	$(BIN)/pytest -m faults $(PYTEST_ARGS)

test-all: install chromium dovecot promtool
	$(BIN)/pytest -m "" $(PYTEST_ARGS)

## bench: every benchmark under bench/ (each prints its figures next to its same-run baseline)
bench: install
	@for script in bench/*_bench.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

## schemas: regenerate contracts/schemas (refuses backward-incompatible changes)
schemas: install
	$(BIN)/serambi contracts schemas --write

## asyncapi: regenerate contracts/asyncapi/*.json from the FastStream apps
asyncapi: install
	$(BIN)/serambi contracts asyncapi --write

## openapi: regenerate contracts/openapi/*.json from the services' HTTP APIs
openapi: install
	$(BIN)/serambi contracts openapi --write

clean-var:
	rm -rf var
