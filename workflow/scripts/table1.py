"""Shim for rule table1: EOS paper Table I."""
from pipeline_lib.studies.eos import table2 as reports
from pipeline_lib.infra import runlog

runlog.start(snakemake)
p = snakemake.params
reports.table1_stage(list(snakemake.input), snakemake.output.csv, snakemake.output.md, datasets=p.datasets,
                     methods=p.methods, titles=p.titles)
