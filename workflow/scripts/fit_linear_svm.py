"""Shim for rule fit_linear_svm: the CE analysis's SVM (tabular.svm, kernel linear: model svm_linear) on one
run's (augmented) training set of every method."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import runs as tabular

log = runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
for method in p.methods:
    tabular.fit_sklearn_stage(i[f"train_{method}"], i.test, o[f"svm_linear_{method}_model"],
                              o[f"svm_linear_{method}_predictions"], model="svm_linear", method=method,
                              settings=p.settings, seed=p.seed, log=log.info)
