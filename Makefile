# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?=

.PHONY: demo test lint install serve migrate clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## The offline demo: the full bot against a local fake Slack, in this terminal.
demo: $(STAMP)
	$(BIN)/missing-bot demo

## The test suite (SQLite always; PostgreSQL too when TEST_DATABASE_URL is set).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

serve: $(STAMP)
	$(BIN)/missing-bot serve

migrate: $(STAMP)
	$(BIN)/missing-bot migrate

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
