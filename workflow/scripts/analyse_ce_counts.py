"""Shim for rule analyse_ce_counts: data/tabular/analysis/ce_counts.csv from every tabular run's model files."""
from pipeline_lib.infra import namedfiles, runlog
from pipeline_lib.studies.tabular import reports as tabular_reports

runlog.start(snakemake)
p = snakemake.params
tabular_reports.collect_ce_counts(namedfiles.runs(snakemake.input, p.runs), snakemake.output[0], **p.options)
