"""Shim for rule latents_from_network: one forward pass of a pixel-space / Balanced / GAN backbone."""
from pipeline_lib.core import latents
from pipeline_lib.infra import runlog

runlog.start(snakemake)
i, o = snakemake.input, snakemake.output
latents.from_network_stage(i.images, i.indices, i.test_indices, i.network, o.train, o.test, **snakemake.params.run)
