# Two commands set everything up on a fresh machine:
#   make run    install into .venv, then build reports/table2.csv (+ its class counts) on the default (embedded) config
#   make test   install into .venv (with the test and variants extras), then run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python
CORES ?= $(shell nproc 2>/dev/null || echo 2)
PYTHON ?= python3

.PHONY: run test install clean-results

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -e '.[test,variants]'
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(VENV)/bin/snakemake --cores $(CORES)

test: $(VENV)/.installed
	$(PY) -m pytest -v -rs

clean-results:
	rm -rf data/raw data/imbalanced data/backbones data/embeddings data/oversampled data/heads data/metrics reports/*.csv reports/*.md logs benchmarks/*/
