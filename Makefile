# Two commands set everything up on a fresh machine with Python 3.11 and make:
#   make report   creates .venv, installs, runs the main job offline on the committed snapshot
#   make test     installs the test tools (and Chromium for the browser tests), then runs the
#                 checks (ruff, mypy) and the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MIRROR ?= ../shared/cbs-mirror

.PHONY: install report test lint snapshot reliability bench clean

TEST_STAMP := $(VENV)/.installed-test

# Runtime and JupyterLab: what `make report` and an analyst need.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab]"
	touch $(STAMP)

# Test, lint and type-check tools. `make test` also provisions what the browser tests need
# (Debian's Chromium and axe-core, only when missing: scripts/install-browser.sh).
$(TEST_STAMP): $(STAMP) tests/browser/package-lock.json
	$(BIN)/python -m pip install --quiet -e ".[lab,test,dev]"
	touch $(TEST_STAMP)

install: $(STAMP)

report: $(STAMP)
	WESTERKWARTIER_OFFLINE=1 $(BIN)/westerkwartier overzicht --gemeente Westerkwartier
	WESTERKWARTIER_OFFLINE=1 $(BIN)/westerkwartier report --rapport alle

lint: $(TEST_STAMP)
	$(BIN)/ruff check westerkwartier tests benchmarks scripts
	$(BIN)/ruff format --check westerkwartier tests benchmarks scripts
	$(BIN)/mypy westerkwartier

test: $(TEST_STAMP) lint
	bash scripts/install-browser.sh
	$(BIN)/python -m pytest

snapshot: $(STAMP)
	$(BIN)/westerkwartier snapshot --mirror $(MIRROR)

reliability: $(TEST_STAMP)
	$(BIN)/python scripts/reliability_table.py

bench: $(STAMP)
	WESTERKWARTIER_OFFLINE=1 $(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) data/cache reports/_failed
