"""Shim for rule table4: EOS paper Table IV (K sweep)."""
from pipeline_lib.studies.eos import tables as eos_studies
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
p, o = snakemake.params, snakemake.output
eos_studies.table4_stage(namedfiles.runs(snakemake.input, p.records), o.csv, o.md, titles=p.titles,
                         table2_k=p.table2_k)
