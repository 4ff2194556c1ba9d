"""Shim for rule da_table5_image_performance: Table V, BAC and FM of the seven models."""
from pipeline_lib.studies import da_images
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
cuts = namedfiles.runs(snakemake.input, snakemake.params.runs)
datasets, titles, _ = da_images.study(cuts)
da_images.table5_stage(cuts, datasets, snakemake.output.csv, snakemake.output.md, titles,
                       shots=snakemake.params.long_tail)
