"""Shim for rule export_embeddings: train/test features of a trained backbone -> Parquet."""
from pipeline_lib.core import embeddings
from pipeline_lib.infra import runlog

runlog.start(snakemake)
wc = snakemake.wildcards
embeddings.export_stage(snakemake.input.images, snakemake.input.indices, snakemake.input.backbone,
                        snakemake.output.train, snakemake.output.test, dataset=wc.dataset, cut=int(wc.cut),
                        loss=wc.loss, device=snakemake.params.device,
                        test_indices_csv=snakemake.input.test_indices)
