"""Shim for rule train_gan_backbone: a backbone trained with one loss on a GAN-balanced cut."""
from pipeline_lib.infra import runlog
from pipeline_lib.core import training

log = runlog.start(snakemake)
hp = snakemake.params.hp
training.run_stage(snakemake.input.images, snakemake.input.indices, snakemake.output.model,
                   snakemake.output.history, arch=hp["arch"], loss=snakemake.wildcards.loss, training=hp["training"],
                   loss_options=hp["loss_options"], seed=hp["seed"], normalize=hp["normalize"],
                   train_npz=snakemake.input.balanced, out_predictions=snakemake.output.predictions,
                   test_indices_csv=snakemake.input.test_indices,
                   log=runlog.epoch_progress(hp["training"]["epochs"], log.info))
