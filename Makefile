# Anchang — every target installs what it needs first (see README).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

# The web apps: each folder is an npm project whose `npm run build` writes dist/.
WEB_APPS := $(wildcard cloud/web/package.json cloud/h5/package.json edge_agent/web/*/package.json)

.PHONY: demo test lint audit-deps bench manual install system-deps services web browser clean

$(STAMP): pyproject.toml constraints.txt scripts/bootstrap.sh
	bash scripts/bootstrap.sh $(PYTHON) $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	$(BIN)/python -m edge_agent.faces.assets
	touch $(STAMP)

install: $(STAMP)

system-deps:
	bash scripts/system-deps.sh

web:
	bash scripts/build-web.sh $(dir $(WEB_APPS))

browser:
	bash scripts/browser.sh

services:
	bash scripts/services.sh

demo: install web
	$(BIN)/anchang demo

test: install system-deps services web browser
	bash scripts/test-web.sh $(dir $(WEB_APPS))
	BIN=$(BIN) bash scripts/run-tests.sh $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy cloud edge_agent shared

# Known vulnerabilities in the locked dependencies (docs/operations.md, "Dependency audit").
audit-deps:
	$(PYTHON) scripts/audit_deps.py

bench: install system-deps services
	ANCHANG_WRITE_DOCS=1 $(BIN)/pytest tests/bench -m bench -s $(PYTEST_ARGS)

# The user manual's screenshots and the web budget figures (docs/), from the e2e tests.
manual: install system-deps services web browser
	ANCHANG_WRITE_DOCS=1 $(BIN)/pytest tests/e2e -m e2e $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .demo var build *.egg-info
