# Everything runs in .venv, made on first use from requirements*.txt. Each long step says what it
# does on stderr, and pip shows its progress there too: stdout carries only what a target prints
# (`make event BODY=hi > hi.json`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 3000
BODY ?= Hello from Twilio
EVENT ?= events/sms.json
RUNTIME_DIR := $(VENV)/lambda-runtime
# The artifact is built with the project's virtualenv when there is one.
BUILD_PYTHON := $(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON))
# GNU make predefines GET (the `get` of SCCS): only a GET given by the user asks for a GET event.
GET := $(if $(filter default,$(origin GET)),,$(GET))
SOURCES := Makefile template.yaml requirements.txt requirements-worker.txt handler.py replies.py \
	$(wildcard sms_webhook/*.py)
export SAM_CLI_TELEMETRY := 0
# `sam build` runs build-WebhookFunction in the project folder (samconfig.toml asks the same of
# a plain `sam build`), not in a copy of the whole folder, .venv included: seconds, not half a
# minute.
SAM_BUILD := $(BIN)/sam build --build-in-source

step = @printf '==> %s\n' "$(1)" >&2

.PHONY: help run phone phone-screenshot send chat test test-quick test-builds lint format build deploy destroy invoke \
	connect event events bench bench-smoke clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' -v port='$(PORT)' \
		'{gsub(/\$$\(PORT\)/, port, $$2); printf "  make %-11s %s\n", $$1, $$2}'

$(BIN)/python:
	$(call step,creating the virtualenv $(VENV)/)
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip >&2

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(call step,installing the webhook's dependencies (requirements.txt) into $(VENV)/)
	@$(BIN)/pip install -r requirements.txt >&2
	@touch $@

$(VENV)/.dev: requirements.txt requirements-worker.txt requirements-dev.txt | $(BIN)/python
	$(call step,installing the test tools and the SAM CLI (requirements-dev.txt) into $(VENV)/)
	@$(BIN)/pip install -r requirements-dev.txt >&2
	@touch $@ $(VENV)/.runtime

$(RUNTIME_DIR)/.installed: requirements-lambda-runtime.txt | $(BIN)/python
	$(call step,installing what Lambda provides (awslambdaric and boto3) into $(RUNTIME_DIR)/)
	@$(BIN)/pip install --target $(RUNTIME_DIR) -r requirements-lambda-runtime.txt >&2
	@touch $@

run: $(VENV)/.runtime ## serve the webhook on http://127.0.0.1:$(PORT)/sms; restarts when the code changes [LOG_JSON=1]
	$(BIN)/python -m devtools.serve --port $(PORT)

phone: $(VENV)/.runtime ## make run, with a phone in your browser at http://127.0.0.1:$(PORT)/phone [OPEN=0]
	$(BIN)/python -m devtools.serve --port $(PORT) --phone

# A value from make's command line as one shell word, whatever quotes or spaces it holds.
quote = '$(subst ','\'',$(1))'
# The variable named $(1) as one shell word, as typed: its value unexpanded, since make would
# expand a `$` in it (BODY='price $5' would arrive as "price "). And the option $(1) with it.
typed = $(call quote,$(value $(1)))
typed_option = $(if $(value $(2)),$(1) $(call typed,$(2)))

chat: $(VENV)/.runtime ## text your bot from the terminal, replies printed (or pipe texts in); no server, no AWS [WAIT=60]
	@$(BIN)/python -m devtools.chat $(call typed_option,--wait,WAIT)

send: $(VENV)/.runtime ## text the running webhook: make send BODY="price" [FROM=+1...] [MEDIA=<url>]
	@$(BIN)/python -m devtools.send --port $(PORT) $(call typed_option,--from,FROM) \
		$(call typed_option,--media,MEDIA) $(call typed_option,--media-type,MEDIA_TYPE) \
		-- $(call typed,BODY)

# The artifact for each architecture, built before the tests (which inspect and run them) so that
# the tests themselves need no network; the two at once (a few seconds sooner after an edit).
TEST_BUILDS := .aws-sam/test/arm64/template.yaml .aws-sam/test/x86_64/template.yaml

test-builds: | $(VENV)/.dev
	@$(MAKE) --no-print-directory -j2 $(TEST_BUILDS)

.aws-sam/test/%/template.yaml: $(SOURCES) | $(VENV)/.dev
	$(call step,building the $* artifact into .aws-sam/test/$*/)
	$(SAM_BUILD) --build-dir .aws-sam/test/$* --parameter-overrides Architecture=$*

# Which tests run: all, or TESTS=<files or tests> and K=<words in their names> (pytest's -k).
TEST_SELECTION = $(TESTS) $(if $(K),-k $(call quote,$(K)))
# pytest-xdist's workers: `auto`, one per CPU and 4 at least (tests/conftest.py says why), each
# taking tests from the others once it has none left (worksteal); none for TESTS=, which one
# process starts sooner than workers that each import everything (tests/test_router.py: 2 s, not 7).
WORKERS ?= $(if $(TESTS),0,auto)
PYTEST = $(BIN)/python -m pytest -n $(WORKERS) --dist worksteal

test: $(VENV)/.dev $(RUNTIME_DIR)/.installed test-builds ## run the test suite [TESTS=tests/test_router.py K=keyword]
	$(call step,running the test suite)
	$(PYTEST) $(TEST_SELECTION)

test-quick: $(VENV)/.dev $(RUNTIME_DIR)/.installed test-builds ## the tests but those marked slow (make run served, the emulator, timeouts) [TESTS= K=]
	$(call step,running the test suite but its slow tests)
	$(PYTEST) -m "not slow" $(TEST_SELECTION)

# docs/phone.png, taken by make phone's browser test (a normal test run takes none).
phone-screenshot: $(VENV)/.dev
	PHONE_SCREENSHOT=docs/phone.png $(BIN)/python -m pytest -n 0 tests/test_phone_page.py

lint: $(VENV)/.dev ## ruff (lint, complexity, format check), mypy --strict, sam validate --lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/sam validate --lint

format: $(VENV)/.dev ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# sam build ends with hints ("Deploy: sam deploy --guided", ...) for commands this project runs
# for you (make deploy, make invoke), and no option leaves them out: they are cut from its output,
# the rest shown as it comes. bash, for pipefail: a failed build still fails.
SAM_HINTS := /^Commands you can use next/,$$d
.aws-sam/build/template.yaml: SHELL := /bin/bash
.aws-sam/build/template.yaml: .SHELLFLAGS := -o pipefail -c
.aws-sam/build/template.yaml: $(SOURCES) | $(VENV)/.dev
	$(call step,sam build: the deployable artifact in .aws-sam/build)
	@$(SAM_BUILD) 2>&1 | sed -e '$(SAM_HINTS)' >&2

build: .aws-sam/build/template.yaml ## sam build: the deployable artifact, without Docker

# The SAM CLI that deploy and destroy run. PARAMS reaches them through the environment (make exports
# variables given on its command line), so its quotes arrive as typed: PARAMS="ReplyMessage='Hi'".
SAM ?= $(abspath $(BIN))/sam
REGION_OPTION = $(if $(REGION),--region "$(REGION)")

deploy: $(VENV)/.dev ## build and deploy, asking only for a token not in SSM [NUMBER= PARAMS= REGION=]
	@$(BIN)/python -m devtools.deploy --sam "$(SAM)" $(REGION_OPTION) \
		$(if $(NUMBER),--number "$(NUMBER)") $(if $(PARAMS),--parameter-overrides "$$PARAMS")

destroy: $(VENV)/.dev ## delete the stack, then ask before deleting the token's SSM parameter [REGION=]
	@$(BIN)/python -m devtools.deploy --destroy --sam "$(SAM)" $(REGION_OPTION)

invoke: .aws-sam/build/template.yaml $(RUNTIME_DIR)/.installed ## run the built function on EVENT=events/<name>.json, as Lambda does (an SQS event: the worker)
	@$(BIN)/python -m devtools.invoke $(EVENT) --runtime-dir $(RUNTIME_DIR)

connect: $(VENV)/.dev ## point Twilio number NUMBER=+1... at the deployed webhook [DRY_RUN=1 REGION=]
	@test -n "$(NUMBER)" || { echo "usage: make connect NUMBER=+15551234567 [DRY_RUN=1]"; exit 2; }
	@$(BIN)/python -m devtools.connect "$(NUMBER)" $(if $(DRY_RUN),--dry-run) $(REGION_OPTION)

event: $(VENV)/.runtime ## print a signed event: make event BODY="hello" [GET=1] [CHANNEL=whatsapp] [NAME=hello: to events/hello.json]
	@$(BIN)/python -m devtools.make_event --body $(call typed,BODY) $(if $(GET),--get) \
		$(call typed_option,--channel,CHANNEL) \
		$(if $(value LOCATION),--location=$(call typed,LOCATION)) \
		$(call typed_option,--button,BUTTON) $(call typed_option,--name,NAME)

events: $(VENV)/.runtime ## rewrite the signed sample events in events/
	$(BIN)/python -m devtools.make_event --samples

# `sam build` runs these targets (BuildMethod: makefile) with ARTIFACTS_DIR set. Dependencies are
# pure-Python wheels for Python 3.13, so one artifact serves arm64 and x86_64 alike and no Docker
# or local python3.13 is needed; a dependency without such a wheel fails the build. Only the code
# that runs goes in: the requirements file without its dependencies' dependencies, and of twilio
# and Powertools the parts the function imports (docs/performance.md says why); no
# tests, events, docs, scripts or .pyc compiled for another Python.
TWILIO_KEPT := __init__.py request_validator.py twiml
POWERTOOLS_UNUSED := event_handler $(addprefix utilities/,auth_alpha batch circuit_breaker \
	data_classes data_masking feature_flags kafka metadata parser streaming validation)
# The worker reads its SQS batch with Powertools' batch utility (which reads records with the data
# classes), and sends with twilio's REST client: twilio whole, and requirements-worker.txt.
WORKER_POWERTOOLS_UNUSED := $(filter-out utilities/batch utilities/data_classes,$(POWERTOOLS_UNUSED))

# The code and the dependencies of $(1), less the parts $(2) of Powertools.
define build-function
mkdir -p "$(ARTIFACTS_DIR)/sms_webhook"
cp handler.py replies.py "$(ARTIFACTS_DIR)/"
cp sms_webhook/*.py "$(ARTIFACTS_DIR)/sms_webhook/"
$(BUILD_PYTHON) -m pip install --quiet --disable-pip-version-check --no-compile --no-deps \
	--target "$(ARTIFACTS_DIR)" --only-binary=:all: --implementation py --abi none \
	--platform any --python-version 3.13 -r $(1)
rm -rf "$(ARTIFACTS_DIR)/bin" $(addprefix "$(ARTIFACTS_DIR)/aws_lambda_powertools/",$(2))
endef

build-WebhookFunction:
	$(call build-function,requirements.txt,$(POWERTOOLS_UNUSED))
	find "$(ARTIFACTS_DIR)/twilio" -mindepth 1 -maxdepth 1 $(addprefix ! -name ,$(TWILIO_KEPT)) -exec rm -rf {} +

build-LaterRepliesFunction:
	$(call build-function,requirements-worker.txt,$(WORKER_POWERTOOLS_UNUSED))

bench: $(VENV)/.dev ## benchmark against the floor and Flask (minutes); writes bench/results.json, docs/benchmark.md
	$(BIN)/python bench/benchmark.py

bench-smoke: $(VENV)/.dev ## the benchmark's correctness only: every contender answers right
	$(BIN)/python bench/benchmark.py --smoke

clean: ## remove the virtualenv, build output and caches (not .local/, your local conversations)
	rm -rf $(VENV) .aws-sam .bench .pytest_cache .ruff_cache .mypy_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
