"""Shim for rule augment_tabular: a real-space oversampler on one run's training split."""
from pipeline_lib import runlog, tabular

log = runlog.start(snakemake)
p = snakemake.params
tabular.augment_stage(snakemake.input[0], snakemake.output[0], method=snakemake.wildcards.method,
                      options=p.options, seed=p.seed, log=log.info)
