# EOS / latent-oversampling pipeline (Dablain & Chawla).  Every paper artifact is a target:
#   snakemake --cores 8 reports/table2.csv
# Stages: fetch_dataset -> imbalance_dataset -> train_backbone -> export_embeddings
#         -> oversample_embeddings -> retrain_head -> evaluate_run -> table2
# Table I adds oversample_pixels -> train_pixel_backbone -> evaluate_pixel_run -> table1; the figures
# read the embeddings and heads.  `snakemake eos_paper` builds every artifact of the EOS paper, and
# `snakemake --report reports/eos_report.html eos_paper` the self-contained HTML report.  The image study of
# "How Data Augmentation Works" (reports/da/table2, 5, 8, 11, fig10) is `snakemake da_images`.
import sys

from snakemake.utils import min_version

min_version("9.20")


# config.yaml is the default; a --configfile given on the command line replaces it (instead of
# being merged into it), so `--configfile configs/paper.yaml` does not also run the digits demo.
if not workflow.overwrite_configfiles:
    from pipeline_lib.infra.config import ConfigError, check_duplicate_keys

    try:  # a YAML syntax error with its file and line (Snakemake's own message names neither)
        check_duplicate_keys("config.yaml")
    except ConfigError as err:
        sys.exit(f"config error: {err}")

    configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/backbone.smk"
include: "workflow/rules/embeddings.smk"
include: "workflow/rules/latents.smk"
include: "workflow/rules/oversampling.smk"
include: "workflow/rules/head.smk"
include: "workflow/rules/metrics.smk"
include: "workflow/rules/reports.smk"
include: "workflow/rules/pixel.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/eos_studies.smk"
include: "workflow/rules/gans.smk"
include: "workflow/rules/tabular.smk"
include: "workflow/rules/tabular_reports.smk"
include: "workflow/rules/da_images.smk"
include: "workflow/rules/cnn_analyses.smk"


rule all:
    default_target: True
    input:
        "reports/table2.csv",
        "reports/table2.md",
        "reports/table2_class_counts.csv",
        "reports/table2_shots.csv",
