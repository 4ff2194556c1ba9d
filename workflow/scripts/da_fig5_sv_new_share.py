"""Shim for rule da_fig5_sv_new_share: Fig. 5, share of support vectors not in Base."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.sv_figure(tr.read_csvs(i.files), "fig5", o.png, o.csv)
