"""Shim for rule evaluate_pixel_run: test metrics of the pixel-space (pre-processing) backbones of one cut."""
from pipeline_lib.core import metrics
from pipeline_lib.infra import runlog

runlog.start(snakemake)
wc = snakemake.wildcards
metrics.evaluate_run(list(snakemake.input), snakemake.params.methods, snakemake.output[0], dataset=wc.dataset,
                     cut=int(wc.cut), loss="ce")
