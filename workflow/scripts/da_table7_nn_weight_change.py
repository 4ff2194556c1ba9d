"""Shim for rule da_table7_nn_weight_change: Table VII, relative weight change of the NN classification layer."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.weight_change_table(tr.read_csvs(i.files), "nn", p.datasets, o.csv, o.md, p.eps)
