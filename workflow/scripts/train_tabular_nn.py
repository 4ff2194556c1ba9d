"""Shim for rule train_tabular_nn: the MLP of the tabular study on one run's train split (validation rows held
out, then each method's augmentation), every method in turn."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import runs as tabular

log = runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
for method, options in p.options.items():
    tabular.train_nn_stage(i.train, i.test, o[f"{method}_model"], o[f"{method}_predictions"], o[f"{method}_history"],
                           method=method, settings=p.settings, options=options, remix_alpha=p.remix_alpha,
                           seed=p.seed, log=log.info)
