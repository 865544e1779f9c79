# Two entry points on a fresh machine with only python3 (>= 3.11) and make:
#   make demo   runs the demo against the simulated OpenD (no test dependencies installed)
#   make test   lint, format check and the whole test suite
#   make stress the long variant of tests/reliability (minutes; figures in the README)
# .venv is (re)built when it is missing or when pyproject.toml is newer than its install stamp.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# An editable install leaves the package's data files out, so the man pages are copied into the
# venv here (a wheel installs them itself): `man futucli` then works with .venv/bin on PATH.
MAN_PAGES := $(VENV)/share/man/man1/futucli.1 $(VENV)/share/man/man1/futu-mcp.1

.PHONY: demo test stress lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-base

$(VENV)/share/man/man1/%.1: man/%.1 | $(BIN)/python
	mkdir -p $(@D)
	cp $< $@

demo: $(VENV)/.installed-base $(MAN_PAGES)
	$(BIN)/futucli demo

test: $(VENV)/.installed-test $(MAN_PAGES)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# The same reliability tests as in `make test`, at full size: FUTU_STRESS=1 selects it.
stress: $(VENV)/.installed-test
	FUTU_STRESS=1 $(BIN)/python -m pytest tests/reliability --timeout 1200 -v -s --durations=0

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV)
