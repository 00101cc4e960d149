# Two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA := data/initiatives.csv
# The planner page's end-to-end tests drive Debian's Chromium (Playwright cannot download its own).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install browser data lint format clean bento

# (Re)install when the project or its pinned constraints change.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

browser:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }
	@$(CHROMIUM) --version

$(DATA): | $(STAMP)
	$(BIN)/scalepredict generate --truth --out $(DATA)

data: $(DATA)

run: install data
	$(BIN)/scalepredict validate $(DATA)
	$(BIN)/scalepredict train --if-missing
	@echo "API keys: $(BIN)/scalepredict keys add NAME --role scorer|admin (printed once)"
	$(BIN)/scalepredict serve --port 3000

test: install browser
	$(BIN)/ruff check src tests benchmarks serving
	$(BIN)/pytest -n 2

lint: install
	$(BIN)/ruff check src tests benchmarks serving
	$(BIN)/ruff format --check src tests benchmarks serving

format: install
	$(BIN)/ruff check --fix src tests benchmarks serving
	$(BIN)/ruff format src tests benchmarks serving

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

# A Bento (serving/bentofile.yaml) carrying the current champion from the local cache.
bento: install
	$(BIN)/python -c "from scalepredict import champion; champion.from_registry()"
	$(BIN)/bentoml build -f serving/bentofile.yaml .
