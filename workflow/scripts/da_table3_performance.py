"""Shim for rule da_table3_performance: Table III, BAC and FM of SVM / LG / NN per method."""
from pipeline_lib import runlog, tabular_reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.table3(tr.read_csvs(i.files), p.datasets, o.csv, o.md)
