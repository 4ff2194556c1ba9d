"""Shim for rule train_tabular_latent_heads: the NN's latent-space EOS and DSM of one run: the Base MLP's
penultimate layer in the embedding format (phase 2a), then per method the image pipeline's latent-space
oversampling (phase 2b) and a new head on it (phase 3, cross-entropy)."""
from pipeline_lib.core import heads
from pipeline_lib.infra import runlog
from pipeline_lib.sampling import oversampling
from pipeline_lib.studies.tabular import runs as tabular

log = runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tabular.export_stage(i.model, i.train, i.test, o.train, o.test)
for latent, sampler in p.samplers.items():
    oversampling.resample_file(o.train, o[f"{latent}_oversampled"], sampler["name"], random_state=p.seed,
                               options=sampler["options"], log=log.info)
    heads.retrain_stage(o[f"{latent}_oversampled"], o.test, o[f"{latent}_head"], o[f"{latent}_predictions"],
                        o[f"{latent}_history"], loss="ce", training=p.training, loss_options={}, seed=p.seed)
