"""Shim for rule fig5_weight_norms."""
from pipeline_lib.studies.eos import figures
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
p = snakemake.params
figures.head_weight_norms(namedfiles.runs(snakemake.input, p.runs), p.methods, snakemake.output.png,
                          snakemake.output.csv, title=p.title)
