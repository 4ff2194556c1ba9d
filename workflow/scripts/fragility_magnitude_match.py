"""Shim for rule fragility_magnitude_match: train/test feature-magnitude matching against test recall."""
from pipeline_lib.studies import fragility
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
o, p = snakemake.output, snakemake.params
cuts = namedfiles.runs(snakemake.input, p.runs)
fragility.magnitude_match_stage(cuts, o.png, o.csv, o.md, **p.options)
