"""Shim for rule magnitude_fig4_instance_vs_class: Magnitude paper Fig. 4, CE needed per instance vs per class."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.ce_instance_vs_class_figure(tr.read_csvs(i.files), o.png, o.csv)
