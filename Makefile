# Everything runs in .venv, made on first use from requirements*.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 3000
BODY ?= Hello from Twilio
export SAM_CLI_TELEMETRY := 0

.PHONY: help run test lint format validate event events clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime ## serve the webhook on http://127.0.0.1:$(PORT)/sms, ready for a tunnel
	PORT=$(PORT) $(BIN)/python -m devtools.serve

test: $(VENV)/.dev ## run the whole test suite
	$(BIN)/python -m pytest

lint: $(VENV)/.dev ## ruff (lint and format check) and sam validate --lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sam validate --lint

format: $(VENV)/.dev ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

event: $(VENV)/.runtime ## print a signed event: make event BODY="hello" [GET=1] [NAME=file in events/]
	$(BIN)/python -m devtools.make_event --body "$(BODY)" $(if $(GET),--get) \
		$(if $(NAME),> events/$(NAME).json)

events: $(VENV)/.runtime ## rewrite the signed sample events in events/
	$(BIN)/python -m devtools.make_event --samples

clean: ## remove the virtualenv, build output and caches
	rm -rf $(VENV) .aws-sam .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
