# Two commands set everything up on a fresh machine: `make run` and `make test`.
# `make help` (the default) lists every target with the line after its `##`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
DATA := data/initiatives.csv
# The planner page's end-to-end tests drive Debian's Chromium (Playwright cannot download its own).
CHROMIUM ?= /usr/bin/chromium
# The planner page's JavaScript unit tests run on Debian's Node.js (its built-in test runner).
NODE ?= /usr/bin/node
JS_TESTS := tests/js/*.test.mjs
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CODE := src tests benchmarks serving examples

.PHONY: help run test test-fast test-js install install-dev browser nodejs postgres data lint typecheck docs format clean bento example-ieg stack stack-down

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# (Re)install when the project or its pinned constraints change. uv resolves and installs from
# its cache in about a tenth of pip's time; `make run` needs the package only, `make test` adds
# the dev tools. UV_NATIVE_TLS: uv trusts the system's certificates, as pip does here.
UV := UV_NATIVE_TLS=1 $(BIN)/uv pip install --quiet --python $(BIN)/python -c constraints.txt
$(BIN)/uv:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv

$(STAMP): pyproject.toml constraints.txt | $(BIN)/uv
	$(UV) -e .
	@touch $(STAMP)

$(DEV_STAMP): $(STAMP) | $(BIN)/uv
	$(UV) -e ".[dev]"
	@touch $(DEV_STAMP)

install: $(STAMP) ## Create .venv and install the package

install-dev: $(DEV_STAMP) ## The package with its dev tools (tests, linters, docs)

browser: ## Install Debian's Chromium if missing (for the planner page's tests)
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }
	@$(CHROMIUM) --version

nodejs: ## Install Debian's Node.js if missing (for the page's JavaScript unit tests)
	@test -x $(NODE) || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nodejs; }
	@$(NODE) --version

# The database tests start a throwaway PostgreSQL cluster from Debian's package (nothing system-wide
# is configured: the package's own cluster, if any, is left alone).
postgres: ## Install Debian's PostgreSQL if missing (the database tests, the stack)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends postgresql; }
	@ls /usr/lib/postgresql/*/bin/initdb

$(DATA): | $(STAMP)
	$(BIN)/scalepredict generate --truth --out $(DATA)

data: $(DATA) ## Generate the default synthetic data set if missing

# The port is the port setting (SCALEPREDICT_PORT in the environment, 3000 if unset);
# `make run PORT=3401` overrides it. Only a PORT on make's command line counts: a PORT variable
# that some platforms export for their own purposes is not taken for ours.
SERVE_PORT := $(if $(filter command line,$(origin PORT)),--port $(PORT))

run: install data ## Validate the data, train a champion if none, serve (port setting, or PORT=)
	$(BIN)/scalepredict validate $(DATA)
	$(BIN)/scalepredict train --if-missing
	@echo "API keys: $(BIN)/scalepredict keys add NAME --role scorer|recorder|admin (printed once)"
	$(BIN)/scalepredict serve $(SERVE_PORT)

# The real-data example: the World Bank IEG ratings, read as published, under their own model name.
IEG := examples/world-bank-ieg
IEG_PORT ?= 3001
example-ieg: install ## Real data: validate the IEG ratings, train + register their model, serve on :3001
	$(BIN)/scalepredict validate --catalogue $(IEG)/catalogue.yaml \
		$(IEG)/data/ieg_world_bank_project_performance_ratings_01-17-2026.csv
	$(BIN)/scalepredict train --catalogue $(IEG)/catalogue.yaml --config $(IEG)/train.yaml --if-missing
	$(BIN)/scalepredict serve --catalogue $(IEG)/catalogue.yaml --port $(IEG_PORT)

# The production topology on this machine: PostgreSQL (a cluster under var/stack), an MLflow
# tracking server on it and two replicas; `source var/stack.env` points commands at it.
stack: install postgres data ## PostgreSQL + MLflow server + two replicas (:3101, :3102); var/stack.env
	$(BIN)/python serving/stack.py up

stack-down: ## Stop everything `make stack` started
	$(BIN)/python serving/stack.py down

# Tests are dealt to the two workers file by file, so that a module's live server, stack or
# trained model (module-scoped fixtures) is made once, on one worker. (`--dist loadgroup` no
# longer groups under pytest 9.2: xdist 3.8 marks a group by rewriting the node id, which
# pytest 9.2 no longer reads, so its groups were silently split across the workers.)
PYTEST := $(BIN)/pytest -n 2 --dist loadfile

test: install-dev browser postgres lint typecheck docs test-js ## Lint, type-check, build the docs, run the whole suite
	$(PYTEST) --durations=30  # the slowest 30, where the time goes

test-js: nodejs ## The planner page's JavaScript unit tests (node --test; no Python needed)
	$(NODE) --test $(JS_TESTS)

test-fast: install-dev lint typecheck ## Everything but the browser and live-server tests (no sudo)
	@if [ -x $(NODE) ]; then $(NODE) --test $(JS_TESTS); else echo "JavaScript tests skipped: no $(NODE) (make nodejs)"; fi
	$(PYTEST) -m "not browser and not service"

lint: install-dev ## ruff check and format check
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)

typecheck: install-dev ## mypy on src/
	$(BIN)/mypy

docs: install-dev ## Build the docs site into site/ (strict: a dead link fails)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

format: install-dev ## Fix what ruff can fix and format the code
	$(BIN)/ruff check --fix $(CODE)
	$(BIN)/ruff format $(CODE)

clean: ## Remove the venv and tool caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis site

bento: install ## Build a Bento carrying the current champion from the local cache
	$(BIN)/python -c "from scalepredict.tracking import champion; champion.from_registry()"
	$(BIN)/bentoml build -f serving/bentofile.yaml .
