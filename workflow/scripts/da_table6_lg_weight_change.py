"""Shim for rule da_table6_lg_weight_change: Table VI, relative weight change of LG."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.weight_change_table(tr.read_csvs(i.files), "lg", p.datasets, o.csv, o.md, p.eps)
