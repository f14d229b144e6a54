# Two commands do everything on a fresh machine with Python 3.11 and pip:
#   make demo   - create/reuse .venv, install motionvigil, run the main job
#   make test   - create/reuse .venv, install with dev extras, run the test suite
#   make test-fast - the same without the tests marked slow (subprocess, torchrun, demo)
#   make test-video - tests/io/test_video*.py in a second venv with the video extra (mediapipe
#                  pins numpy<2, so it cannot share .venv); part of make test
PYTHON ?= python3
VENV   ?= .venv
VIDEO_VENV ?= .venv-video
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
OUT    ?= out

.PHONY: demo test test-fast test-video bench-video install install-dev browser clean results results-render results-check bench results-tmor results-kinemic results-reproduce results-data model

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

# Every figure the docs quote from results/ (make results-render writes them into the docs):
# - results/detection/: the detection benchmark (about 10 min);
# - results/fewshot/*_paper, *_novel: the few-shot headline rows (3 seeds x {paper, class-disjoint}
#   x {mocap_violence, procedural}, several hours on 2 cores; finished runs are reused, so an
#   interrupted `make results` resumes: delete results/fewshot/*/runs for a fresh re-run);
# - results/fewshot/*_grid*: the full N-way K-shot grid, one seed (mocap_violence with full
#   FOMAML and with the fast mode, procedural), about 30 min each;
# - results/retrieval/: pre-training + retrieval of TMR and ViT on real captions (about 5 min);
# - results/cross_skeleton/: the cross-skeleton study (about 10 min);
# - results/tmor/: T-MOR pre-training and transfer probes (make results-tmor, about 40 min);
# - results/kinemic/: the KineMIC augmentation study (make results-kinemic, about 70 min);
# - results/bench/, results/serve/: the speed benchmarks (make bench, about 25 min; run them on an
#   otherwise idle machine).
# A second run into another folder, checked against the committed figures (every cell of the
# re-run inside the committed 95% interval over seeds; one-seed cells equal to 3 decimals):
#   make results RESULTS=/tmp/second
#   .venv/bin/python -m motionvigil.report.reproduce results/fewshot /tmp/second/fewshot
RESULTS ?= results
FEWSHOT_HEADLINE = $(BIN)/motionvigil study fewshot --headline --episodes 100
FEWSHOT_RUN = $(FEWSHOT_HEADLINE) --seed 0 --seed 1 --seed 2
RETRIEVAL_DATA = --data bandai2 --data hdm05 --data utkinect
results: $(VENV)/.installed-dev
	$(BIN)/motionvigil study detection -o $(RESULTS)/detection
	$(FEWSHOT_RUN) --data mocap_violence -o $(RESULTS)/fewshot/mocap_violence_paper
	$(FEWSHOT_RUN) --data mocap_violence --class-split novel -o $(RESULTS)/fewshot/mocap_violence_novel
	$(FEWSHOT_RUN) --data procedural -o $(RESULTS)/fewshot/procedural_paper
	$(FEWSHOT_RUN) --data procedural --class-split novel -o $(RESULTS)/fewshot/procedural_novel
	$(BIN)/motionvigil study fewshot --data mocap_violence -o $(RESULTS)/fewshot/mocap_violence_grid
	$(BIN)/motionvigil study fewshot --data mocap_violence --fast-top-layers 1 --inner-lr 0.2 -o $(RESULTS)/fewshot/mocap_violence_grid_fast
	$(BIN)/motionvigil study fewshot --data procedural -o $(RESULTS)/fewshot/procedural_grid
	$(BIN)/motionvigil retrieval $(RESULTS)/fewshot/procedural_grid/pretrain --data procedural -o $(RESULTS)/retrieval/procedural.json
	$(BIN)/motionvigil study cross-skeleton --data mocap_violence -o $(RESULTS)/cross_skeleton/cross_skeleton.json
	for enc in tmr vit; do \
	  $(BIN)/motionvigil pretrain $(RETRIEVAL_DATA) --preset tiny --encoder $$enc --epochs 30 -o $(RESULTS)/retrieval/runs/$$enc && \
	  $(BIN)/motionvigil retrieval $(RESULTS)/retrieval/runs/$$enc $(RETRIEVAL_DATA) --data msr_action3d --skip-bad \
	    -o $(RESULTS)/retrieval/$$enc.json || exit 1; \
	done
	$(MAKE) --no-print-directory results-tmor RESULTS=$(RESULTS)
	$(MAKE) --no-print-directory results-kinemic RESULTS=$(RESULTS)
	$(MAKE) --no-print-directory results-reproduce RESULTS=$(RESULTS)
	$(MAKE) --no-print-directory bench RESULTS=$(RESULTS)
	if [ "$(RESULTS)" = results ]; then $(MAKE) --no-print-directory results-render; fi

# T-MOR (docs/tmor.md, about 40 min): InfoNCE and T-MOR pre-training of the UNIK encoder, the
# T-MOR run's weights after stage 1 (epoch 6, kept as a copy), and the transfer probes of each
# (scratch = the InfoNCE architecture with random weights).
TMOR = $(RESULTS)/tmor
TMOR_PRE = $(BIN)/motionvigil pretrain --data bandai2 --data utkinect --encoder unik --preset tiny --lr 1e-3
results-tmor: $(VENV)/.installed-dev
	$(TMOR_PRE) --epochs 20 -o $(TMOR)/runs/infonce
	rm -rf $(TMOR)/runs/tmor $(TMOR)/runs/tmor_stage1
	$(TMOR_PRE) --epochs 6 --objective tmor --self-supervised-epochs 6 -o $(TMOR)/runs/tmor
	cp -r $(TMOR)/runs/tmor $(TMOR)/runs/tmor_stage1
	$(TMOR_PRE) --epochs 16 --objective tmor --self-supervised-epochs 6 -o $(TMOR)/runs/tmor
	for r in infonce tmor; do cp $(TMOR)/runs/$$r/train.json $(TMOR)/$${r}_train.json; \
	  cp $(TMOR)/runs/$$r/log.jsonl $(TMOR)/$${r}_log.jsonl; done
	for m in scratch infonce stage1 tmor; do \
	  case $$m in scratch) run="$(TMOR)/runs/infonce --scratch";; infonce) run=$(TMOR)/runs/infonce;; \
	    stage1) run=$(TMOR)/runs/tmor_stage1/last;; tmor) run=$(TMOR)/runs/tmor;; esac; \
	  $(BIN)/motionvigil probe $$run --data msr_action3d --data hdm05 --skip-bad --mode linear -o $(TMOR)/classify_linear_$$m.json && \
	  $(BIN)/motionvigil probe $$run --data utkinect --task detect --mode linear -o $(TMOR)/detect_linear_$$m.json && \
	  $(BIN)/motionvigil probe $$run --data utkinect --task detect --mode finetune --epochs 15 -o $(TMOR)/detect_finetune_$$m.json && \
	  $(BIN)/motionvigil probe $$run --data hdm05 --mode finetune -o $(TMOR)/hdm05_finetune_$$m.json && \
	  $(BIN)/motionvigil probe $$run --data msr_action3d --skip-bad --mode finetune --epochs 15 -o $(TMOR)/msr_finetune_$$m.json \
	  || exit 1; \
	done

# KineMIC augmentation study (docs/kinemic.md, about 70 min): encoder, text-to-motion prior, then
# 5 seeds per target; the committed JSON is the study's results.json with its number lists compacted.
KINEMIC = $(RESULTS)/kinemic
KINEMIC_EVAL = $(BIN)/motionvigil kinemic-eval --prior $(KINEMIC)/runs/prior --encoder-model $(KINEMIC)/runs/tmr \
	--source synthetic --source bandai2 --shots 10 --seeds 5 --finetune-steps 200
results-kinemic: $(VENV)/.installed-dev
	$(BIN)/motionvigil pretrain --data synthetic --data bandai2 --preset tiny --encoder tmr --epochs 15 -o $(KINEMIC)/runs/tmr
	$(BIN)/motionvigil kinemic-train --data synthetic --data bandai2 --preset tiny --steps 3500 --lr 4e-4 -o $(KINEMIC)/runs/prior
	$(KINEMIC_EVAL) --data msr_action3d --per-class 20 -o $(KINEMIC)/runs/eval_msr
	$(BIN)/python -m motionvigil.report.kinemic compact $(KINEMIC)/runs/eval_msr/results.json $(KINEMIC)/eval_msr.json
	$(KINEMIC_EVAL) --data mocap_violence --per-class 10 -o $(KINEMIC)/runs/eval_mocap
	$(BIN)/python -m motionvigil.report.kinemic compact $(KINEMIC)/runs/eval_mocap/results.json $(KINEMIC)/eval_mocap.json

# A second run of training seed 0 of the procedural headline study, compared number by number
# with the committed run (about 15 min): results/reproduce/procedural_paper_seed0.json.
results-reproduce: $(VENV)/.installed-dev
	$(FEWSHOT_HEADLINE) --seed 0 --data procedural -o $(RESULTS)/reproduce/runs/procedural_paper_seed0
	$(BIN)/python -m motionvigil.report.reproduce results/fewshot/procedural_paper/fewshot.json \
	  $(RESULTS)/reproduce/runs/procedural_paper_seed0/fewshot.json -o $(RESULTS)/reproduce/procedural_paper_seed0.json

# Evidence for the UTD-MHAD and SBU readers (joint order, units, handedness, who is who; seconds).
results-data: $(VENV)/.installed
	$(BIN)/python -m motionvigil.datasets.reader_evidence -o $(RESULTS)/data/readers.json > /dev/null

BENCH = OMP_NUM_THREADS=1 $(BIN)/python benchmarks
bench: $(VENV)/.installed-dev
	mkdir -p $(RESULTS)/bench
	$(BENCH)/fewshot_bench.py --output $(RESULTS)/bench/fewshot.json > /dev/null
	$(BENCH)/pretrain_bench.py --output $(RESULTS)/bench/pretrain.json > /dev/null
	$(BENCH)/detect_bench.py --output $(RESULTS)/bench/detect.json > /dev/null
	$(BENCH)/io_bench.py --output $(RESULTS)/bench/io.json > /dev/null
	$(BENCH)/persons_bench.py --output $(RESULTS)/bench/persons.json > /dev/null
	$(BENCH)/descriptor_bench.py --output $(RESULTS)/bench/descriptors.json > /dev/null
	mkdir -p $(RESULTS)/serve
	$(BENCH)/serve_bench.py --streams 200 --seconds 15 --capacity 100000 --output $(RESULTS)/serve/serve_bench_200_streams.json > /dev/null
	$(BENCH)/serve_bench.py --streams 200 --seconds 15 --capacity 100000 --search 25,50,75,100,150,200 --output $(RESULTS)/serve/serve_bench_search.json > /dev/null
	$(BENCH)/serve_bench.py --streams 10 --seconds 15 --capacity 100000 --modes off --search 10,20,30,40 --output $(RESULTS)/serve/serve_bench_search_off.json > /dev/null
	$(BENCH)/serve_bench.py --streams 200 --seconds 15 --detector builtin --modes on,off --cascade on,off --output $(RESULTS)/serve/serve_bench_cascade.json > /dev/null
	$(BENCH)/worker_bench.py --streams 20 --seconds 20 --workers 2 --kill-one --output $(RESULTS)/serve/worker.json > /dev/null
	$(BENCH)/encoder_bench.py --output $(RESULTS)/serve/encoder_bench_run1.json > /dev/null
	$(BENCH)/encoder_bench.py --output $(RESULTS)/serve/encoder_bench.json > /dev/null

# Every generated block of the docs (<!-- KIND:start FILE... --> markers) from the results files.
RESULTS_DOCS = README.md $(wildcard docs/*.md)
# docs whose every measured number (decimal or percentage) must sit in a generated block
STRICT_DOCS = docs/results.md docs/detection.md docs/serve.md docs/cross_skeleton.md docs/tmor.md docs/kinemic.md docs/data.md docs/video.md docs/console.md
results-render: $(VENV)/.installed
	$(BIN)/python -m motionvigil.report.blocks $(RESULTS_DOCS)

# Fast (seconds): fails when a generated block in the docs differs from the results file it names.
results-check: $(VENV)/.installed
	$(BIN)/python -m motionvigil.report.blocks $(RESULTS_DOCS) --check $(STRICT_DOCS:%=--strict %)

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
	  MOTIONVIGIL_REQUIRE_VIDEO=1 $(VIDEO_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/io/test_video*.py; \
	else \
	  echo "make test-video: could not install the video extra (no mediapipe wheel here?): video tests not run" >&2; \
	fi

# Video pipeline speed (docs/video.md, about 2 min): 1, 3 and 6 rendered people at 640x480, per stage.
bench-video: $(VIDEO_VENV)/.installed-video
	mkdir -p $(RESULTS)/bench
	OMP_NUM_THREADS=1 $(VIDEO_VENV)/bin/python benchmarks/video_bench.py --output $(RESULTS)/bench/video.json > /dev/null

# Everything except the tests marked slow (subprocesses, torchrun, the demo): minutes less.
test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -m "not slow"; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test-fast: pytest collected no tests" >&2; exit 1; fi; exit $$rc

clean:
	rm -rf $(VENV) $(VIDEO_VENV) $(OUT) .pytest_cache build src/*.egg-info
