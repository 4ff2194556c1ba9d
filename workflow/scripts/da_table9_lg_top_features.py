"""Shim for rule da_table9_lg_top_features: Table IX, top-k CE feature overlap of LG with Base."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.overlap_table(tr.read_csvs(i.files), "lg", p.top_k, p.datasets, o.csv, o.md)
