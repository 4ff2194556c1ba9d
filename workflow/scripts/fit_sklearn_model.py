"""Shim for rule fit_sklearn_model: SVM or LG on one run's (augmented) training set of every method."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import runs as tabular

log = runlog.start(snakemake)
i, o, p, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
for method in p.methods:
    tabular.fit_sklearn_stage(i[f"train_{method}"], i.test, o[f"{method}_model"], o[f"{method}_predictions"],
                              model=wc.model, method=method, settings=p.settings, seed=p.seed, log=log.info)
