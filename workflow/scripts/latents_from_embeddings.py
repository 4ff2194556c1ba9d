"""Shim for rule latents_from_embeddings: a backbone's or head's latents from the backbone's embedding files."""
from pipeline_lib.core import latents
from pipeline_lib.infra import runlog

runlog.start(snakemake)
i, o = snakemake.input, snakemake.output
latents.from_embeddings_stage(i.train, i.test, o.train, o.test, network=i.network, model=snakemake.wildcards.net,
                              head=i.get("head"))
