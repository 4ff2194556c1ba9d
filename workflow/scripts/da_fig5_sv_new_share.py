"""Shim for rule da_fig5_sv_new_share: Fig. 5, share of support vectors not in Base."""
from pipeline_lib import runlog, tabular_reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.sv_figure(tr.read_csvs(i.files), "fig5", o.png, o.csv)
