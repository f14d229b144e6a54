# Two commands do everything on a fresh machine with Python 3.11 and pip:
#   make demo   - create/reuse .venv, install motionvigil, run the main job
#   make test   - create/reuse .venv, install with dev extras, run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
OUT    ?= out

.PHONY: demo test install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch is installed first and explicitly so that pip takes the CPU wheel rather than
# resolving a (multi-GB) CUDA build through another package's requirement.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet "torch==2.13.0"
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PIP) install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	$(BIN)/motionvigil demo --out $(OUT)/demo

# pytest exits 5 when it collects no tests: that means the suite is missing, so fail loudly.
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache build src/*.egg-info
