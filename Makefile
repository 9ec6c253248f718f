# disagg-sim: every target sets up .venv on demand, so `make run` / `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCENARIO ?= scenarios/embedding-pipeline.yaml
HYPOTHESIS_PROFILE ?= ci
PYTEST_WORKERS ?= 2

.PHONY: venv run test lint typecheck unit bench bench-scale deep clean help

help:
	@echo "make run    - set up .venv, run the default scenario, write reports/<scenario>/"
	@echo "make test   - set up .venv, lint, type check, run the whole suite (Hypothesis profile 'ci')"
	@echo "make bench  - run the benchmarks, print a table, write reports/bench.json"
	@echo "make bench-scale - 24 simulated hours at 200 req/s, 200 pods (not in CI; docs/performance.md)"
	@echo "make deep   - the property suites with the 'deep' Hypothesis profile (nightly)"
	@echo "make lint   - ruff, import-linter"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/dsim run $(SCENARIO)

lint: $(STAMP)
	$(BIN)/ruff check model sim tests benchmarks
	$(BIN)/ruff format --check model sim tests benchmarks
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q

deep: $(STAMP)
	HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q tests/property tests/stateful

bench: $(STAMP)
	$(BIN)/python -m benchmarks

bench-scale: $(STAMP)
	$(BIN)/python -m benchmarks.bench_scale --hours 24

clean:
	rm -rf $(VENV) reports/*/ reports/bench.json
