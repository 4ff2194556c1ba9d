"""Shim for rule export_tabular_embeddings: the Base MLP's penultimate layer in the embedding format."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import runs as tabular

runlog.start(snakemake)
i, o = snakemake.input, snakemake.output
tabular.export_stage(i.model, i.train, i.test, o.train, o.test)
