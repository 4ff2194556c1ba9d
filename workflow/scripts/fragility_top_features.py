"""Shim for rule fragility_top_features: class top-K features and their overlap with Base."""
from pipeline_lib import fragility, namedfiles, runlog

runlog.start(snakemake)
o, p = snakemake.output, snakemake.params
cuts = namedfiles.runs(snakemake.input, p.runs)
fragility.top_features_stage(cuts, o.csv, o.md, **p.options)
