# Two commands on a fresh machine: `make run` (demo app) and `make test` (whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
POSTGRES_TEST_URL ?= postgres://root@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 8000
DEV_ENV := DJANGO_DEBUG=1

.PHONY: run port-free test test-sqlite test-postgres test-stock lint check install install-dev test-deps browser bench bench-smoke prod clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## The app with demo data on http://127.0.0.1:8000 (SQLite, offline model, no keys).
## The address is checked first: a port in use fails at once and says `PORT=` to pick another.
run: port-free install
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	$(DEV_ENV) CHATKIT_OFFLINE_TOKEN_DELAY_MS=$${CHATKIT_OFFLINE_TOKEN_DELAY_MS:-40} \
		$(BIN)/python manage.py runserver $(HOST):$(PORT)

port-free:
	@$(PYTHON) scripts/check-port.py $(HOST) $(PORT)

## Lint, then the whole suite on SQLite and on PostgreSQL (browser and proxy tests included).
## `make test PYTEST_ARGS="config/tests/test_docs.py -x"` narrows both runs.
test: install-dev test-deps lint test-sqlite test-postgres test-stock

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-sqlite: install-dev
	@echo "== test suite on SQLite =="
	env -u DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install-dev
	@echo "== test suite on PostgreSQL ($(POSTGRES_TEST_URL)) =="
	@# The server, through its maintenance database: the suite's own database need not exist
	@# (pytest-django creates test_<name> beside it), as on a fresh PostgreSQL.
	@$(BIN)/python -c "import psycopg, urllib.parse as u; url = u.urlsplit('$(POSTGRES_TEST_URL)'.replace('postgres://','postgresql://')); psycopg.connect(url._replace(path='/postgres').geturl(), connect_timeout=3).close()" \
		|| (echo "PostgreSQL is not answering at $(POSTGRES_TEST_URL): start it, or set POSTGRES_TEST_URL." && exit 1)
	DATABASE_URL=$(POSTGRES_TEST_URL) $(BIN)/pytest $(PYTEST_ARGS)

## The ChatKit and REST suites once more with every shortcut off (CHATKIT_FAST_PATHS=0:
## stock middleware and ASGI handler, Django's cache, psycopg_pool, no daphne patches), on
## SQLite and without the browser tests, to keep CI's time bounded (docs/performance.md).
test-stock: install-dev
	@echo "== ChatKit and REST suites with CHATKIT_FAST_PATHS=0 (SQLite) =="
	env -u DATABASE_URL CHATKIT_FAST_PATHS=0 TEST_DB_SUFFIX=_stock \
		$(BIN)/pytest chat todos accounts attachments -m "not browser"

## What the tests use beyond Python: Debian's chromium, nginx and prometheus (with apt,
## as root or with sudo; Chromium else from Playwright); a test whose tool is missing skips.
test-deps: install-dev
	PYTHON=$(BIN)/python bash scripts/install-test-deps.sh

browser: test-deps

check: lint test

bench: install-dev
	$(BIN)/python -m bench.run

bench-smoke: install-dev
	$(BIN)/python -m bench.run --smoke

prod: install
	bash scripts/prod-start.sh

clean:
	rm -rf $(VENV) var/test_db*.sqlite3 var/staticfiles
