"""Shim for the tabular study's stage rules: one library call per rule (pipeline_lib.tabular)."""
from pipeline_lib import runlog, tabular

log = runlog.setup(snakemake.log[0], snakemake.threads)
rule, i, o, p, wc = snakemake.rule, snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards

if rule == "fetch_tabular":
    tabular.fetch_stage(o[0], name=wc.tabular, **p.source)
elif rule == "split_tabular":
    tabular.split_stage(i[0], o.train, o.test, dataset=wc.tabular, run=int(wc.run), test_size=p.test_size)
elif rule == "augment_tabular":
    tabular.augment_stage(i[0], o[0], method=wc.method, options=p.options, seed=p.seed, log=log.info)
elif rule == "fit_sklearn_model":
    tabular.fit_sklearn_stage(i.train, i.test, o.model, o.predictions, model=wc.model, method=wc.method,
                              settings=p.settings, seed=p.seed, log=log.info)
elif rule == "train_tabular_nn":
    tabular.train_nn_stage(i.train, i.test, o.model, o.predictions, o.history, method=wc.method,
                           settings=p.settings, remix_alpha=p.remix_alpha, seed=p.seed, log=log.info)
elif rule == "export_tabular_embeddings":
    tabular.export_stage(i.model, i.train, i.test, o.train, o.test)
elif rule == "evaluate_tabular_run":
    tabular.evaluate_stage(p.predictions, o[0], dataset=wc.tabular, run=int(wc.run))
else:
    raise ValueError(f"tabular_stage.py does not serve rule {rule!r}")
