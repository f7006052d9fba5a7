# scsim: `make run` and `make test` work on a fresh machine (the venv is created on demand).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

PRESET ?= sc-core
N      ?= 100000
DAYS   ?= 365
SEED   ?=
OUT    ?=
THREADS ?=

RUN_FLAGS := --n $(N) --days $(DAYS) $(if $(SEED),--seed $(SEED)) $(if $(OUT),--out $(OUT)) $(if $(THREADS),--threads $(THREADS))

.PHONY: run test test-replicates bench bench-modules bench-big lint clean venv browser

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -e ".[test,mpi]"
	touch $(STAMP)

## run the default preset (PRESET, N, DAYS, SEED, OUT, THREADS to change) and write its report
run: $(STAMP)
	$(BIN)/scsim run $(PRESET) $(RUN_FLAGS)

## the test suite, two workers (numba compiles are single-threaded) given whole files, the
## longest first (tests/conftest.py); pytest's exit 5, "no tests collected", counts as a failure
test: $(STAMP) browser
	@$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=15; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; that is a failure"; exit 1; fi; \
	exit $$rc

## every seed of every calibrated preset run again and checked against its calibration block
## (make test runs each one's first seed; .ci/run runs both)
test-replicates: $(STAMP)
	SCSIM_TEST_ALL_SEEDS=1 $(BIN)/python -m pytest -q -n 2 tests/experiments/test_calibrated_presets.py

## SC-core benchmarks at 100 k, 1 M and 10 M agents (appends to bench/results.jsonl)
bench: $(STAMP)
	$(BIN)/python bench/run.py --suite standard

## every citizen-and-state module on, 100 k and 1 M citizens, 365 days
bench-modules: $(STAMP)
	$(BIN)/python bench/run.py --suite modules

## the 100 M-agent benchmark (minutes, ~12 GB)
bench-big: $(STAMP)
	$(BIN)/python bench/run.py --suite big

## ruff lint and format check (installs the dev extra)
lint: $(STAMP)
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

## Debian's chromium for the explorer's browser test (apt-get, as root), only when missing
browser:
	@if [ ! -x /usr/bin/chromium ]; then apt-get update && apt-get install -y chromium; \
	else echo "make browser: /usr/bin/chromium is already installed"; fi

clean:
	rm -rf $(VENV) runs .pytest_cache
