"""Shim for rule oversample_pixels: pixel-space oversampling of one cut's training images."""
from pipeline_lib import oversampling, runlog

log = runlog.setup(snakemake.log[0], snakemake.threads)
p = snakemake.params.sampler
oversampling.resample_images_file(snakemake.input.images, snakemake.input.indices, snakemake.output[0],
                                  snakemake.wildcards.pixel_sampler, random_state=p["seed"], options=p["options"],
                                  log=log.info)
