"""Shim for rule augment_tabular: the real-space oversamplers on one run's training split, one file each."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import runs as tabular

log = runlog.start(snakemake)
p = snakemake.params
for method, options in p.options.items():
    tabular.augment_stage(snakemake.input[0], snakemake.output[method], method=method, options=options, seed=p.seed,
                          log=log.info)
