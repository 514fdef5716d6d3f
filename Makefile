# Tavoli: `make run` serves the app with its mail worker; `make test` runs the whole suite.
# Both set up what they need first (virtualenv, dependencies, front-end assets, translations) and can be
# run any number of times.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app scheduler
HOST ?= 127.0.0.1
PORT ?= 5000
STAFF_EMAIL ?= staff@example.org
CALL_FILE ?= scheduler/calls/crema-2025-2027.toml
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/tavoli_test

export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test setup venv assets translations db serve lint bench bench-national clean

run: setup db
	@bin/run-dev "$(HOST)" "$(PORT)"

test: setup
	@bin/run-tests "$(TEST_DATABASE_URL)"

setup: venv assets translations

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

assets: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

translations: venv
	@$(BIN)/pybabel compile -d translations 2>&1 | grep -v "^compiling" || true

# The database: migrations, the Crema call, demo data and a staff account (credentials printed).
db: venv
	$(FLASK) db upgrade
	$(FLASK) calls load $(CALL_FILE)
	$(FLASK) demo
	@bin/ensure-staff "$(STAFF_EMAIL)"

# Production-style serving: gunicorn and the worker (see README for the environment variables).
serve: setup
	$(FLASK) db upgrade
	@bin/run-prod "$(HOST)" "$(PORT)"

# Performance benchmarks on PostgreSQL (BENCH_DATABASE_SERVER, default postgresql+psycopg://postgres@127.0.0.1:5432;
# databases tavoli_bench* are recreated): seeds the datasets, serves the app with gunicorn, loads it with wrk and
# writes bench/RESULTS.md. About ten minutes.
bench: setup bench-setup
	$(BIN)/python -m bench.run

# The national dataset (600 Ambiti, 300,000 entities, 1.5 million answers in tavoli_bench_national, and the
# single-Ambito tavoli_bench_500 of the same shape): one Ambito against the single one, written to the section
# "National dataset" of bench/RESULTS.md. About ten minutes of seeding and two of measuring; REUSE=1 measures the
# databases of an earlier run.
bench-national: setup
	$(BIN)/python -m bench.run --national $(if $(REUSE),--reuse)

# wrk drives the HTTP load: Debian's package, installed when missing (as root, or through sudo).
bench-setup:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; fi; }

lint: venv
	$(BIN)/ruff check .

# Update the message catalogues after changing texts in code or templates.
messages: venv
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ --ignore-dirs=".venv node_modules" -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l en --no-fuzzy-matching

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
