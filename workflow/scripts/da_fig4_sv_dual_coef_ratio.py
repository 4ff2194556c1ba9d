"""Shim for rule da_fig4_sv_dual_coef_ratio: Fig. 4, dual-coefficient ratio of the support vectors."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.sv_figure(tr.read_csvs(i.files), "fig4", o.png, o.csv)
