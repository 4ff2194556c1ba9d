"""Shim for rule da_fig3_sv_class_ratio: Fig. 3, majority / minority support vectors."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.sv_figure(tr.read_csvs(i.files), "fig3", o.png, o.csv)
