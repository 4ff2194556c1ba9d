# Helpers shared by all rules: config validation, wildcard constraints, per-rule params.
import os
import re
import sys

from pipeline_lib.codehash import code_hash
from pipeline_lib.config import ConfigError, load_schema, training_settings, validate

try:
    validate(config, load_schema(os.path.join(workflow.basedir, "workflow/schemas/config.schema.yaml")))
except ConfigError as err:
    sys.exit(f"config error: {err}")

DATASETS = list(config["datasets"])
CUTS = [str(c) for c in config["cuts"]]
LOSSES = list(config["losses"])
SAMPLERS = list(config["samplers"])
METHODS = ["baseline"] + SAMPLERS


def _alternatives(values):
    return "|".join(re.escape(v) for v in values)


wildcard_constraints:
    dataset=_alternatives(DATASETS),
    cut=r"\d+",
    loss=_alternatives(LOSSES),
    sampler=_alternatives(SAMPLERS),


def dataset_cfg(wildcards):
    """The config block of one dataset (plain dict, for params)."""
    return dict(config["datasets"][wildcards.dataset])


def fetch_params(wildcards):
    ds = config["datasets"][wildcards.dataset]
    keys = ("source", "root", "download", "path", "image_size", "test_per_class", "split_seed")
    return {k: ds[k] for k in keys if k in ds}


def backbone_params(wildcards):
    ds = config["datasets"][wildcards.dataset]
    base = wildcards.loss.split("-")[0]
    return {
        "arch": ds["backbone"],
        "normalize": ds.get("normalize"),
        "training": training_settings(config, wildcards.dataset),
        "loss_options": dict(config["loss_options"].get(base, {})),
        "seed": config["seed"],
    }


def head_params(wildcards):
    base = wildcards.loss.split("-")[0]
    return {
        "training": dict(config["head_training"]),
        "loss_options": dict(config["loss_options"].get(base, {})),
        "seed": config["seed"],
    }


def sampler_params(wildcards):
    return {"options": dict(config["oversampling"].get(wildcards.sampler, {})), "seed": config["seed"]}


def run_dir(prefix):
    return prefix + "/{dataset}/cut{cut}/{loss}"


def all_metrics():
    return expand("data/metrics/{dataset}/cut{cut}/{loss}/metrics.csv", dataset=DATASETS, cut=CUTS, loss=LOSSES)
