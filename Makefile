# loyalsim — every target bootstraps .venv on a fresh machine first, from the lock file.
#
# requirements/lock.txt pins every package the suite runs with (made by `make lock` from the
# ranges in pyproject.toml); pyproject.toml keeps the ranges for people who install loyalsim
# as a library. CONTRIBUTING.md says when and how to refresh the lock.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCK   := requirements/lock.txt
OUT    ?= out/demo
PYTEST := $(BIN)/python -m pytest -n auto -q

.PHONY: demo test test-fast test-latest test-oldest lock lint format bench schemas clean clean-kernels install

# pip first at its locked version, then everything else from the lock, then loyalsim itself
# with no dependency resolution and no build environment of its own (hatchling is locked too).
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$$(grep -E '^pip==' $(LOCK))"
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@bash tools/demo.sh "$(OUT)"

test: $(STAMP)
	$(PYTEST)

# The developer's loop: everything but the tests marked slow (subprocess-heavy CLI runs,
# browsers, large simulations). CI runs `make test`, which runs them all.
test-fast: $(STAMP)
	$(PYTEST) -m "not slow"

# Early warning: the newest releases pyproject.toml's ranges allow, in an environment of their
# own (never the locked one), then the whole suite. A failure here is an upstream change we
# must handle before users meet it.
test-latest:
	@test -x .venv-latest/bin/python || $(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --upgrade pip
	.venv-latest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e ".[dev]"
	NUMBA_CACHE_DIR=.venv-latest/numba-cache .venv-latest/bin/python -m pytest -n auto -q -p no:cacheprovider

# The lower bounds of pyproject.toml's ranges, checked: the oldest version each direct
# dependency allows (requirements/oldest.txt, made by `make lock`), then the whole suite.
test-oldest: $(STAMP)
	@test -x .venv-oldest/bin/python || $(BIN)/uv venv --quiet --python $(PYTHON) .venv-oldest
	$(BIN)/uv pip install --quiet --python .venv-oldest/bin/python -r requirements/oldest.txt
	$(BIN)/uv pip install --quiet --python .venv-oldest/bin/python --no-deps -e .
	NUMBA_CACHE_DIR=.venv-oldest/numba-cache .venv-oldest/bin/python -m pytest -n auto -q -p no:cacheprovider

# Refresh the lock files from pyproject.toml's ranges (needs the package index).
lock: $(STAMP)
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 pyproject.toml requirements/tools.in \
	  --extra dev -o $(LOCK)
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 pyproject.toml \
	  --extra dev --resolution lowest-direct -o requirements/oldest.txt

lint: $(STAMP)
	$(BIN)/ruff check src tests tools benchmarks
	$(BIN)/ruff format --check src tests tools benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests tools benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

schemas: $(STAMP)
	$(BIN)/python tools/gen_schemas.py
	$(BIN)/python tools/gen_docs.py

# numba's cache notices edits to a kernel's own file only, not to kernels it calls from
# other modules: after editing one of those in an editable install, clear the caches.
clean-kernels:
	find src -name '*.nbi' -delete -o -name '*.nbc' -delete

clean: clean-kernels
	rm -rf $(VENV) .venv-latest .venv-oldest out .pytest_cache .mypy_cache .ruff_cache .hypothesis
