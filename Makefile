# The README's commands. A fresh machine needs only python3.11, pip and make: `make` builds .venv itself.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# aws-sam-cli pins its own versions of boto3 and cfn-lint: it gets a virtual environment of its own.
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed

.PHONY: help install demo demo-broken up test lint typecheck cfn-lint sam-validate openapi pytest sim bench clean

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

demo-broken: $(STAMP)  ## the demo with a mapping removed on purpose: it must fail and say why
	$(BIN)/python -m hblocal.demo --broken

up: $(STAMP)  ## start the local stack, set it up, print its URLs and keep it running (Ctrl-C stops it)
	$(BIN)/python -m hblocal.demo --up

test: lint typecheck cfn-lint sam-validate pytest  ## lint, type-check, lint the template, run every test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint infra/template.yaml

$(SAM_STAMP):
	@test -x $(SAM_VENV)/bin/python || $(PY) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet 'aws-sam-cli>=1.170'
	@touch $(SAM_STAMP)

sam-validate: $(SAM_STAMP)  ## sam validate --lint (offline: no credentials, telemetry off)
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 $(SAM_VENV)/bin/sam validate --lint -t infra/template.yaml

openapi: $(STAMP)  ## regenerate functions/setup_api/openapi.json from the handlers
	$(BIN)/python -m hblocal.openapi

pytest: $(STAMP)
	$(BIN)/pytest

sim: $(STAMP)  ## run the QuickBooks simulator on its own (PORT=8700)
	$(BIN)/qbo-sim --port $${PORT:-8700}

bench: $(STAMP)  ## run the benchmarks and rewrite bench/RESULTS.md
	$(BIN)/python -m bench

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) $(SAM_VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
