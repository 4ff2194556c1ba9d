"""Shim for rule da_fig2_sv_multiple: Fig. 2, support vectors as a multiple of Base."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.sv_figure(tr.read_csvs(i.files), "fig2", o.png, o.csv)
