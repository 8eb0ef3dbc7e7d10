# Every target sets itself up: a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ifeq ($(OS),Windows_NT)
BIN := $(VENV)/Scripts
endif
STAMP := $(VENV)/.installed
DEMO := out/demo

.PHONY: install test lint demo bench preview clean node-tools

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

AXE := .node/node_modules/axe-core/axe.min.js

# axe-core (npm) checks the published HTML inside headless Chromium; without npm those tests skip.
$(AXE):
	@if command -v npm >/dev/null 2>&1; then \
		npm install --prefix .node --no-audit --no-fund --silent axe-core@4 || echo "axe-core could not be installed: its tests will be skipped"; \
	else echo "npm not found: the axe-core tests will be skipped"; fi

node-tools: $(AXE)

test: $(STAMP) node-tools
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy

demo: $(STAMP)
	$(BIN)/python scripts/demo.py $(DEMO)

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

preview: $(STAMP)
	$(BIN)/python scripts/preview.py $(DEMO)

clean:
	rm -rf $(VENV) .node out build dist .pytest_cache .mypy_cache .ruff_cache
