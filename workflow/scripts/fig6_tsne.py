"""Shim for rule fig6_tsne."""
from pipeline_lib.studies.eos import figures
from pipeline_lib.infra import namedfiles, runlog

runlog.start(snakemake)
p = snakemake.params
(run,) = namedfiles.runs(snakemake.input, p.runs)
figures.tsne_figure(run, p.methods, p.tsne, snakemake.output.png, snakemake.output.csv, seed=p.seed, title=p.title)
