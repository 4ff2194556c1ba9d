"""Shim for rule magnitude_fig2_lg_ce_needed: Magnitude paper Fig. 2, CE needed per instance (LG)."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.ce_figure(tr.read_csvs(i.files), "lg", o.png, o.csv)
