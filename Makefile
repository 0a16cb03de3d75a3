# memcache_platform: `make run` starts everything, `make test` tests everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The slowest tests in every run's output: the suite has a 15-minute budget on 2 cores.
PYTEST_ARGS ?= --durations=20

.PHONY: install run test lint format clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: the CPU build (a looser request pulls a CUDA build of several GB)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/memcache dev run

# The bench harness runs in a pytest process of its own: its stack (gunicorn, a worker, Mem0) must not
# share a process with the suite's session worker.
test: $(STAMP)
	$(BIN)/pytest --ignore=tests/bench $(PYTEST_ARGS)
	$(BIN)/pytest tests/bench $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# The layering contracts of .importlinter: nothing in memcache_platform imports tasks, and so on.
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var/test .pytest_cache

# `make bench`: the benchmark (bench/) against the real stack; writes bench/results/ and bench/REPORT.md.
# BENCH_ARGS passes options through, e.g. BENCH_ARGS="--only W1,R1".
BENCH_STAMP := $(VENV)/.bench-stamp

$(BENCH_STAMP): $(STAMP) setup.cfg
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

.PHONY: bench bench-quick
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-quick: $(BENCH_STAMP)
	$(BIN)/python -m bench --quick $(BENCH_ARGS)
