"""Shim for the tabular study's analyse_* and report rules (pipeline_lib.tabular_reports)."""
from pipeline_lib import runlog, tabular_reports

runlog.setup(snakemake.log[0], snakemake.threads)
p = snakemake.params
if "analysis" in p.keys():
    collect = getattr(tabular_reports, f"collect_{p.analysis}")
    collect(p.runs, snakemake.output[0], **p.options)
else:
    tabular_reports.build(p.artifact, list(snakemake.input), dict(snakemake.output.items()), **p.extra)
