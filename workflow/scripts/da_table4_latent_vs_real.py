"""Shim for rule da_table4_latent_vs_real: Table IV, the NN in real space vs EOS / DSM in its latent space."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import reports as tr

runlog.start(snakemake)
i, o, p = snakemake.input, snakemake.output, snakemake.params
tr.table4(tr.read_csvs(i.files), p.datasets, o.csv, o.md, custom=p.get("custom"))
