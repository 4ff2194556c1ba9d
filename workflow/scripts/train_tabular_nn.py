"""Shim for rule train_tabular_nn: the MLP of the tabular study on one run's train split (validation rows held
out, then the method's augmentation)."""
from pipeline_lib import runlog, tabular

log = runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tabular.train_nn_stage(i.train, i.test, o.model, o.predictions, o.history, method=snakemake.wildcards.method,
                       settings=p.settings, options=p.options, remix_alpha=p.remix_alpha, seed=p.seed,
                       log=log.info)
