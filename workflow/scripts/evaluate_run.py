"""Shim for rule evaluate_run: tidy test metrics of the baseline and every retrained head of one run."""
from pipeline_lib.core import metrics
from pipeline_lib.infra import runlog

runlog.start(snakemake)
wc = snakemake.wildcards
metrics.evaluate_run([snakemake.input.baseline, *snakemake.input.heads], snakemake.params.methods,
                     snakemake.output[0], dataset=wc.dataset, cut=int(wc.cut), loss=wc.loss)
