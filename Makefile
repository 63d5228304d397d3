# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install compiled run demo bench bench-intake bench-operators bench-timers bench-replay bench-project bench-suite crash test lint types unit

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

install: $(STAMP)

# Workflow code is compiled once per process, however often the sandbox imports it (compiled_once.py);
# bytecode cached on disk spares even that first compile where PYTHONDONTWRITEBYTECODE is set.
compiled: install
	$(BIN)/python -m compileall -q workflows activities

## make run: the embedded Temporal dev server (state in .temporal/, UI on :8233), the worker, and the
## HTTP gateway on 127.0.0.1:8000 with the example (public, loopback-only) tokens.
run: compiled
	$(BIN)/python worker.py --gateway-tokens workflows/data/gateway_tokens.example.toml

## make demo: with `make run` up in another terminal, open and walk a few cases.
demo: install
	$(BIN)/python demo.py

## The benchmarks (BENCHMARKS.md), each on an in-memory server of its own (no `make run` needed); each
## prints a table. Options: `.venv/bin/python -m bench.<name> --help`.
## make bench: whole cases per second against two bare Temporal workflows, side by side on one dev server.
bench: compiled
	$(BIN)/python -m bench.throughput

## make bench-intake: 10,000 submissions at a fixed offered rate; submission to registration p50/p99.
bench-intake: compiled
	$(BIN)/python -m bench.intake

## make bench-operators: 10,000 open cases; 100 operators reading and deciding (open and closed loop).
bench-operators: compiled
	$(BIN)/python -m bench.operators

## make bench-timers: 10,000 acceptance deadlines at one instant (time skipping); all handled in, RSS, CPU.
bench-timers: compiled
	$(BIN)/python -m bench.timers

## make bench-replay: what (d) is made of: one case's history replayed alone, the worker's ms per replay.
bench-replay: compiled
	$(BIN)/python -m bench.replay

## make bench-project: the whole 90-working-day construction project under time skipping.
bench-project: compiled
	$(BIN)/python -m bench.project

## make bench-suite: the whole test suite's wall time.
bench-suite: install
	$(BIN)/python -m bench.suite

## make crash: 200 cases while the worker is SIGKILLed 3 times and the dev server once (loopback, a temporary
## directory, about 3 minutes); every case completes exactly once and every event chain verifies.
crash: install
	$(BIN)/python crash.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install
	$(BIN)/mypy

unit: compiled
	$(BIN)/pytest

## make test: lint, strict types and the whole suite.
test: lint types unit
