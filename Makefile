# Anchang — every target installs what it needs first (see README).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: demo test lint bench install system-deps services clean

$(STAMP): pyproject.toml constraints.txt scripts/bootstrap.sh
	bash scripts/bootstrap.sh $(PYTHON) $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	bash scripts/system-deps.sh

services:
	bash scripts/services.sh

demo: install
	$(BIN)/anchang demo

test: install system-deps services
	$(BIN)/pytest -m "not bench" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy cloud edge_agent shared

bench: install system-deps services
	$(BIN)/pytest tests/bench -m bench -s $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .demo var build *.egg-info
