"""Shim for rule da_fig7_lg_weight_norms: Fig. 7, LG weight norms."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.lg_norm_figure(tr.read_csvs(i.files), o.png, o.csv)
