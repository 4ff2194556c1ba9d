"""Shim for rule da_table8_cnn_weight_change: Table VIII, change of the classification layer against Base."""
from pipeline_lib.studies import da_images
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
cuts = namedfiles.runs(snakemake.input, snakemake.params.runs)
datasets, titles, _ = da_images.study(cuts)
da_images.table8_stage(cuts, datasets, snakemake.output.csv, snakemake.output.md, titles)
