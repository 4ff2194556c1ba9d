"""Shim for rule evaluate_tabular_run: metrics of every model of one run (inputs named <model>/<method>)."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import runs as tabular

runlog.start(snakemake)
wc = snakemake.wildcards
tabular.evaluate_stage(dict(snakemake.input.items()), snakemake.output[0], dataset=wc.tabular, run=int(wc.run))
