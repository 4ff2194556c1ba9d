"""Shim for rule fragility_diversity: latent class diversity: top-K sets, archetypes, reference density."""
from pipeline_lib.studies import fragility
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
o, p = snakemake.output, snakemake.params
cuts = namedfiles.runs(snakemake.input, p.runs)
fragility.diversity_stage(cuts, o.csv, o.md, **p.options)
