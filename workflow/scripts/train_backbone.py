"""Shim for rule train_backbone: phase-1 training of one dataset x cut x loss."""
from pipeline_lib.infra import runlog
from pipeline_lib.core import training

log = runlog.start(snakemake)
hp = snakemake.params.hp
training.run_stage(snakemake.input.images, snakemake.input.indices, snakemake.output.model,
                   snakemake.output.history, arch=hp["arch"], loss=snakemake.wildcards.loss,
                   training=hp["training"], loss_options=hp["loss_options"], seed=hp["seed"],
                   normalize=hp["normalize"], test_indices_csv=snakemake.input.test_indices,
                   log=runlog.epoch_progress(hp["training"]["epochs"], log.info))
