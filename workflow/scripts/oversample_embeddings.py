"""Shim for rule oversample_embeddings: latent-space oversampling of train embeddings."""
from pipeline_lib.sampling import oversampling
from pipeline_lib.infra import runlog

log = runlog.start(snakemake)
p = snakemake.params.sampler
oversampling.resample_file(snakemake.input[0], snakemake.output[0], p["name"],
                           random_state=p["seed"], options=p["options"], log=log.info, spec=p.get("spec"))
