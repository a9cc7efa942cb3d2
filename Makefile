SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PORT ?= 8000
# The Procfile's web server: uvicorn on uvloop and httptools (websockets for Channels).
UVICORN_FLAGS := --loop uvloop --http httptools --ws websockets-sansio --lifespan off --no-access-log --timeout-graceful-shutdown 2
REQUIREMENTS := $(wildcard requirements/*.txt)
# The stamp's name carries a hash of the requirements, so editing them reinstalls
# and a second run with nothing changed costs nothing.
REQUIREMENTS_HASH := $(shell cat $(REQUIREMENTS) | sha256sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(REQUIREMENTS_HASH)

.PHONY: help venv run test lint format chromium libreoffice gettext

help:
	@echo "make run     start docg at http://127.0.0.1:$(PORT)/ (SQLite, no services needed)"
	@echo "make test    start PostgreSQL/Redis/RabbitMQ if needed, lint, run the test suite (engine: on both brokers)"
	@echo "make lint    ruff check + format check + import layers (lint-imports)"
	@echo "make format  ruff format + safe fixes"

venv: $(STAMP)

$(STAMP): $(REQUIREMENTS)
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

run: export DJANGO_SETTINGS_MODULE = config.settings.base
# The port served is also the default of FRONTEND_URL (webhook URLs, OAuth callbacks): config/settings/environment.py.
run: export PORT := $(PORT)
run: venv
	$(VENV)/bin/python manage.py migrate --noinput
	$(VENV)/bin/python manage.py seed_demo
	@echo "docg is running at http://127.0.0.1:$(PORT)/  —  log in as demo@docg.local / docg-demo-2026  (admin: /admin/, API docs: /api/docs/)"
	@if [ -n "$$REDIS_URL" ]; then \
		echo "Redis configured: starting a separate Dramatiq worker (manage.py rundramatiq)."; \
		$(VENV)/bin/python manage.py rundramatiq --processes 1 --threads 4 & worker=$$!; \
		trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(VENV)/bin/uvicorn config.asgi:application --host 127.0.0.1 --port $(PORT) $(UVICORN_FLAGS); \
	else \
		echo "No Redis: workflows run on worker threads inside the web process."; \
		DOCG_EMBEDDED_WORKER=1 exec $(VENV)/bin/uvicorn config.asgi:application --host 127.0.0.1 --port $(PORT) $(UVICORN_FLAGS); \
	fi

# The engine suite runs a second time on RabbitMQ (the first pass uses the Redis broker).
RABBITMQ_URL ?= amqp://guest:guest@127.0.0.1:5672/
ENGINE_SUITE := docg/executions/tests tests/test_worker_crash.py tests/test_redis_restart.py tests/test_faults.py

test: export DJANGO_SETTINGS_MODULE = config.settings.test
test: venv chromium libreoffice gettext
	BROKER_URL=$(RABBITMQ_URL) $(VENV)/bin/python manage.py ensure_services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest
	BROKER_URL=$(RABBITMQ_URL) $(VENV)/bin/pytest -p no:cacheprovider $(ENGINE_SUITE)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The browser tests drive Debian's chromium (Playwright never downloads a browser here).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		echo "chromium is missing: installing Debian's chromium package for the browser tests."; \
		if command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "Cannot install chromium: this machine has no apt-get. Install chromium and re-run make test."; exit 1; \
		fi; \
	fi

# PDF conversion drives Debian's LibreOffice through UNO with the system python3
# (docg/documents/pdf.py); the tests read PDFs back with poppler's pdftotext. libjemalloc2 is
# optional: preloaded into soffice when present, it cuts LibreOffice's CPU per document by a quarter.
LIBREOFFICE_PACKAGES := libreoffice-writer-nogui libreoffice-impress-nogui libreoffice-calc-nogui python3-uno poppler-utils libjemalloc2
libreoffice:
	@if ! command -v soffice >/dev/null 2>&1 || ! /usr/bin/python3 -c "import uno" >/dev/null 2>&1 \
			|| ! command -v pdftotext >/dev/null 2>&1 \
			|| ! test -e "$$(dirname "$$(readlink -f "$$(command -v soffice)")")/libsclo.so"; then \
		echo "LibreOffice (Writer, Impress, Calc), python3-uno or poppler-utils is missing: installing $(LIBREOFFICE_PACKAGES) from Debian for PDF conversion."; \
		if command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(LIBREOFFICE_PACKAGES) >/dev/null; \
		else \
			echo "Cannot install LibreOffice: this machine has no apt-get. Install $(LIBREOFFICE_PACKAGES) and re-run make test."; exit 1; \
		fi; \
	fi

# tests/test_translations.py extracts the catalogue afresh with gettext's xgettext and msgfmt.
gettext:
	@if ! command -v xgettext >/dev/null 2>&1 || ! command -v msgfmt >/dev/null 2>&1; then \
		echo "gettext is missing: installing Debian's gettext package for the translation check."; \
		if command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; \
		else \
			echo "Cannot install gettext: this machine has no apt-get. Install gettext and re-run make test."; exit 1; \
		fi; \
	fi
