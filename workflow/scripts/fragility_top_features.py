"""Shim for rule fragility_top_features: class top-K features and their overlap with Base."""
from pipeline_lib.studies import fragility
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
o, p = snakemake.output, snakemake.params
cuts = namedfiles.runs(snakemake.input, p.runs)
fragility.top_features_stage(cuts, o.csv, o.md, **p.options)
