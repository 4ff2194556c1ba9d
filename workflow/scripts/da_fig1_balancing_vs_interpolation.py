"""Shim for rule da_fig1_balancing_vs_interpolation: Fig. 1, class balancing vs interpolation."""
from pipeline_lib import runlog, tabular_reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.fig1_balancing_vs_interpolation(tr.read_csvs(i.files), o.png, o.csv)
