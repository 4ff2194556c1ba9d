"""Shim for rule imbalance_dataset: choose one cut's long-tailed training subset."""
from pipeline_lib import runlog
from pipeline_lib.datasets import ImageArrays
from pipeline_lib.imbalance import subset_table

log = runlog.start(snakemake)
data = ImageArrays.load(snakemake.input[0])
table = subset_table(data.train_y, data.class_names, snakemake.params.imbalance, int(snakemake.wildcards.cut))
log.info("class counts: %s", table["label"].value_counts().sort_index().tolist())
table.to_csv(snakemake.output[0], index=False)
