"""Shim for rule da_fig6_sv_synthetic_share: Fig. 6, share of synthetic support vectors."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.sv_figure(tr.read_csvs(i.files), "fig6", o.png, o.csv)
