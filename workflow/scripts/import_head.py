"""Shim for rule import_head: the head of a whole DSM / EOS network (Base extractor + head) from a checkpoint."""
from pipeline_lib.core import checkpoints
from pipeline_lib.infra import runlog

log = runlog.start(snakemake)
i, o, r = snakemake.input, snakemake.output, snakemake.params.run
checkpoints.import_head_stage(i.checkpoint, i.backbone, i.test, o.head, o.predictions, o.history,
                              sampler=r["sampler"], log=log.info)
