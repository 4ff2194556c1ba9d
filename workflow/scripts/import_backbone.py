"""Shim for rule import_backbone: a Base / LDAM network from a checkpoint instead of train_backbone."""
from pipeline_lib.core import checkpoints
from pipeline_lib.infra import runlog

log = runlog.start(snakemake)
i, o, r = snakemake.input, snakemake.output, snakemake.params.run
checkpoints.import_network_stage(i.checkpoint, i.images, i.test_indices, o.model, o.history, arch=r["arch"],
                                 loss=r["loss"], normalize=r["normalize"], log=log.info)
