"""Shim for rule fit_sklearn_models: SVM (tabular.svm) and LG on one run's (augmented) training set of every
method."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import runs as tabular

log = runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
for model, settings in p.settings.items():
    for method in p.methods:
        tabular.fit_sklearn_stage(i[f"train_{method}"], i.test, o[f"{model}_{method}_model"],
                                  o[f"{model}_{method}_predictions"], model=model, method=method, settings=settings,
                                  seed=p.seed, log=log.info)
