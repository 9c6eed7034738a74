# The README's commands. Everything installs into .venv; nothing global but Debian's browser for e2e tests.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PIP     = $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt
HOST   ?= 127.0.0.1
PORT   ?= 8050

.PHONY: run install install-test test test-fast browser-deps bench lint serve-prod docs clean-data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(PIP) -e .

## make run: install, seed demo data on first start (about a minute), start the scheduler, live feed and web
run: install
	$(BIN)/python app.py serve --demo --live --host $(HOST) --port $(PORT)

install-test: $(BIN)/python
	$(PIP) -e '.[test,bench]'

## make test: install test dependencies (and Chromium for browser tests where apt is available), run all tests
test: install-test browser-deps
	$(BIN)/python -m pytest

test-fast: install-test
	$(BIN)/python -m pytest -m "not browser and not slow"

browser-deps:
	@if [ ! -x /usr/bin/chromedriver ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-core poppler-utils >/dev/null; \
	  else echo "chromium-driver missing and cannot apt-get install it: browser tests will be skipped"; fi; \
	fi
	@if command -v npm >/dev/null; then npm ci --prefix tests/e2e --no-audit --no-fund --silent; else echo "npm missing: the axe-core test will be skipped"; fi

bench: install-test
	$(BIN)/python bench/bench_ingest.py
	$(BIN)/python bench/bench_metrics.py

lint: install-test
	$(BIN)/ruff check .

## production layout: one writer (ingest scheduler) + several read-only gunicorn workers
serve-prod: install
	$(BIN)/python app.py scheduler --demo & \
	$(BIN)/gunicorn --bind $(HOST):$(PORT) 'app:create_server()'  # gunicorn.conf.py: 4 gthread workers, 8 + R57_LIVE_STREAMS threads

docs: install
	$(BIN)/python app.py metrics-doc --out docs/metrics.md
	$(BIN)/python app.py metrics-doc --lang en --out docs/metrics.en.md

clean-data:
	rm -rf data/warehouse.duckdb data/warehouse.duckdb.wal data/warehouse.snapshots data/inbox data/processed data/failed
