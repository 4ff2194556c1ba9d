"""pipeline_lib: the logic of the Dablain & Chawla reproduction pipeline (EOS and follow-ups).

One module per concept: datasets, imbalance, models, losses, training (the backbone loop), remix (REMIX
batch draws), mlp (the tabular study's MLP loop), embeddings, samplers (EOS, Balanced SVM, REMIX as
imbalanced-learn samplers), oversampling (the oversampling file stages), heads, metrics, reports, figures,
analysis, tabular, tabular_reports; config (validation and plan-time checks), schema_defaults (the
schema's defaults for code outside the workflow), codehash (rerun triggers), namedfiles (nested inputs
through Snakemake's named inputs), devices (GPU claiming) and runlog (logs and console lines) serve the
workflow.
"""
__version__ = "0.1.0"

# a Snakemake script job: its rule's threads in every thread pool, before numpy / torch / scikit-learn load
# (pipeline_lib.threads; every workflow script imports pipeline_lib first)
from .threads import pin_snakemake_job as _pin_snakemake_job

_pin_snakemake_job()
