"""Shim for rule da_fig1_balancing_vs_interpolation: Fig. 1, class balancing vs interpolation."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.fig1_balancing_vs_interpolation(tr.read_csvs(i.files), o.png, o.csv)
