# The README's commands. A fresh machine needs only python3.11, pip and make: `make` builds .venv itself.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install demo test lint typecheck cfn-lint pytest sim bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install everything

demo: $(STAMP)  ## run the main job on the local stack and print what happened
	$(BIN)/python -m hblocal.demo

test: lint typecheck cfn-lint pytest  ## lint, type-check, lint the template, run every test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint infra/template.yaml

pytest: $(STAMP)
	$(BIN)/pytest

sim: $(STAMP)  ## run the QuickBooks simulator on its own (PORT=8700)
	$(BIN)/qbo-sim --port $${PORT:-8700}

bench: $(STAMP)  ## run the benchmarks and rewrite bench/RESULTS.md
	$(BIN)/python -m bench

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
