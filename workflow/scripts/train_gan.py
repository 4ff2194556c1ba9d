"""Shim for rule train_gan: one GAN on one cut's training images (EOS paper Table III baselines)."""
from pipeline_lib.sampling import gans
from pipeline_lib.infra import runlog

log = runlog.start(snakemake)
hp = snakemake.params.hp
gans.train_stage(snakemake.input.images, snakemake.input.indices, snakemake.output.generator,
                 snakemake.output.history, gan=snakemake.wildcards.gan, options=hp["options"], seed=hp["seed"],
                 dataset=hp["dataset"], device=hp["device"], log=log.info)
