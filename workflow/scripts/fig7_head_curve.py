"""Shim for rule fig7_head_curve."""
from pipeline_lib.studies.eos import figures
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
p = snakemake.params
runs = {p.titles[run["dataset"]]: run for run in namedfiles.runs(snakemake.input, p.runs)}
figures.head_curves(runs, p.curve["samplers"], p.curve["epochs"], p.head_training, p.loss_options, p.seed,
                    snakemake.output.png, snakemake.output.csv, loss=p.head_loss)
