"""Shim for rule table5: EOS paper Table V (backbones without and with EOS)."""
from pipeline_lib.studies.eos import tables as eos_studies
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
p, o = snakemake.params, snakemake.output
eos_studies.table5_stage(namedfiles.runs(snakemake.input, p.records), o.csv, o.md, titles=p.titles, k=p.k)
