"""Shim for rule import_balanced_backbone: a Balanced network from a checkpoint instead of train_balanced_backbone."""
from pipeline_lib.core import checkpoints
from pipeline_lib.infra import runlog

log = runlog.start(snakemake)
i, o, r = snakemake.input, snakemake.output, snakemake.params.run
checkpoints.import_network_stage(i.checkpoint, i.images, i.test_indices, o.model, o.history, arch=r["arch"],
                                 loss=r["loss"], normalize=r["normalize"], out_predictions=o.predictions, log=log.info)
