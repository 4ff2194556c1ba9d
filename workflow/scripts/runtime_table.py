"""Shim for rule runtime_table: run times read from Snakemake's benchmark files."""
from pipeline_lib import figures, runlog

runlog.setup(snakemake.log[0], snakemake.threads)
figures.runtime_table(snakemake.params.benchmarks, snakemake.output[0])
