# Every target creates or reuses .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mxopt-installed

.PHONY: demo test lint format bench fixtures interop clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/mxopt demo

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q -n 2 --doctest-modules src/mxopt tests

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(STAMP)
	$(PY) bench/run.py

# Regenerates the golden fixtures under tests/fixtures from real MXNet 1.9.1
# (a side environment in .mxref; never needed by the tests).
.mxref/.installed:
	$(PYTHON) -m venv .mxref
	.mxref/bin/pip install -q mxnet==1.9.1 numpy==1.23.5
	touch .mxref/.installed

fixtures: .mxref/.installed
	for f in tools/fixtures/make_*.py; do echo "== $$f"; .mxref/bin/python $$f || exit 1; done

# An mxopt checkpoint must load and predict the same in real MXNet 1.9.1.
interop: $(STAMP) .mxref/.installed
	rm -rf build/interop && mkdir -p build/interop
	$(PY) tools/interop/write_with_mxopt.py build/interop > /dev/null
	.mxref/bin/python tools/interop/read_with_mxnet.py build/interop

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
