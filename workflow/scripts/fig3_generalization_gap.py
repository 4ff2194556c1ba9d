"""Shim for rule fig3_generalization_gap."""
from pipeline_lib import figures, namedfiles, runlog

runlog.start(snakemake)
p = snakemake.params
figures.gap_per_class(namedfiles.runs(snakemake.input, p.runs), p.methods, snakemake.output.png,
                      snakemake.output.csv, title=p.title)
