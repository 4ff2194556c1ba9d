"""Shim for rule split_tabular: stratified train/test split of one run, scaled on train."""
from pipeline_lib.infra import runlog
from pipeline_lib.studies.tabular import runs as tabular

runlog.start(snakemake)
wc = snakemake.wildcards
tabular.split_stage(snakemake.input[0], snakemake.output.train, snakemake.output.test, dataset=wc.tabular,
                    run=int(wc.run), test_size=snakemake.params.test_size)
