"""Shim for rule da_fig9_nn_minority_norms: Fig. 9, NN minority-class weight norms."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.nn_norm_figure(tr.read_csvs(i.files), "minority", o.png, o.csv)
