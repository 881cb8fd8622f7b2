# Two commands matter: `make demo` (the whole pipeline on sample data) and `make test`.
# Everything runs from a project-local virtualenv that `make` creates on first use.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export PROMO_HOME ?= $(CURDIR)/.promo
export DAGSTER_HOME ?= $(PROMO_HOME)/dagster_home

# The sample range: four weeks that include the end of daylight saving time in Europe
# (2026-10-25) and in the US (2026-11-01).
DEMO_START ?= 2026-10-19
DEMO_DAYS ?= 28
DEMO_END ?= 2026-11-15
DEMO_SCALE ?= 2000

.PHONY: install install-spark demo test test-slow test-fast dev bench lint dbt-parse clean browser java \
	emulators postgres test-tools

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The Spark engine (pyspark, ~490 MB, and Java 17) only when asked for:
# `make install-spark`, or `make install PROMO_ENGINE=spark`.
$(VENV)/.installed-spark: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $@

install: $(VENV)/.installed $(if $(filter spark,$(PROMO_ENGINE)),install-spark)

install-spark: $(VENV)/.installed-spark java

# dbt needs its manifest before the Dagster code location can be imported; `dbt parse`
# does not open the warehouse file (unlike `dbt compile`, which takes DuckDB's lock).
dbt-parse: install
	cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir . 

demo: install dbt-parse
	DEMO_START=$(DEMO_START) DEMO_DAYS=$(DEMO_DAYS) DEMO_END=$(DEMO_END) DEMO_SCALE=$(DEMO_SCALE) \
		$(BIN)/python scripts/demo.py

# The suite includes the engine parity tests, so `make test` installs the Spark engine.
# CI's 35 minutes hold everything but the overlapping-backfills scenario (about 9 minutes
# alone): `make test-slow` runs it.
test: install install-spark dbt-parse lint browser emulators postgres test-tools
	$(BIN)/python -m pytest -m "not slow"

test-slow: install install-spark dbt-parse postgres
	$(BIN)/python -m pytest -m slow

test-fast: install
	$(BIN)/python -m pytest tests/unit

dev: install dbt-parse
	$(BIN)/promo-reports settings >/dev/null  # fails early on a bad setting
	$(BIN)/python -c 'from orchestration.instance import ensure_dagster_home; from orchestration.settings import Settings; ensure_dagster_home(Settings.from_env())'
	$(BIN)/dagster dev -w workspace.yaml

bench: install install-spark dbt-parse
	$(BIN)/python -m bench.run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo
	cd dbt_project && ../$(BIN)/sqlfluff lint models tests macros

java:  ## Java 17 for the Spark engine (Debian package; needs root; nothing when `java` exists)
	bash scripts/install_java.sh

browser:  ## headless Chromium for the stats page tests (Debian package; needs root)
	bash scripts/install_browser.sh

emulators:  ## Azurite into .tools/ (npm registry) for the cloud storage tests; the GCS emulator comes with `install`
	bash scripts/install_emulators.sh

postgres:  ## PostgreSQL server binaries for the instance tests (Debian package; needs root)
	bash scripts/install_postgres.sh

test-tools:  ## unzip, an independent checker of the report ZIPs (Debian package)
	bash scripts/install_test_tools.sh

clean:
	rm -rf $(PROMO_HOME) dbt_project/target tests/artifacts
