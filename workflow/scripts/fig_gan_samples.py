"""Shim for rule fig_gan_samples: generated images of every GAN next to real ones, per class."""
from pipeline_lib.studies.eos import figures
from pipeline_lib.infra import runlog

runlog.start(snakemake)
p = snakemake.params
figures.gan_samples(snakemake.input.images, snakemake.input.indices, dict(zip(p.gans, snakemake.input.generators)),
                    snakemake.output.png, snakemake.output.csv, per_class=p.per_class, seed=p.seed, title=p.title)
