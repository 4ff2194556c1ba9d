"""Shim for rule oversample_pixels: pixel-space oversampling of one cut's training images."""
from pipeline_lib.sampling import oversampling
from pipeline_lib.infra import runlog

log = runlog.start(snakemake)
p = snakemake.params.sampler
oversampling.resample_images_file(snakemake.input.images, snakemake.input.indices, snakemake.output[0],
                                  snakemake.wildcards.pixel_sampler, random_state=p["seed"], options=p["options"],
                                  log=log.info, spec=p.get("spec"))
