"""Shim for rule fig3_generalization_gap."""
from pipeline_lib import figures, runlog

runlog.setup(snakemake.log[0], snakemake.threads)
p = snakemake.params
figures.gap_per_class(p.runs, p.methods, snakemake.output.png, snakemake.output.csv, title=p.title)
