# Two commands set everything up on a fresh machine:
#   make run    install into .venv, then build reports/table2.csv (+ its class counts) on the default (embedded) config
#   make test   install into .venv with the test and variants extras (smote-variants brings tensorflow), then run
#               the test suite
#   make verify list damaged files under data/ and reports/ with the command that rebuilds each
VENV ?= .venv
PY := $(VENV)/bin/python
CORES ?= $(shell nproc 2>/dev/null || echo 2)
PYTHON ?= python3

.PHONY: run test install clean-results verify

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install -e '.[test,variants]'
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(VENV)/bin/snakemake --cores $(CORES)

# every file under data/ and reports/ against the size / sha256 its job recorded (and its format): lists the
# damaged ones with the command that rebuilds each (pipeline_lib.infra.integrity)
verify: $(VENV)/.installed
	$(PY) -m pipeline_lib.infra.integrity data reports

test: $(VENV)/.installed-test
	$(PY) -m pytest -v -rs

clean-results:
	rm -rf data/raw data/imbalanced data/backbones data/embeddings data/oversampled data/heads data/metrics reports/*.csv reports/*.md logs benchmarks/*/
