"""Shim for rule saliency_top_pixels: the top salient pixels of every test image of one cut for one model."""
from pipeline_lib.studies import da_images
from pipeline_lib.infra import runlog

runlog.start(snakemake)
p = snakemake.params.saliency
da_images.saliency_stage(dict(snakemake.input.items()), snakemake.output[0], p["fraction"], p["batch_size"],
                         snakemake.params.device)
