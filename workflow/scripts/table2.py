"""Shim for rule table2: EOS paper Table II."""
from pipeline_lib.studies.eos import table2 as reports
from pipeline_lib.infra import runlog

runlog.start(snakemake)
p = snakemake.params
reports.table2_stage(list(snakemake.input), snakemake.output.csv, snakemake.output.md, datasets=p.datasets,
                     losses=p.losses, methods=p.methods, titles=p.titles, custom=p.custom)
