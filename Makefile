# Two commands for a fresh machine: `make run` (install, index seeds/, serve) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DATA ?= ../shared/benchmarks/realtimeqa-2024q1

.PHONY: install run index serve test test-fast lint bench clean

install: $(VENV)/.installed

# torch is installed first and pinned: 2.13.0 is the CPU build; a bare `torch` pulls a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $@

run: install
	$(BIN)/qa index seeds/
	$(BIN)/qa serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not model and not slow"

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: install
	$(BIN)/python -m benchmarks.quality $(DATA)

clean:
	rm -rf $(VENV) .qa-index .qa-eval .pytest_cache
