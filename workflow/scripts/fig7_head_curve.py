"""Shim for rule fig7_head_curve."""
from pipeline_lib import figures, runlog

runlog.setup(snakemake.log[0], snakemake.threads)
p = snakemake.params
figures.head_curves(p.runs, p.curve["samplers"], p.curve["epochs"], p.head_training, p.loss_options, p.seed,
                    snakemake.output.png, snakemake.output.csv)
