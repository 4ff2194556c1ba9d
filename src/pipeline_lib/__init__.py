"""pipeline_lib: the logic of the Dablain & Chawla reproduction pipeline (EOS and its follow-ups).

Layers, lowest first; each subpackage's docstring states what it may import, and
``tests/unit/test_layers.py`` reads every import (ast) and fails on one that breaks these rules:

- ``runtime``   process guards every job needs (thread pools, orphan checks): imports nothing of the package;
- ``render``    tables, plots, display names: imports nothing of the package;
- ``core``      data sets, imbalance, networks, losses, training, heads, embeddings, latents, metrics and the
                shared measures: imports ``runtime``;
- ``sampling``  the samplers (imbalanced-learn's, EOS, REMIX, your own, the GANs) and their file stages:
                imports ``core``, ``runtime``;
- ``studies``   one subpackage or module per study (EOS; the tabular study of the DA and Magnitude papers;
                the DA image study; the Magnitude image study; Fragility): imports ``core``, ``sampling``,
                ``render``, ``runtime``, **never another study** (what two studies share lives in ``core``);
- ``scorecard`` the papers' published numbers against the studies' tables: imports the studies and below;
- ``infra``     config validation, schema defaults, code hashes, named files, run log, integrity checks:
                imports anything below; imported only by ``workflow/``, ``tests/`` and ``benchmarks/``.
"""
__version__ = "0.1.0"

# a Snakemake script job: its rule's threads in every thread pool, before numpy / torch / scikit-learn load
# (pipeline_lib.runtime.threads; every workflow script imports pipeline_lib first), and a heap that keeps
# what a batch frees for the next batch (pipeline_lib.runtime.memory)
from .runtime.memory import keep_freed_memory as _keep_freed_memory
from .runtime.threads import pin_snakemake_job as _pin_snakemake_job

if _pin_snakemake_job() is not None:
    _keep_freed_memory()
