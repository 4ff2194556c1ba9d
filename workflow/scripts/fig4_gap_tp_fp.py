"""Shim for rule fig4_gap_tp_fp."""
from pipeline_lib.studies.eos import figures
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
p = snakemake.params
by_dataset = {}
for run in namedfiles.runs(snakemake.input, p.runs):
    by_dataset.setdefault(p.titles[run["dataset"]], []).append(run)
figures.gap_tp_fp(by_dataset, snakemake.output.png, snakemake.output.csv)
