# The README's two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORTAL_PORT := $(PORT)

.PHONY: run test setup setup-test system-packages prepare migrate demo lint format bench bench-compliance bench-ingest bench-pages bench-reports bench-dashboards bench-packages clean

# Set everything up and run web + worker + beat on the embedded default
# (SQLite, filesystem broker under var/). Ctrl-C stops all three.
run: setup system-packages prepare migrate demo
	@echo ""
	@echo "  Portfolio portal: http://127.0.0.1:$(PORT)/"
	@echo "  Log in as pm, pm2, pm3, trader, risk, compliance, exec or admin; password: portal-demo"
	@echo "  API docs: http://127.0.0.1:$(PORT)/api/docs/   Ctrl-C stops web, worker and beat."
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

# Set everything up and run the whole test suite (PostgreSQL and Redis when
# DATABASE_URL and CELERY_BROKER_URL point at them; SQLite and files otherwise).
test: setup-test system-packages prepare
	$(BIN)/python -m pytest

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(VENV)/.installed $@

setup: $(VENV)/.installed

setup-test: $(VENV)/.installed-dev

# Debian packages the browser and PDF tests need: Chromium and pdftoppm.
system-packages:
	@if ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; \
		else \
			echo "Install chromium and poppler-utils (sudo apt-get install chromium poppler-utils) for the browser and PDF tests."; \
		fi; \
	fi

# Debian's wrk, the load tool of the dashboards benchmark.
bench-packages:
	@if ! command -v wrk >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
		else \
			echo "Install wrk (sudo apt-get install wrk) for the dashboards benchmark."; \
		fi; \
	fi

# The embedded default's folders under var/ and its secret key (settings create nothing),
# and collectstatic (hashed, gzip and Brotli copies) when a static file changed.
prepare: setup
	$(BIN)/python manage.py prepare_embedded --static

migrate: setup
	$(BIN)/python manage.py migrate --no-input

demo: setup
	$(BIN)/python manage.py load_demo --if-missing
	$(BIN)/python manage.py load_compliance_demo --if-missing

# ruff (lint and format), import-linter (engine purity, layers, no import loops), mypy.
lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: setup-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup-test
	$(BIN)/python benchmarks/analytics.py

# Compliance engine on one core, and the Celery fan-out with 1 and 2 workers (Redis db 7).
bench-compliance: setup-test
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/compliance.py --fanout

# Ingest: 1,000,000 trades through the fast path, django-import-export and raw COPY.
# PostgreSQL only, on a scratch database (it truncates the trade table).
INGEST_BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/ingest_bench
bench-ingest: setup-test
	DATABASE_URL=$(INGEST_BENCH_DATABASE_URL) $(BIN)/python benchmarks/ingest.py

# Chart tabs against a chart-free page in headless Chromium, on the demo data
# (an embedded portal of its own under /tmp, served by gunicorn).
bench-pages: setup-test
	$(BIN)/python benchmarks/pages.py

# Report renderers: a 100,000-row trades table to XLSX and CSV against pandas.
bench-reports: setup-test
	$(BIN)/python benchmarks/reports.py

# Widget data under load (wrk) and the 10-widget dashboard in headless Chromium;
# needs PostgreSQL, Redis and Debian's wrk.
DASHBOARDS_BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/dashboards_bench
bench-dashboards: setup-test bench-packages
	DATABASE_URL=$(DASHBOARDS_BENCH_DATABASE_URL) $(BIN)/python benchmarks/dashboards.py

clean:
	rm -rf var/broker var/staticfiles var/test_portal.sqlite3
