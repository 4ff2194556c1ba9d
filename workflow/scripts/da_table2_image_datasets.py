"""Shim for rule da_table2_image_datasets: Table II, the image data sets as used."""
from pipeline_lib.studies import da_images
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
da_images.table2_from_cuts(namedfiles.runs(snakemake.input, snakemake.params.runs), snakemake.output.csv,
                           snakemake.output.md)
