"""Shim for rule magnitude_fig1_cnn_ce_needed: Fig. 1, percentage of classification embeddings needed per instance."""
from pipeline_lib.studies import magnitude_images
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
o, p = snakemake.output, snakemake.params
cuts = namedfiles.runs(snakemake.input, p.runs)
magnitude_images.fig1_stage(cuts, o.png, o.csv, **p.options)
