# Two commands do everything on a fresh machine with Python 3.11 and pip:
#   make demo   - create/reuse .venv, install motionvigil, run the main job
#   make test   - create/reuse .venv, install with dev extras, run the test suite
#   make test-fast - the same without the tests marked slow (subprocess, torchrun, demo)
#   make test-video - tests/io/test_video.py in a second venv with the video extra (mediapipe
#                  pins numpy<2, so it cannot share .venv); part of make test
PYTHON ?= python3
VENV   ?= .venv
VIDEO_VENV ?= .venv-video
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
OUT    ?= out

.PHONY: demo test test-fast test-video install install-dev browser clean results results-render results-check model

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

# The built-in detector (src/motionvigil/zoo/): trained from scratch with a fixed seed (about 5 min).
model: $(VENV)/.installed-dev
	$(BIN)/motionvigil zoo build
	$(BIN)/python -m motionvigil.report.model_card docs/model_card.md

# Every figure the docs quote from results/: the detection benchmark (results/detection/, about
# 10 min) and the few-shot headline rows (results/fewshot/: 3 seeds x {paper, class-disjoint} x
# {mocap_violence, procedural}, several hours on 2 cores; finished runs are reused, so an
# interrupted `make results` resumes: delete results/fewshot/*/runs for a fresh re-run), then
# the docs' tables are rendered from that JSON.
FEWSHOT_RUN = $(BIN)/motionvigil study fewshot --headline --episodes 100 --seed 0 --seed 1 --seed 2
results: $(VENV)/.installed-dev
	$(BIN)/motionvigil study detection -o results/detection
	$(FEWSHOT_RUN) --data mocap_violence -o results/fewshot/mocap_violence_paper
	$(FEWSHOT_RUN) --data mocap_violence --class-split novel -o results/fewshot/mocap_violence_novel
	$(FEWSHOT_RUN) --data procedural -o results/fewshot/procedural_paper
	$(FEWSHOT_RUN) --data procedural --class-split novel -o results/fewshot/procedural_novel
	$(MAKE) --no-print-directory results-render

RESULTS_DOCS = README.md docs/detection.md docs/results.md
results-render: $(VENV)/.installed
	$(BIN)/python -m motionvigil.report.detection results/detection/detection.json docs/detection.md README.md
	$(BIN)/python -m motionvigil.report.fewshot $(RESULTS_DOCS)

# Fast (seconds): fails when a table in the docs differs from the results JSON it is rendered from.
results-check: $(VENV)/.installed
	$(BIN)/python -m motionvigil.report.detection results/detection/detection.json docs/detection.md README.md --check
	$(BIN)/python -m motionvigil.report.fewshot $(RESULTS_DOCS) --check

demo: $(VENV)/.installed
	$(BIN)/motionvigil demo -o $(OUT)/demo

# The browser test (tests/report/test_report_browser.py) needs Chromium and its driver. When they
# are missing and we run as root where apt-get exists, try to install them; this step never
# fails the build: if it cannot install, it says so and the test skips with the reason.
BROWSER_PKGS ?= chromium chromium-driver
CHROMIUM     ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver
BROWSER_LOG  ?= /tmp/motionvigil-browser-install.log
APT_GET      ?= DEBIAN_FRONTEND=noninteractive timeout 900 apt-get -o Acquire::Retries=1 -o Acquire::http::Timeout=30
browser:
	@if [ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ]; then \
	  :; \
	elif [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
	  echo "make: chromium/chromedriver absent and cannot apt-get install them (not root, or no apt-get): the browser test will skip"; \
	elif { $(APT_GET) update -qq && $(APT_GET) install -y -qq --no-install-recommends $(BROWSER_PKGS); } \
	     >$(BROWSER_LOG) 2>&1; then \
	  echo "make: installed $(BROWSER_PKGS) for the browser test"; \
	else \
	  echo "make: could not install $(BROWSER_PKGS) (see $(BROWSER_LOG)): the browser test will skip"; \
	fi

# pytest exits 5 when it collects no tests: that means the suite is missing, so fail loudly.
# Then the video tests in their own venv (test-video), so that they run rather than skip.
test: $(VENV)/.installed-dev browser
	$(BIN)/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	$(MAKE) --no-print-directory test-video || rc=$$?; \
	$(MAKE) --no-print-directory results-check || rc=$$?; exit $$rc

# The video extra pins numpy<2 (mediapipe), so its tests run in a second venv that holds
# only them. Where the mediapipe wheel cannot be installed (a platform without one), say
# so and skip; where it installs, MOTIONVIGIL_REQUIRE_VIDEO=1 turns a mediapipe skip into
# a failure, so these tests never skip silently.
$(VIDEO_VENV)/.installed-video: pyproject.toml
	$(PYTHON) -m venv $(VIDEO_VENV)
	$(VIDEO_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VIDEO_VENV)/bin/python -m pip install --quiet "torch==2.13.0"
	$(VIDEO_VENV)/bin/python -m pip install --quiet -e ".[dev,video]"
	touch $@

test-video:
	@if $(MAKE) --no-print-directory $(VIDEO_VENV)/.installed-video; then \
	  MOTIONVIGIL_REQUIRE_VIDEO=1 $(VIDEO_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/io/test_video.py; \
	else \
	  echo "make test-video: could not install the video extra (no mediapipe wheel here?): video tests not run" >&2; \
	fi

# Everything except the tests marked slow (subprocesses, torchrun, the demo): minutes less.
test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -m "not slow"; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test-fast: pytest collected no tests" >&2; exit 1; fi; exit $$rc

clean:
	rm -rf $(VENV) $(VIDEO_VENV) $(OUT) .pytest_cache build src/*.egg-info
