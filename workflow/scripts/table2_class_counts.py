"""Shim for rule table2_class_counts: per-class counts after latent-space oversampling, beside Table II."""
from pipeline_lib.infra import namedfiles, runlog
from pipeline_lib.studies.eos import table2 as reports

runlog.start(snakemake)
p = snakemake.params
reports.class_counts_stage(namedfiles.runs(snakemake.input, p.runs), snakemake.output.csv, snakemake.output.md,
                           samplers=p.samplers, titles=p.titles)
