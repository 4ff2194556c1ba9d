"""Shim for rule fetch_tabular: one imbalanced-learn data set as Parquet."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import runs as tabular

runlog.start(snakemake)
tabular.fetch_stage(snakemake.output[0], name=snakemake.wildcards.tabular, **snakemake.params.source)
