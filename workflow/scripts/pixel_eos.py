"""Shim for rule pixel_eos: EOS in pixel space vs embedding space (EOS paper §V-E3)."""
from pipeline_lib.studies.eos import tables as eos_studies
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
p, o = snakemake.params, snakemake.output
eos_studies.pixel_eos_stage(namedfiles.runs(snakemake.input, p.records), o.csv, o.md, titles=p.titles)
