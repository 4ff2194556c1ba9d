"""Shim for rule magnitude_table_topk_ce_share: share of the predicted logit in the top-k CE, frequency vs magnitude."""
from pipeline_lib.studies import magnitude_images
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
o, p = snakemake.output, snakemake.params
cuts = namedfiles.runs(snakemake.input, p.runs)
magnitude_images.table_topk_stage(cuts, o.csv, o.md, **p.options)
