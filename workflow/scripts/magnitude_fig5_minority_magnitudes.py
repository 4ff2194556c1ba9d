"""Shim for rule magnitude_fig5_minority_magnitudes: Fig. 5, the minority class's sorted latent magnitudes."""
from pipeline_lib.studies import magnitude_images
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
o, p = snakemake.output, snakemake.params
cuts = namedfiles.runs(snakemake.input, p.runs)
magnitude_images.fig5_stage(cuts, o.png, o.csv, **p.options)
