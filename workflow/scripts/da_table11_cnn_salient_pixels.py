"""Shim for rule da_table11_cnn_salient_pixels: Table XI, overlap of the top salient pixels with Base."""
from pipeline_lib.studies import da_images
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
cuts = namedfiles.runs(snakemake.input, snakemake.params.runs)
datasets, titles, _ = da_images.study(cuts)
da_images.table11_stage(cuts, datasets, snakemake.output.csv, snakemake.output.md, titles)
