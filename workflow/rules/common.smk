# Helpers shared by all rules: config validation, wildcard constraints, per-rule params.
import os
import re
import sys

from snakemake.exceptions import WorkflowError

from pipeline_lib.codehash import script_code_hash
from pipeline_lib.namedfiles import flatten
from pipeline_lib.config import ConfigError, check_analysis, load_schema, training_settings, validate

try:
    from pipeline_lib.config import check_plan, gpus_requested_per_rule

    validate(config, load_schema(os.path.join(workflow.basedir, "workflow/schemas/config.schema.yaml")))
    # plan checks in the planning process only (not again in each cluster / subprocess job); no GPU
    # check where resources set per job ask a scheduler for GPUs (profiles/slurm), since the backbone
    # jobs then run on GPU nodes, not on this (login) host
    if not (workflow.remote_exec or workflow.subprocess_exec):
        check_plan(config, workflow.configfiles,
                   gpu_check=not gpus_requested_per_rule(workflow.resource_settings.overwrite_resources))
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


def code(script):
    """Code hash of the library behind a workflow script: the modules it imports and all they import
    (pipeline_lib.codehash), so editing any of them reruns exactly the rules whose script reaches it."""
    return script_code_hash(os.path.join(workflow.basedir, "workflow", "scripts", script))


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


def run_files(dataset, cut, loss, keys):
    """The files of one run (dataset x cut x loss) under ``keys`` (train, test, backbone, oversampled, heads)."""
    base = f"{dataset}/cut{cut}/{loss}"
    files = {
        "train": f"data/embeddings/{base}/train.parquet",
        "test": f"data/embeddings/{base}/test.parquet",
        "backbone": f"data/backbones/{base}/backbone.pt",
        "oversampled": {s: f"data/oversampled/{base}/{s}.parquet" for s in SAMPLERS},
        "heads": {s: f"data/heads/{base}/{s}/head.pt" for s in SAMPLERS},
    }
    return {k: files[k] for k in keys}


def dataset_runs(dataset):
    """(dataset, cut, loss) of every run of one dataset, in figure order."""
    return [(dataset, c, l) for l in LOSSES for c in CUTS]


def runs_input(runs, keys):
    """Named inputs ``runs/<i>/<key>[/<sampler>]`` of runs [(dataset, cut, loss)], for ``unpack``; the
    script rebuilds the runs with pipeline_lib.namedfiles.runs(snakemake.input, snakemake.params.runs)."""
    return flatten({"runs": [run_files(d, c, l, keys) for d, c, l in runs]})


def runs_meta(runs):
    """The non-file values of runs [(dataset, cut, loss)] (params of a rule that reads runs_input)."""
    return [{"dataset": d, "cut": int(c), "loss": l} for d, c, l in runs]


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
from pipeline_lib.tabular import AUGMENTED, LATENT, LATENT_SAMPLER, NN_AUGMENTED, SKLEARN_MODELS
from pipeline_lib.tabular import METHODS as TAB_METHODS

TAB = config["tabular"]
TAB_DATASETS = list(TAB["datasets"])
TAB_RUNS = [int(r) for r in TAB["runs"]]


wildcard_constraints:
    tabular=_alternatives(TAB_DATASETS),
    run=r"\d+",
    model=_alternatives(SKLEARN_MODELS),
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
    """SVM / LG: Base and CS train on the split, the others on their augmented set.  The NN always reads
    the split: it holds out its validation rows before augmenting (pipeline_lib.tabular.nn_training_set)."""
    if wildcards.get("model", "nn") == "nn" or wildcards.method in ("base", "cs"):
        return f"{tab_dir('splits', wildcards.tabular, wildcards.run)}/train.parquet"
    return f"{tab_dir('augmented', wildcards.tabular, wildcards.run)}/{wildcards.method}.parquet"


def tab_nn_options(wildcards):
    """The augmentation options of the NN's method (the ones augment_tabular uses), None for the others."""
    return dict(TAB["oversampling"][wildcards.method]) if wildcards.method in NN_AUGMENTED else None


def tab_run(dataset, run):
    """Every model file of one tabular run (dataset x split seed) that the analyses read; ``svm`` is the
    SVM of Table III and the support-vector analyses (tabular.svm, default RBF), ``svm_linear`` the linear
    one of the CE analysis (built only when that analysis is requested)."""
    models = tab_dir("models", dataset, run)
    files = {
        "svm": {m: f"{models}/svm/{m}/model.npz" for m in TAB_METHODS},
        "svm_linear": {m: f"{models}/svm_linear/{m}/model.npz" for m in TAB_METHODS},
        "lg": {m: f"{models}/lg/{m}/model.npz" for m in TAB_METHODS},
        "nn": {**{m: f"{models}/nn/{m}/model.pt" for m in TAB_METHODS},
               **{m: f"{models}/nn/{m}/head.pt" for m in LATENT}},
    }
    predictions = {model: {m: f"{models}/{model}/{m}/test_predictions.parquet" for m in files[model]}
                   for model in files}
    return {"train": f"{tab_dir('splits', dataset, run)}/train.parquet",
            "test": f"{tab_dir('splits', dataset, run)}/test.parquet", "models": files, "predictions": predictions}


def tab_runs():
    """(dataset, run) of every tabular run."""
    return [(d, r) for d in TAB_DATASETS for r in TAB_RUNS]


def tab_runs_input(keys, models=("svm", "lg", "nn")):
    """Named inputs ``runs/<i>/<key>/...`` of every tabular run: the files under ``keys`` ('test', 'models',
    'predictions'), for ``models`` only; the script rebuilds the runs with pipeline_lib.namedfiles.runs."""
    runs = []
    for d, r in tab_runs():
        files = tab_run(d, r)
        runs.append({k: ({m: files[k][m] for m in models} if isinstance(files[k], dict) else files[k]) for k in keys})
    return flatten({"runs": runs})


def tab_runs_meta():
    return [{"dataset": d, "run": int(r)} for d, r in tab_runs()]


def tab_figure_dataset():
    fig = TAB["analysis"]["figure_dataset"]
    return fig if fig else ("ozone_level" if "ozone_level" in TAB_DATASETS else TAB_DATASETS[0])


# --- EOS paper figures, Table I, run time (workflow/rules/figures.smk, pixel.smk) -------------------------


def pixel_training_set(wildcards):
    if wildcards.pixel_method == "remix":
        return []
    return f"data/pixel_oversampled/{wildcards.dataset}/cut{wildcards.cut}/{wildcards.pixel_method}.npz"


def _tsne_run():
    need_analysis("reports/fig6.png")
    dataset, loss, cut = tsne_choice()
    return [(dataset, cut, loss)]


def _curve_runs():
    need_analysis("reports/fig7.png")
    loss = config["analysis"]["head_curve"]["loss"]
    return [(d, CUTS[0], loss) for d in DATASETS]


def table1_inputs(wildcards):
    need_loss("ce", "reports/table1.csv")
    return expand("data/pixel_metrics/{dataset}/cut{cut}/metrics.csv", dataset=DATASETS, cut=CUTS) + expand(
        "data/metrics/{dataset}/cut{cut}/ce/metrics.csv", dataset=DATASETS, cut=CUTS)


def runtime_benchmarks():
    """{dataset: {pipeline: [benchmark tsv, ...]}}: the stages of each pipeline, all cuts."""
    need_loss("ce", "reports/runtime.csv")
    out = {}
    for d in DATASETS:
        pipes = {}
        for m in PIXEL_METHODS:
            files = [f"benchmarks/train_pixel_backbone/{d}_cut{c}_{m}.tsv" for c in CUTS]
            if m != "remix":
                files += [f"benchmarks/oversample_pixels/{d}_cut{c}_{m}.tsv" for c in CUTS]
            pipes[f"pixel_{m}" if m != "remix" else "remix"] = files
        if "eos" in SAMPLERS:
            pipes["three_phase_eos"] = [f for c in CUTS for f in (
                f"benchmarks/train_backbone/{d}_cut{c}_ce.tsv", f"benchmarks/export_embeddings/{d}_cut{c}_ce.tsv",
                f"benchmarks/oversample_embeddings/{d}_cut{c}_ce_eos.tsv",
                f"benchmarks/retrain_head/{d}_cut{c}_ce_eos.tsv")]
        out[d] = pipes
    return out


# --- tabular reports (workflow/rules/tabular_reports.smk) ------------------------------------------------

TAB_AN = TAB["analysis"]
TAB_METRICS = expand("data/tabular/metrics/{tabular}/run{run}.csv", tabular=TAB_DATASETS, run=TAB_RUNS)
TAB_REPORT_DA = "How Data Augmentation Works (tabular)"
TAB_REPORT_MAGNITUDE = "Latent Feature Magnitude (tabular)"


TAB_EVALUATED = ("svm", "lg", "nn")  # the models of the per-run metrics (Table III, IV, Fig. 1)


def tab_evaluate_inputs(wildcards):
    """Named inputs ``<model>/<method>`` of evaluate_tabular_run: the test predictions of SVM (tabular.svm,
    default RBF), LG and NN; the CE analysis's linear SVM is not evaluated."""
    predictions = tab_run(wildcards.tabular, wildcards.run)["predictions"]
    return flatten({m: predictions[m] for m in TAB_EVALUATED})
