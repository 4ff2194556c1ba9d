"""Shim for rule table2_shots: many / medium / few-shot accuracy beside Table II."""
from pipeline_lib.studies.eos import shots
from pipeline_lib.infra import runlog

runlog.start(snakemake)
p = snakemake.params
shots.shots_stage(list(snakemake.input.metrics), list(snakemake.input.train), p.runs, snakemake.output.csv,
                 snakemake.output.per_class, snakemake.output.md, datasets=p.datasets, losses=p.losses,
                 methods=p.methods, titles=p.titles, many_above=p.long_tail["many_above"],
                 few_below=p.long_tail["few_below"])
