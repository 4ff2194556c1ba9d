"""Shim for rule retrain_head: phase-3 head on (oversampled) embeddings."""
from pipeline_lib.core import heads
from pipeline_lib.infra import runlog

runlog.start(snakemake)
hp = snakemake.params.hp
heads.retrain_stage(snakemake.input.train, snakemake.input.test, snakemake.output.head,
                    snakemake.output.predictions, snakemake.output.history, loss=hp["loss"],
                    training=hp["training"], loss_options=hp["loss_options"], seed=hp["seed"])
