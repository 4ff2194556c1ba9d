"""Shim for rule fit_sklearn_model: SVM or LG on one run's (augmented) training set."""
from pipeline_lib import runlog, tabular

log = runlog.start(snakemake)
i, o, p, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
tabular.fit_sklearn_stage(i.train, i.test, o.model, o.predictions, model=wc.model, method=wc.method,
                          settings=p.settings, seed=p.seed, log=log.info)
