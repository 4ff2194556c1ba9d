"""Shim for rule runtime_table: run times read from Snakemake's benchmark files."""
from pipeline_lib.studies.eos import figures
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
figures.runtime_table(namedfiles.nest(snakemake.input.items())["benchmarks"], snakemake.output[0])
