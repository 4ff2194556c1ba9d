"""Shim for rule da_fig10_cnn_weight_norms: Fig. 10, majority / minority class weight norms."""
from pipeline_lib.studies import da_images
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
cuts = namedfiles.runs(snakemake.input, snakemake.params.runs)
_, titles, kinds = da_images.study(cuts)
da_images.fig10_stage(cuts, kinds, snakemake.output.png, snakemake.output.csv, titles)
