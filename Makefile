# Two commands set everything up on a fresh machine with Python 3.11 and make:
#   make report   creates .venv, installs, runs the main job offline on the committed snapshot
#   make test     runs the checks and the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MIRROR ?= ../shared/cbs-mirror

.PHONY: install report test lint snapshot reliability bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

install: $(STAMP)

report: $(STAMP)
	WESTERKWARTIER_OFFLINE=1 $(BIN)/westerkwartier overzicht --gemeente Westerkwartier
	WESTERKWARTIER_OFFLINE=1 $(BIN)/westerkwartier report --rapport alle

lint: $(STAMP)
	$(BIN)/ruff check westerkwartier tests benchmarks scripts
	$(BIN)/ruff format --check westerkwartier tests benchmarks scripts

test: $(STAMP) lint
	$(BIN)/python -m pytest

snapshot: $(STAMP)
	$(BIN)/westerkwartier snapshot --mirror $(MIRROR)

reliability: $(STAMP)
	$(BIN)/python scripts/reliability_table.py

bench: $(STAMP)
	WESTERKWARTIER_OFFLINE=1 $(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) data/cache reports/_failed
