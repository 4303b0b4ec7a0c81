# The two set-up commands of the README: `make demo` (run everything) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: install demo test lint chromium bench bench-growth bench-peers clean

# hatch_build.py compiles the C twins (each package's _*.c) on install: a change to one
# reinstalls.
$(STAMP): pyproject.toml hatch_build.py $(wildcard */_*.c)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/procmon up

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The GraphiQL test drives Debian's chromium (installed once, when missing).
chromium:
	.ci/install-chromium

test: lint chromium
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# 10M and 100M stored rows (hours); GROWTH_ROWS=300000,1000000 shrinks them.
bench-growth: $(STAMP)
	$(BIN)/python -m benchmarks --growth $(if $(GROWTH_ROWS),--growth-rows $(GROWTH_ROWS))

# procmon's API beside PostGraphile v4 and v5 (npm installs them into ~/.cache/procmon/peers).
bench-peers: $(STAMP)
	$(BIN)/python -m benchmarks --peers $(if $(PEER_SNAPSHOTS),--api-snapshots $(PEER_SNAPSHOTS))

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache bench-results.json
