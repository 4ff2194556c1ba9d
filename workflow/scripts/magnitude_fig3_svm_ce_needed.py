"""Shim for rule magnitude_fig3_svm_ce_needed: Magnitude paper Fig. 3, CE needed per instance (linear SVM)."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.ce_figure(tr.read_csvs(i.files), "svm", o.png, o.csv)
