"""Shim for rule table3: EOS paper Table III (GAN-based oversampling vs EOS)."""
from pipeline_lib.studies.eos import tables as eos_studies
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
p, o = snakemake.params, snakemake.output
eos_studies.table3_stage(namedfiles.runs(snakemake.input, p.records), o.csv, o.md, titles=p.titles, k=p.k)
