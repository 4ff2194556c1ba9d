"""Shim for rule fetch_dataset: source dataset -> data/raw/<dataset>/images.npz."""
import sys

from pipeline_lib.core import datasets
from pipeline_lib.infra import runlog

log = runlog.start(snakemake)
try:
    arrays = datasets.fetch(**snakemake.params.source)
except (datasets.DatasetUnavailable, datasets.SourceError) as err:  # one line, in the log and on the console
    log.error("%s", err)
    print(f"fetch_dataset {snakemake.wildcards.dataset}: {err}", file=sys.__stderr__)
    sys.exit(1)
log.info("train %s test %s classes %s%s", arrays.train_x.shape, arrays.test_x.shape, arrays.class_names,
         " (test pool = train pool)" if arrays.holdout else "")
arrays.save(snakemake.output[0])
