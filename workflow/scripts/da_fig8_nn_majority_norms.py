"""Shim for rule da_fig8_nn_majority_norms: Fig. 8, NN majority-class weight norms."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.nn_norm_figure(tr.read_csvs(i.files), "majority", o.png, o.csv)
