"""Shim for rule fig4_gap_tp_fp."""
from pipeline_lib import figures, runlog

runlog.setup(snakemake.log[0], snakemake.threads)
figures.gap_tp_fp(snakemake.params.runs, snakemake.output.png, snakemake.output.csv)
