"""Shim for rule sample_gan: balance one cut's training images with its trained GAN."""
from pipeline_lib.sampling import gans
from pipeline_lib.infra import runlog

log = runlog.start(snakemake)
gans.sample_stage(snakemake.input.images, snakemake.input.indices, snakemake.input.generator, snakemake.output[0],
                  seed=snakemake.params.seed, log=log.info)
