"""Shim for rule tau_normalise: the phase-1 head with tau-normalised class weights (Kang et al. 2020)."""
from pipeline_lib.core import decoupling
from pipeline_lib.infra import runlog

log = runlog.start(snakemake)
p = snakemake.params.tau
tau = decoupling.tau_norm_stage(snakemake.input.backbone, snakemake.input.train, snakemake.input.test,
                                snakemake.output.head, snakemake.output.predictions, snakemake.output.search,
                                taus=p["taus"], holdout=p["holdout"], seed=p["seed"])
log.info("chosen tau = %g", tau)
