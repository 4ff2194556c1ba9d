"""Shim for rule da_table3_performance: Table III, BAC and FM of SVM / LG / NN per method."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.table3(tr.read_csvs(i.files), p.datasets, o.csv, o.md, custom=p.get("custom"))
