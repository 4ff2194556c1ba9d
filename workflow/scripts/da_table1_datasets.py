"""Shim for rule da_table1_datasets: Table I of the tabular study, from the fetched data."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.table1(dict(i.items()), o.csv, o.md)
