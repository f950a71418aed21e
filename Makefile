# engagestats: the two commands are `make report` and `make test`.
# Both create .venv on first use and reinstall when pyproject.toml changes.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= report

.PHONY: help setup report test lint typecheck format sample bench validate differential docs clean

help:
	@echo "make report  - set up .venv, install, run the main job on the sample data"
	@echo "make test    - set up .venv, install, lint, type-check and run the full test suite"
	@echo "make typecheck - mypy on src/engagestats (settings in pyproject.toml)"
	@echo "make sample  - regenerate data/sample/ byte for byte from the simulator"
	@echo "make bench   - run the benchmarks in benchmarks/"
	@echo "make differential - lmm against lme4 on all 320 designs of issue 19"
	@echo "make validate - validity benchmark (200 reps per cell; JOBS=2 for two processes)"
	@echo "make docs    - build the documentation site into site/ (warnings are errors)"
	@echo "make format  - apply ruff formatting and safe fixes"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

report: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m engagestats report --out $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

# mypy reads [tool.mypy] in pyproject.toml (files, per-module overrides).
typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	MPLBACKEND=Agg $(BIN)/python -m pytest -q

format: $(STAMP)
	$(BIN)/ruff check --fix src tests benchmarks scripts
	$(BIN)/ruff format src tests benchmarks scripts

sample: $(STAMP)
	$(BIN)/python -m engagestats sample data/sample

differential: $(STAMP)
	$(BIN)/python benchmarks/differential/lme4_differential.py

JOBS ?= 1
validate: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python benchmarks/validity/run_validity.py --reps 200 --jobs $(JOBS)

docs: $(STAMP)
	$(BIN)/python -m mkdocs build --strict

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache build dist $(OUT)
