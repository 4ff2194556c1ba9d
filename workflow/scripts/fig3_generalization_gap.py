"""Shim for rule fig3_generalization_gap."""
from pipeline_lib.studies.eos import figures
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
p = snakemake.params
figures.gap_per_class(namedfiles.runs(snakemake.input, p.runs), p.methods, snakemake.output.png,
                      snakemake.output.csv, title=p.title)
