"""Shim for rule da_table10_nn_top_features: Table X, top-k input-gradient feature overlap of the NN with Base."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.overlap_table(tr.read_csvs(i.files), "nn", p.top_k, p.datasets, o.csv, o.md)
