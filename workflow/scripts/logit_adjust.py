"""Shim for rule logit_adjust: post-hoc logit adjustment of the phase-1 network (Menon et al. 2021)."""
from pipeline_lib.core import decoupling
from pipeline_lib.infra import runlog

log = runlog.start(snakemake)
p = snakemake.params.la
tau = decoupling.logit_adjust_stage(snakemake.input.backbone, snakemake.input.train, snakemake.input.test,
                                    snakemake.output.predictions, snakemake.output.search, taus=p["taus"],
                                    holdout=p["holdout"], seed=p["seed"], cosine_scale=p["cosine_scale"])
log.info("chosen tau = %g", tau)
