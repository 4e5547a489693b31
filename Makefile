# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?=

.PHONY: demo test lint install serve migrate clean bench bench-explain bench-clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## The offline demo: the full bot against a local fake Slack, in this terminal.
demo: $(STAMP)
	$(BIN)/missing-bot demo

## The test suite (SQLite always; PostgreSQL too when TEST_DATABASE_URL is set), on both cores;
## then the tests that time the bot against the wall clock, alone (marker `serial`).
## Bytecode is written even where PYTHONDONTWRITEBYTECODE is set: otherwise each pytest process
## compiles and assertion-rewrites every test module again (2-3 s each, three processes).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q -n 2 -m "not serial"
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q -m serial

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## The scheduler benchmark (not a test): seeds 10,000 and 1,000,000 history episodes plus
## 20,000 open RHIs (100 due) on SQLite and PostgreSQL, measures, appends to docs/benchmarks.md.
## Seeds are cached (data/bench/, bench_missingbot_* databases); `make bench-clean` drops them.
BENCH_OUT ?= docs/benchmarks.md
BENCH_TITLE ?= Scheduler benchmark
BENCH_ARGS ?=
BENCH_COMBOS ?= sqlite:10000 sqlite:1000000 postgresql:10000 postgresql:1000000
bench: $(STAMP)
	$(BIN)/python -m bench.report --out $(BENCH_OUT) --title "$(BENCH_TITLE)" \
		--combos "$(BENCH_COMBOS)" --args "$(BENCH_ARGS)"
	for combo in $(BENCH_COMBOS); do \
		$(BIN)/python -m bench.scheduler --backend $${combo%%:*} --size $${combo##*:} \
			$(BENCH_ARGS) --out $(BENCH_OUT) || exit 1; \
	done

## The query plans of the hot paths on PostgreSQL at 1,000,000 episodes (EXPLAIN ANALYZE of
## every statement a pass, /missing new, a button lookup, list, show and rhi send).
bench-explain: $(STAMP)
	$(BIN)/python -m bench.explain --size 1000000 --out $(BENCH_OUT)

bench-clean: $(STAMP)
	$(BIN)/python -m bench.seed --clean

serve: $(STAMP)
	$(BIN)/missing-bot serve

migrate: $(STAMP)
	$(BIN)/missing-bot migrate

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
