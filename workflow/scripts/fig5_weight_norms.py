"""Shim for rule fig5_weight_norms."""
from pipeline_lib import figures, runlog

runlog.setup(snakemake.log[0], snakemake.threads)
p = snakemake.params
figures.head_weight_norms(p.runs, p.methods, snakemake.output.png, snakemake.output.csv, title=p.title)
