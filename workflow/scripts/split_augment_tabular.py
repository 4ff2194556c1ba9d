"""Shim for rule split_augment_tabular: stratified train/test split of one run, scaled on train, then the
real-space oversamplers (and your own samplers) on its training split, one file each."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import runs as tabular

log = runlog.start(snakemake)
o, p, wc = snakemake.output, snakemake.params, snakemake.wildcards
tabular.split_stage(snakemake.input[0], o.train, o.test, dataset=wc.tabular, run=int(wc.run), test_size=p.test_size)
for method, options in p.options.items():
    tabular.augment_stage(o.train, o[f"augmented_{method}"], method=method, options=options, seed=p.seed, log=log.info)
