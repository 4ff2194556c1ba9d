"""Shim for rule paper_check: the scorecard of the reproduced numbers against the papers' tables."""
import os

from pipeline_lib.infra import namedfiles, runlog
from pipeline_lib.scorecard import paper_check

runlog.start(snakemake)
p = snakemake.params
cut_records = namedfiles.runs(snakemake.input, p.cut_records) if p.cut_records else []
paper_check.scorecard_stage({key: snakemake.input[key] for key in p.tables},
                            os.path.dirname(snakemake.input.published[0]), p.settings, snakemake.output.csv,
                            snakemake.output.md, titles=p.titles, cut_metrics=list(snakemake.input.cut_metrics),
                            cut_records=cut_records, eos_k=p.eos_k, **p.check)
