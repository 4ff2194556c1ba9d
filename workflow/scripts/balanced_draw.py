"""Shim for rule balanced_draw: one cut's balanced training draw (the study's "Balanced" model)."""
import pandas as pd

from pipeline_lib.infra import runlog
from pipeline_lib.core.datasets import ImageArrays
from pipeline_lib.core.imbalance import balanced_table

log = runlog.start(snakemake)
data = ImageArrays.load(snakemake.input.images)
draw = pd.read_csv(snakemake.input.train)
exclude = pd.read_csv(snakemake.input.test)["sample_id"].to_numpy() if data.holdout else ()
table = balanced_table(data.train_y, data.class_names, draw, int(snakemake.wildcards.cut), exclude=exclude)
log.info("class counts: %s", table["label"].value_counts().sort_index().tolist())
table.to_csv(snakemake.output[0], index=False)
