"""Shim for rule fig6_tsne."""
from pipeline_lib import figures, runlog

runlog.setup(snakemake.log[0], snakemake.threads)
p = snakemake.params
figures.tsne_figure(p.run, p.methods, p.tsne, snakemake.output.png, snakemake.output.csv, seed=p.seed, title=p.title)
