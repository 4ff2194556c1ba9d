"""Shim for rule eos_variants: EOS as text, pseudo-code, authors' code and r < 0.5 read it, next to SMOTE."""
from pipeline_lib.studies.eos import tables as eos_studies
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
p, o = snakemake.params, snakemake.output
eos_studies.variants_stage(namedfiles.runs(snakemake.input, p.records), o.csv, o.md, titles=p.titles, k=p.k,
                           custom=p.custom)
