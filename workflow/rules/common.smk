# Helpers shared by all rules: config validation, wildcard constraints, per-rule params.
import os
import re
import sys

from snakemake.exceptions import WorkflowError

from pipeline_lib.codehash import code_hash
from pipeline_lib.config import ConfigError, check_analysis, load_schema, training_settings, validate

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


def fetch_params(wildcards):
    ds = config["datasets"][wildcards.dataset]
    keys = ("source", "root", "download", "path", "image_size", "test_per_class", "split_seed")
    return {k: ds[k] for k in keys if k in ds}


def loss_options_of(loss):
    """The loss_options block of a loss name (options of 'ldam' for 'ldam-drw'), as a plain dict."""
    return dict(config["loss_options"].get(loss.split("-")[0], {}))


def _backbone_hp(dataset, loss):
    ds = config["datasets"][dataset]
    return {
        "arch": ds["backbone"],
        "normalize": ds.get("normalize"),
        "training": training_settings(config, dataset),
        "loss_options": loss_options_of(loss),
        "seed": config["seed"],
    }


def backbone_params(wildcards):
    return _backbone_hp(wildcards.dataset, wildcards.loss)


def head_params(wildcards):
    return {
        "loss": wildcards.loss,
        "training": dict(config["head_training"]),
        "loss_options": loss_options_of(wildcards.loss),
        "seed": config["seed"],
    }


def sampler_params(wildcards):
    return {"name": wildcards.sampler, "options": dict(config["oversampling"].get(wildcards.sampler, {})),
            "seed": config["seed"]}


def all_metrics():
    return expand("data/metrics/{dataset}/cut{cut}/{loss}/metrics.csv", dataset=DATASETS, cut=CUTS, loss=LOSSES)


PIXEL_METHODS = list(config["pixel_oversampling"]["methods"])
PIXEL_SAMPLERS = [m for m in PIXEL_METHODS if m != "remix"]


def pixel_train_params(wildcards):
    """Phase-1 settings of a cross-entropy backbone trained on pixel-space balanced data (Table I)."""
    hp = _backbone_hp(wildcards.dataset, "ce")
    if wildcards.pixel_method == "remix":
        hp["training"] = dict(hp["training"], remix_alpha=config["pixel_oversampling"]["remix_alpha"])
    return hp


def run_paths(dataset, cut, loss):
    """Every file of one run (dataset x cut x loss) that the figures read."""
    base = f"{dataset}/cut{cut}/{loss}"
    return {
        "cut": int(cut),
        "loss": loss,
        "train": f"data/embeddings/{base}/train.parquet",
        "test": f"data/embeddings/{base}/test.parquet",
        "backbone": f"data/backbones/{base}/backbone.pt",
        "oversampled": {s: f"data/oversampled/{base}/{s}.parquet" for s in SAMPLERS},
        "heads": {s: f"data/heads/{base}/{s}/head.pt" for s in SAMPLERS},
    }


def run_inputs(runs, keys):
    """Flat list of the files under ``keys`` of run_paths dicts (for input:)."""
    files = []
    for run in runs:
        for key in keys:
            value = run[key]
            files += list(value.values()) if isinstance(value, dict) else [value]
    return files


def dataset_runs(dataset):
    return [run_paths(dataset, c, l) for l in LOSSES for c in CUTS]


def tsne_choice():
    """(dataset, loss, cut) of Fig. 6 (its classes are resolved at run time from the class names)."""
    t = config["analysis"]["tsne"]
    return t.get("dataset", DATASETS[0]), t["loss"], CUTS[0]


def need_analysis(target):
    try:
        check_analysis(config)
    except ConfigError as err:
        raise WorkflowError(f"{target}: {err}")


def need_loss(loss, target):
    if loss not in LOSSES:
        raise WorkflowError(f"{target} needs the loss '{loss}' in config 'losses' (configured: {', '.join(LOSSES)})")


# --- tabular study (workflow/rules/tabular.smk, tabular_reports.smk) ---------------------------------

from pipeline_lib.config import check_tabular_files
from pipeline_lib.tabular import AUGMENTED, LATENT, LATENT_SAMPLER
from pipeline_lib.tabular import METHODS as TAB_METHODS

TAB = config["tabular"]
TAB_DATASETS = list(TAB["datasets"])
TAB_RUNS = [int(r) for r in TAB["runs"]]


wildcard_constraints:
    tabular=_alternatives(TAB_DATASETS),
    run=r"\d+",
    model="svm|lg",
    method=_alternatives(TAB_METHODS),
    latent=_alternatives(LATENT),


def tabular_source(wildcards):
    """fetch_tabular's params; with downloading off, a missing file stops the plan with one line."""
    try:
        check_tabular_files(TAB)
    except ConfigError as err:
        raise WorkflowError(f"config error: {err}")
    return {"data_home": TAB["data_home"], "download": TAB["download"]}


def tab_seed(wildcards):
    """Seed of the samplers and models of one run: config seed + run (the split's own seed is the run)."""
    return config["seed"] + int(wildcards.run)


def tab_dir(kind, dataset, run):
    return f"data/tabular/{kind}/{dataset}/run{run}"


def tab_training_set(wildcards):
    """Base, CS and (for the NN, which mixes per batch) REMIX train on the split; the others on their
    augmented set."""
    nn_remix = wildcards.get("model", "nn") == "nn" and wildcards.method == "remix"
    if wildcards.method in ("base", "cs") or nn_remix:
        return f"{tab_dir('splits', wildcards.tabular, wildcards.run)}/train.parquet"
    return f"{tab_dir('augmented', wildcards.tabular, wildcards.run)}/{wildcards.method}.parquet"


def tab_run(dataset, run):
    """Every model file of one tabular run (dataset x split seed) that the analyses read."""
    models = tab_dir("models", dataset, run)
    files = {
        "svm": {m: f"{models}/svm/{m}/model.npz" for m in TAB_METHODS},
        "lg": {m: f"{models}/lg/{m}/model.npz" for m in TAB_METHODS},
        "nn": {**{m: f"{models}/nn/{m}/model.pt" for m in TAB_METHODS},
               **{m: f"{models}/nn/{m}/head.pt" for m in LATENT}},
    }
    predictions = {f"{model}/{m}": f"{models}/{model}/{m}/test_predictions.parquet"
                   for model in files for m in files[model]}
    return {"dataset": dataset, "run": int(run), "train": f"{tab_dir('splits', dataset, run)}/train.parquet",
            "test": f"{tab_dir('splits', dataset, run)}/test.parquet", "models": files, "predictions": predictions}


def tab_runs():
    return [tab_run(d, r) for d in TAB_DATASETS for r in TAB_RUNS]


def tab_files(keys, models=("svm", "lg", "nn")):
    """Flat list of the files under ``keys`` ('test', 'models', 'predictions') of every run, for ``models``."""
    files = []
    for run in tab_runs():
        for key in keys:
            value = run[key]
            if key == "models":
                files += [f for m in models for f in value[m].values()]
            elif key == "predictions":
                files += [f for k, f in value.items() if k.split("/")[0] in models]
            else:
                files.append(value)
    return files


def tab_figure_dataset():
    fig = TAB["analysis"]["figure_dataset"]
    return fig if fig else ("ozone_level" if "ozone_level" in TAB_DATASETS else TAB_DATASETS[0])
