"""Shim for rule da_fig12_nn_top_features: Fig. 12, NN top input-gradient features per class."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.top_features_figure(tr.read_csvs(i.files), "nn", p.dataset, p.figure_top_k, o.png, o.csv)
