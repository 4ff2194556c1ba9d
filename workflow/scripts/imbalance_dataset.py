"""Shim for rule imbalance_dataset: one cut's long-tailed training draw and its test set."""
from pipeline_lib.infra import runlog
from pipeline_lib.core.datasets import ImageArrays
from pipeline_lib.core.imbalance import cut_tables

log = runlog.start(snakemake)
data = ImageArrays.load(snakemake.input.images)
lists = {"train": snakemake.input.train_list, "test": snakemake.input.test_list} if snakemake.params.file_lists else None
train, test = cut_tables(data, snakemake.params.imbalance, int(snakemake.wildcards.cut),
                         test_draw=snakemake.params.test_draw, file_lists=lists)
log.info("train class counts: %s", train["label"].value_counts().sort_index().tolist())
log.info("test class counts: %s", test["label"].value_counts().sort_index().tolist())
train.to_csv(snakemake.output.train, index=False)
test.to_csv(snakemake.output.test, index=False)
