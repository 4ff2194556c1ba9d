# Helpers shared by all rules: config validation, wildcard constraints, per-rule params.
import glob
import os
import re
import sys

from snakemake.exceptions import WorkflowError

from pipeline_lib.codehash import script_code_hash
from pipeline_lib.namedfiles import flatten
from pipeline_lib.reports import DECOUPLING as DECOUPLING_METHODS
from pipeline_lib.sampler_runs import eos_study_runs, parse_run, run_name
from pipeline_lib.custom_samplers import describe as describe_sampler, entry_name, is_custom
from pipeline_lib.config import ConfigError, check_analysis, load_schema, training_settings, validate
from pipeline_lib.config import check_table4_k
from pipeline_lib.integrity import set_rebuild_call

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
# the call that the rebuild command of a damaged file repeats (pipeline_lib.integrity; jobs inherit it)
set_rebuild_call(workflow.main_snakefile, workflow.overwrite_configfiles)

ALL_DATASETS = list(config["datasets"])
DATASETS = list(config["eos_paper"].get("datasets") or ALL_DATASETS)  # the EOS paper's tables and figures
CUTS = [str(c) for c in config["cuts"]]
LOSSES = list(config["losses"])
SAMPLERS = [entry_name(e) for e in config["samplers"]]
# your own samplers (pipeline_lib.custom_samplers): run name -> config entry, in embedding and in pixel space
CUSTOM = {e["name"]: e for e in config["samplers"] if is_custom(e)}
PIXEL_CUSTOM = {e["name"]: e for e in config["pixel_oversampling"]["methods"] if is_custom(e)}
METHODS = ["baseline"] + SAMPLERS  # the phase-1 network and the samplers' retrained heads (Table II, figures)
# Kang et al.'s decoupling baselines (config `baselines`), Table II columns after EOS: cRT is the head retrained
# on the ros sampler's (class-balanced) embeddings, tau_norm the phase-1 head tau-normalised (rule tau_normalise)
BASELINES = config["baselines"]
DECOUPLING = [m for m in DECOUPLING_METHODS if BASELINES[m]]
CRT_SAMPLER = "ros"
TABLE2_METHODS = METHODS + DECOUPLING  # what evaluate_run writes, in Table II's order

# the image study of "How Data Augmentation Works" (workflow/rules/da_images.smk) reuses the runs of the
# EOS pipeline: its models need the ce (and ldam) backbones and the smote / eos heads even where the
# config's losses and samplers leave them out of Table II
DA = config["da_images"]
DA_DATASETS = list(DA.get("datasets") or ALL_DATASETS)
DA_MODELS = list(DA["models"])
DA_LATENT = {"dsm": "smote", "eos": "eos"}  # model -> embedding-space sampler of its head
DA_PIXEL = [m for m in ("ros", "remix") if m in DA_MODELS]
RUN_LOSSES = LOSSES + [l for l, need in (("ce", {"base", "dsm", "eos"} & set(DA_MODELS)), ("ldam", "ldam" in DA_MODELS))
                       if need and l not in LOSSES]
RUN_SAMPLERS = SAMPLERS + [DA_LATENT[m] for m in DA_LATENT if m in DA_MODELS and DA_LATENT[m] not in SAMPLERS]
RUN_SAMPLERS += [CRT_SAMPLER] if "crt" in DECOUPLING and CRT_SAMPLER not in RUN_SAMPLERS else []

# the folder / file name of a sampler's run under data/oversampled/<run>/ and data/heads/<run>/: the sampler's
# name, EOS's with its options (pipeline_lib.sampler_runs: eos-k10 = K 10 as the paper's text reads it)
EOS_OPTIONS = dict(config["oversampling"]["eos"])
SAMPLER_RUN = {s: run_name(s, config["oversampling"].get(s, {})) for s in RUN_SAMPLERS}
# Table IV (K sweep, ce) and the EOS variant study: more EOS runs; K = the configured K is the Table II run
TABLE4_RUNS = {k: run_name("eos", {**EOS_OPTIONS, "k_neighbors": k}) for k in config["eos_paper"]["table4"]["k_values"]}
# the variant study's methods -> runs (your own embedding-space samplers beside SMOTE and the EOS readings)
VARIANT_RUNS = {"smote": "smote", **eos_study_runs(EOS_OPTIONS), **{c: c for c in CUSTOM}}
SAMPLER_RUNS = list(dict.fromkeys(list(SAMPLER_RUN.values()) + list(TABLE4_RUNS.values())
                                  + list(VARIANT_RUNS.values())))


def method_folder(method):
    """The run name (folder under data/heads/<run>/, file under data/oversampled/<run>/) of a Table II
    method's head: the sampler's run (SAMPLER_RUN: EOS's carries K), cRT the ros sampler's."""
    sampler = {"crt": CRT_SAMPLER}.get(method, method)
    return SAMPLER_RUN.get(sampler, sampler)


# Table V: other backbones on a data set are runs of a derived data set "<dataset>@<arch>" (its settings a copy
# with that backbone and epochs; its images and cuts the data set's own, see cut_files), so that every stage
# after the data (train_backbone .. retrain_head) is the EOS pipeline's, unchanged; an architecture that is
# the data set's own backbone at its own epochs is the Table II run itself
T5 = config["eos_paper"]["table5"]
T5_DATASETS = list(T5.get("datasets") or DATASETS[:1])


def derived_arch_datasets(config, datasets):
    """Table V's runs of ``datasets``: ({(dataset, arch): the data set the run is of}, {derived data set: its
    settings}).  Reads the config only: the derived data sets are not added to config["datasets"]."""
    runs, derived = {}, {}
    for d in datasets:
        ds = config["datasets"][d]
        epochs = training_settings(config, d)["epochs"]
        for a in config["eos_paper"]["table5"]["architectures"]:
            arch, scale = a["arch"], float(a["epochs_scale"])
            if arch == ds["backbone"] and scale == 1:
                runs[(d, arch)] = d
                continue
            name = f"{d}@{arch}" + (f"x{scale:g}" if scale != 1 else "")
            derived[name] = {**{k: v for k, v in ds.items() if k != "checkpoints"}, "backbone": arch,
                             "title": f"{ds.get('title', d)} {arch}",
                             "training": {**ds.get("training", {}), "epochs": max(1, round(epochs * scale))}}
            runs[(d, arch)] = name
    return runs, derived


T5_RUNS, ARCH_DATASETS = derived_arch_datasets(config, T5_DATASETS)
# derived data set -> the configured one (a configured name has no "@": config.schema.yaml)
SOURCE_OF = {name: name.split("@")[0] for name in ARCH_DATASETS}


def dataset_config(name):
    """The settings of a data set: a configured one's (config datasets), else a derived Table V one's."""
    return config["datasets"][name] if name in config["datasets"] else ARCH_DATASETS[name]


def run_config():
    """The config with the derived data sets after the configured ones in its datasets (a new dict; ``config``
    stays as given): for pipeline_lib.config's functions of a data set that may be a derived one."""
    return {**config, "datasets": {**config["datasets"], **ARCH_DATASETS}}


def dataset_training(name):
    """Backbone-training settings (pipeline_lib.config.training_settings) of a configured or derived data set."""
    return training_settings(run_config(), name)


TITLES = {d: ds.get("title", d) for d, ds in run_config()["datasets"].items()}  # every data set's, derived too


def cut_files(dataset, cut):
    """The images and index files of one cut (a derived data set's: its configured data set's)."""
    d = SOURCE_OF.get(dataset, dataset)
    return {"images": f"data/raw/{d}/images.npz", "indices": f"data/imbalanced/{d}/cut{cut}/train_indices.csv",
            "test_indices": f"data/imbalanced/{d}/cut{cut}/test_indices.csv"}


def cut_data(wildcards):
    return cut_files(wildcards.dataset, wildcards.cut)


def _alternatives(values):
    return "|".join(re.escape(v) for v in values) if values else "(?!x)x"  # no values: matches nothing


wildcard_constraints:
    dataset=_alternatives(ALL_DATASETS + list(SOURCE_OF)),
    cut=r"\d+",
    loss=_alternatives(RUN_LOSSES),
    sampler=_alternatives(SAMPLER_RUNS),


def code(script):
    """Code hash of the library behind a workflow script: the modules it imports and all they import
    (pipeline_lib.codehash), so editing any of them reruns exactly the rules whose script reaches it."""
    return script_code_hash(os.path.join(workflow.basedir, "workflow", "scripts", script))


def loss_options_of(loss):
    """The loss_options block of a loss name (options of 'ldam' for 'ldam-drw'), as a plain dict."""
    return dict(config["loss_options"].get(loss.split("-")[0], {}))


def _backbone_hp(dataset, loss):
    ds = dataset_config(dataset)
    return {
        "arch": ds["backbone"],
        "normalize": ds.get("normalize"),
        "training": dataset_training(dataset),
        "loss_options": loss_options_of(loss),
        "seed": config["seed"],
    }


def backbone_params(wildcards):
    return _backbone_hp(wildcards.dataset, wildcards.loss)


HEAD_TRAINING = {k: v for k, v in config["head_training"].items() if k != "loss"}


def head_loss(loss):
    """The loss of a retrained head of a run with phase-1 ``loss``: cross-entropy (head_training.loss ce,
    the paper's §V-C) or the phase-1 loss itself (phase1)."""
    return "ce" if config["head_training"]["loss"] == "ce" else loss


def head_params(wildcards):
    loss = head_loss(wildcards.loss)
    return {"loss": loss, "training": HEAD_TRAINING, "loss_options": loss_options_of(loss), "seed": config["seed"]}


def sampler_params(wildcards):
    """The sampler of a run name and its options: EOS's all from the name, the others' from the config."""
    if wildcards.sampler in CUSTOM:
        return custom_sampler_params(CUSTOM[wildcards.sampler])
    name, options = parse_run(wildcards.sampler)
    if name != "eos":
        options = dict(config["oversampling"].get(name, {}))
    return {"name": name, "options": options, "seed": config["seed"]}


def custom_sampler_params(entry):
    """A custom sampler's params: its entry, and its package's version (a new version reruns its runs)."""
    d = describe_sampler(entry)
    return {"name": d["name"], "options": d["params"], "seed": config["seed"], "spec": dict(entry),
            "class": d["class"], "package": d["package"], "version": d["version"]}


def pixel_sampler_params(wildcards):
    """oversample_pixels' params: a built-in's options from `oversampling`, or a custom sampler's entry."""
    if wildcards.pixel_sampler in PIXEL_CUSTOM:
        return custom_sampler_params(PIXEL_CUSTOM[wildcards.pixel_sampler])
    return {"options": dict(config["oversampling"].get(wildcards.pixel_sampler, {})), "seed": config["seed"]}


def custom_labels(entries):
    """{run name: one report line (class, package, version, params)} of custom sampler entries."""
    from pipeline_lib.custom_samplers import label

    return {name: label(e) for name, e in entries.items()}


def all_metrics():
    return expand("data/metrics/{dataset}/cut{cut}/{loss}/metrics.csv", dataset=DATASETS, cut=CUTS, loss=LOSSES)


PIXEL_METHODS = [entry_name(e) for e in config["pixel_oversampling"]["methods"]]
# + eos: EOS in pixel space (reports/pixel_eos, §V-E3)
RUN_PIXEL_METHODS = PIXEL_METHODS + [m for m in DA_PIXEL + ["eos"] if m not in PIXEL_METHODS]
PIXEL_SAMPLERS = [m for m in RUN_PIXEL_METHODS if m != "remix"]


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
        "oversampled": {s: f"data/oversampled/{base}/{method_folder(s)}.parquet" for s in SAMPLERS},
        "heads": {s: f"data/heads/{base}/{method_folder(s)}/head.pt" for s in SAMPLERS},
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
        check_analysis(run_config())
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


def tab_training_sets(wildcards):
    """fit_sklearn_model's training sets ``train_<method>``: Base and CS train on the split, the others on their
    augmented set.  (The NN always reads the split: it holds out its validation rows before augmenting,
    pipeline_lib.tabular.nn_training_set.)"""
    split, augmented = tab_dir("splits", wildcards.tabular, wildcards.run), tab_dir("augmented", wildcards.tabular, wildcards.run)
    return {f"train_{m}": f"{split}/train.parquet" if m in ("base", "cs") else f"{augmented}/{m}.parquet"
            for m in TAB_METHODS}


def tab_nn_options():
    """The augmentation options of each NN method (the ones augment_tabular uses), None for the others."""
    return {m: dict(TAB["oversampling"][m]) if m in NN_AUGMENTED else None for m in TAB_METHODS}


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
                f"benchmarks/oversample_embeddings/{d}_cut{c}_ce_{method_folder('eos')}.tsv",
                f"benchmarks/retrain_head/{d}_cut{c}_ce_{method_folder('eos')}.tsv")]
        for g in GAN_METHODS:  # the GAN, the balanced set, the CE backbone trained on it (Table III, RQ4)
            pipes[f"gan_{g}"] = [f for c in CUTS for f in (
                f"benchmarks/train_gan/{d}_cut{c}_{g}.tsv", f"benchmarks/sample_gan/{d}_cut{c}_{g}.tsv",
                f"benchmarks/train_gan_backbone/{d}_cut{c}_{g}_ce.tsv")]
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


# --- image study of "How Data Augmentation Works" (workflow/rules/da_images.smk) ---------------------------

DA_REPORT = "How Data Augmentation Works (images)"
DA_RUN_MODELS = [m for m in ("balanced", "base", "dsm", "eos", "ldam", "ros", "remix") if m in DA_MODELS]


def da_model_files(dataset, cut, model):
    """The files of one model of the image study: its network (dsm / eos: the Base extractor with their
    head), and its test predictions (label, pred); Base and LDAM are the EOS pipeline's ce / ldam runs."""
    run = f"{dataset}/cut{cut}"
    if model in ("base", "ldam"):
        loss = "ce" if model == "base" else "ldam"
        return {"network": f"data/backbones/{run}/{loss}/backbone.pt", "predictions": f"data/embeddings/{run}/{loss}/test.parquet"}
    if model in DA_LATENT:
        head = f"data/heads/{run}/ce/{method_folder(DA_LATENT[model])}"
        return {"network": f"data/backbones/{run}/ce/backbone.pt", "head": f"{head}/head.pt",
                "predictions": f"{head}/test_predictions.parquet"}
    folder = f"data/pixel_backbones/{run}/{model}" if model in ("ros", "remix") else f"data/balanced_backbones/{run}"
    return {"network": f"{folder}/backbone.pt", "predictions": f"{folder}/test_predictions.parquet"}


def da_cut_files(dataset, cut, models, keys=("network", "head", "predictions")):
    """One cut of one data set: its images and index files (cut_files) and the ``keys`` files of ``models``."""
    files = cut_files(dataset, cut)
    return {"images": files["images"], "train_indices": files["indices"], "test_indices": files["test_indices"],
            "models": {m: {k: v for k, v in da_model_files(dataset, cut, m).items() if k in keys} for m in models}}


def da_runs():
    return [(d, c) for d in DA_DATASETS for c in CUTS]


def da_runs_input(models=(), keys=("network", "head", "predictions")):
    """Named inputs ``runs/<i>/...`` of every (data set, cut) of the study, for ``unpack``."""
    models = [m for m in DA_RUN_MODELS if m in models]
    return flatten({"runs": [da_cut_files(d, c, models, keys) for d, c in da_runs()]})


def da_runs_meta():
    return [{"dataset": d, "cut": int(c), "title": dataset_config(d).get("title", d),
             "imbalance": dict(dataset_config(d)["imbalance"])} for d, c in da_runs()]


def da_saliency_input(wildcards):
    """The network of one model of one cut (dsm / eos: the Base network and their head) and the cut's
    test images: the record of pipeline_lib.da_images.saliency_stage."""
    files = da_cut_files(wildcards.dataset, wildcards.cut, [wildcards.da_model], keys=("network", "head"))
    return {"images": files["images"], "test_indices": files["test_indices"], **files["models"][wildcards.da_model]}


def da_saliency_files(models):
    """Named inputs ``runs/<i>/saliency/<model>``: the top-pixel files of every cut (Table XI)."""
    return flatten({"runs": [{"saliency": {m: f"data/da_images/saliency/{d}/cut{c}/{m}.npz"
                                           for m in DA_RUN_MODELS if m in models}} for d, c in da_runs()]})


# --- networks imported instead of trained (datasets.<name>.checkpoints) ----------------------------------

CHECKPOINTS = {(d, m, str(c)): p for d in ALL_DATASETS for m, cuts in config["datasets"][d].get("checkpoints", {}).items()
               for c, p in cuts.items()}


def _imported(models, path_of):
    return sorted({path_of(d, m, c) for d, m, c in CHECKPOINTS if m in models})


IMPORTED_BACKBONES = _imported(("base", "ldam"), lambda d, m, c: f"{d}/cut{c}/{'ce' if m == 'base' else 'ldam'}")
IMPORTED_PIXEL = _imported(("ros", "remix"), lambda d, m, c: f"{d}/cut{c}/{m}")
IMPORTED_BALANCED = _imported(("balanced",), lambda d, m, c: f"{d}/cut{c}")
IMPORTED_HEADS = _imported(tuple(DA_LATENT), lambda d, m, c: f"{d}/cut{c}/ce/{method_folder(DA_LATENT[m])}")


def _import_key(run, kind):
    """(dataset, model, cut) of an imported run path ``<dataset>/cut<cut>[/<loss or method>[/<sampler>]]``."""
    dataset, cut, *rest = run.split("/")
    cut = cut[len("cut"):]
    if kind == "backbone":
        model = "base" if rest[0] == "ce" else "ldam"
    elif kind == "pixel":
        model = rest[0]
    elif kind == "balanced":
        model = "balanced"
    else:
        model = {method_folder(s): m for m, s in DA_LATENT.items()}[rest[1]]
    return dataset, model, cut


def import_input(kind):
    """Input function of an import rule: the checkpoint file, the data set's images (normalisation, class
    names, test predictions) and, for a head, the Base backbone it must share its extractor with."""
    def inputs(wildcards):
        dataset, model, cut = _import_key(wildcards.imported, kind)
        data = cut_files(dataset, cut)
        files = {"checkpoint": CHECKPOINTS[(dataset, model, cut)], "images": data["images"],
                 "test_indices": data["test_indices"]}
        if kind == "head":
            files["backbone"] = f"data/backbones/{dataset}/cut{cut}/ce/backbone.pt"
            files["test"] = f"data/embeddings/{dataset}/cut{cut}/ce/test.parquet"
        return files

    return inputs


def import_params(kind):
    def params(wildcards):
        dataset, model, cut = _import_key(wildcards.imported, kind)
        ds = dataset_config(dataset)
        return {"dataset": dataset, "model": model, "cut": int(cut), "arch": ds["backbone"],
                "loss": "ldam" if model == "ldam" else "ce", "normalize": ds.get("normalize"),
                "sampler": DA_LATENT.get(model)}

    return params


# --- CNN analyses of the Magnitude and Fragility papers (workflow/rules/cnn_analyses.smk) -----------------

MAG = config["magnitude_images"]
FRAG = config["fragility"]
MAG_REPORT = "Latent Feature Magnitude (images)"
FRAG_REPORT = "CNN Fragility (images)"
CNN_MODELS = [m for m in ("base", "balanced", "ros", "remix", "dsm", "eos") if m in DA_MODELS]


def latents_files(predictions):
    """The latents files (workflow/rules/latents.smk) of the network whose test predictions are ``predictions``
    (a backbone's: its test embeddings, data/embeddings/...; any other network's: its test_predictions.parquet):
    data/latents/<the network's folder under data/>/{train,test}.parquet."""
    kind, folder = os.path.dirname(predictions)[len("data/"):].split("/", 1)
    folder = f"{'backbones' if kind == 'embeddings' else kind}/{folder}"
    return {s: f"data/latents/{folder}/{s}.parquet" for s in ("train", "test")}


def cnn_runs_input(wildcards):
    """Named inputs ``runs/<i>/...`` of every (data set, cut) of the image study for the Magnitude and
    Fragility analyses: each model's latents files and Balanced's own training draw."""
    runs = []
    for d, c in da_runs():
        files = da_cut_files(d, c, [], keys=())
        files["models"] = {m: latents_files(da_model_files(d, c, m)["predictions"]) for m in CNN_MODELS}
        if "balanced" in CNN_MODELS:
            files["models"]["balanced"]["train_indices"] = f"data/balanced/{d}/cut{c}/train_indices.csv"
        runs.append(files)
    return flatten({"runs": runs})


# --- latents of every network (workflow/rules/latents.smk, pipeline_lib.latents) -------------------------------

LATENT_KINDS = {"embedding": r"(backbones/[^/]+/cut\d+/[^/]+|heads/[^/]+/cut\d+/[^/]+/[^/]+)",
                "network": r"(pixel_backbones/[^/]+/cut\d+/[^/]+|balanced_backbones/[^/]+/cut\d+|gan_backbones/[^/]+/cut\d+/[^/]+/[^/]+)"}


def _latent_net(wildcards):
    """(kind, dataset, cut, rest) of a latents folder ``<kind>/<dataset>/cut<c>/<rest...>``."""
    kind, dataset, cut, *rest = wildcards.net.split("/")
    return kind, dataset, cut[len("cut"):], rest


def latents_embedding_input(wildcards):
    kind, dataset, cut, rest = _latent_net(wildcards)
    run = f"{dataset}/cut{cut}/{rest[0]}"
    files = {s: f"data/embeddings/{run}/{s}.parquet" for s in ("train", "test")}
    files["network"] = f"data/backbones/{run}/backbone.pt"
    if kind == "heads":
        files["head"] = f"data/heads/{run}/{rest[1]}/head.pt"
    return files


def latents_network_input(wildcards):
    kind, dataset, cut, rest = _latent_net(wildcards)
    files = cut_files(dataset, cut)
    if kind == "balanced_backbones":  # the Balanced model's train split: its own balanced draw
        files["indices"] = f"data/balanced/{dataset}/cut{cut}/train_indices.csv"
    return {**files, "network": f"data/{wildcards.net}/backbone.pt"}


def latents_network_params(wildcards):
    kind, dataset, cut, rest = _latent_net(wildcards)
    return {"dataset": dataset, "cut": int(cut), "model": wildcards.net,
            "loss": rest[1] if kind == "gan_backbones" else "ce",
            "device": dataset_training(dataset)["device"]}


def all_latents():
    """The latents files of every network of the workflow: the EOS pipeline's backbones and heads (Table II
    methods, Tables III-V, the K sweep, the variants), its pixel-space and GAN-balanced backbones, the Table V
    architectures and the models of the image study."""
    preds = [f"data/embeddings/{d}/cut{c}/{l}/test.parquet" for d in DATASETS for c in CUTS for l in LOSSES]
    # logit adjustment has no network of its own: its logits are the phase-1 head's minus tau log prior (its
    # tau in data/heads/.../logit_adj/tau_search.csv), its features the backbone's latents
    preds += [head_predictions(d, c, l, method_folder(m)) for d in DATASETS for c in CUTS for l in LOSSES
              for m in TABLE2_METHODS[1:] if m != "logit_adj"]
    preds += [f"data/pixel_backbones/{d}/cut{c}/{m}/test_predictions.parquet" for d in DATASETS for c in CUTS
              for m in PIXEL_METHODS]
    for records in (table3_records(), table4_records(), table5_records(), pixel_eos_records(), variant_records()):
        preds += [r["predictions"] for r in records]
    preds += [da_model_files(d, c, m)["predictions"] for d, c in da_runs() for m in DA_RUN_MODELS]
    return sorted({f for p in preds for f in latents_files(p).values()})


# --- decoupling baselines beside Table II (config `baselines`; workflow/rules/head.smk, metrics.smk) --------


def tau_norm_params():
    """tau_normalise's params: the tau grid, the held-out share of the train embeddings, the seed."""
    return {"taus": [float(t) for t in BASELINES["tau_grid"]], "holdout": float(BASELINES["tau_holdout"]),
            "seed": config["seed"]}


def logit_adjust_params(wildcards):
    """logit_adjust's params: tau-norm's grid, held-out share and seed, and LDAM's logit scale s (its cosine
    head's logits are s cos)."""
    return {**tau_norm_params(), "cosine_scale": float(config["loss_options"]["ldam"]["s"])}


def shots_runs():
    """(dataset, cut, loss) of Table II's runs, in all_metrics() order."""
    return [(d, c, l) for d in DATASETS for c in CUTS for l in LOSSES]


def method_predictions(wildcards):
    """evaluate_run's head inputs: the test predictions of every method of TABLE2_METHODS after the
    baseline, in that order (cRT reads the ros head; with ros also among the samplers both columns show it)."""
    base = f"data/heads/{wildcards.dataset}/cut{wildcards.cut}/{wildcards.loss}"
    return [f"{base}/{method_folder(m)}/test_predictions.parquet" for m in TABLE2_METHODS[1:]]


COUNT_METHODS = SAMPLERS + DECOUPLING  # the methods of reports/table2_class_counts


def count_runs_input(runs):
    """Named inputs ``runs/<i>/oversampled/<method>`` of runs [(dataset, cut, loss)] for the class-count
    table: each sampler's oversampled embeddings, cRT's the ros sampler's, tau-norm's the train embeddings
    (its head is the phase-1 one, trained on the imbalanced cut)."""
    def files(d, c, l):
        base = f"{d}/cut{c}/{l}"
        return {m: (f"data/embeddings/{base}/train.parquet" if m in ("tau_norm", "logit_adj")
                    else f"data/oversampled/{base}/{method_folder(m)}.parquet") for m in COUNT_METHODS}

    return flatten({"runs": [{"oversampled": files(d, c, l)} for d, c, l in runs]})


# --- the EOS paper's sensitivity studies and the EOS variant study (workflow/rules/eos_studies.smk) ----------

EOS_RUN = run_name("eos", EOS_OPTIONS)  # the Table II EOS run (eos-k<K>)
STUDY_FILES = ("predictions", "oversampled")  # the file keys of a study record; the others are its params


def head_predictions(dataset, cut, loss, run):
    return f"data/heads/{dataset}/cut{cut}/{loss}/{run}/test_predictions.parquet"


def table4_records():
    return [{"dataset": d, "cut": int(c), "k": k, "predictions": head_predictions(d, c, "ce", run)}
            for d in DATASETS for k, run in TABLE4_RUNS.items() for c in CUTS]


def table4_input(wildcards):
    """Table IV's runs; its K values checked against the data first (only when a target needs Table IV)."""
    try:
        check_table4_k(config, DATASETS)
    except ConfigError as err:
        sys.exit(f"config error: {err}")
    return records_input(table4_records())


def table5_records():
    """Without EOS: the phase-1 network's own predictions (the test embeddings' pred); with: its EOS head."""
    return [{"dataset": d, "cut": int(c), "arch": arch, "method": m,
             "predictions": (f"data/embeddings/{v}/cut{c}/ce/test.parquet" if m == "baseline"
                             else head_predictions(v, c, "ce", EOS_RUN))}
            for (d, arch), v in T5_RUNS.items() for m in ("baseline", "eos") for c in CUTS]


def pixel_eos_records():
    return [{"dataset": d, "cut": int(c), "space": space,
             "predictions": (f"data/pixel_backbones/{d}/cut{c}/eos/test_predictions.parquet" if space == "pixel"
                             else head_predictions(d, c, "ce", EOS_RUN))}
            for d in DATASETS for space in ("pixel", "embedding") for c in CUTS]


def variant_records():
    return [{"dataset": d, "loss": l, "cut": int(c), "method": m, "predictions": head_predictions(d, c, l, run),
             "oversampled": f"data/oversampled/{d}/cut{c}/{l}/{run}.parquet"}
            for d in DATASETS for l in LOSSES for m, run in VARIANT_RUNS.items() for c in CUTS]


def records_input(records):
    """Named inputs ``runs/<i>/<file key>`` of study records, for ``unpack``."""
    return flatten({"runs": [{k: r[k] for k in STUDY_FILES if k in r} for r in records]})


def records_meta(records):
    """The non-file values of study records (params; the script merges them back with namedfiles.runs)."""
    return [{k: v for k, v in r.items() if k not in STUDY_FILES} for r in records]


# --- the scorecard against the papers' published numbers (rule paper_check in eos_studies.smk) --------------

PAPER_TABLES = sorted(glob.glob(os.path.join(workflow.basedir, "workflow", "resources", "paper_*.csv")))
PAPER_CHECK_FILES = {
    "eos_table1": "reports/table1.csv", "eos_table2": "reports/table2.csv", "eos_table3": "reports/table3.csv",
    "eos_table4": "reports/table4.csv", "eos_table5": "reports/table5.csv", "eos_pixel": "reports/pixel_eos.csv",
    "eos_runtime": "reports/runtime.csv", **{f"da_table{i}": f"reports/da/table{i}.csv" for i in range(1, 12)}}


def paper_settings():
    """{run data set: {paper_dataset, match, why, authors}} of every configured data set (datasets.<name>.paper;
    authors: its models imported from checkpoints for every cut; a tabular data set is the paper's own data
    under its split protocol when tabular.runs has its 5 splits)."""
    out = {d: {"paper_dataset": ds.get("paper", {}).get("dataset", d), "match": ds.get("paper", {}).get("matches", False),
               "why": ds.get("paper", {}).get("why", ""),
               "authors": sorted(m for m, cuts in ds.get("checkpoints", {}).items()
                                 if set(map(str, cuts)) >= set(CUTS))}
           for d, ds in config["datasets"].items()}
    five = len(TAB_RUNS) == 5
    for t in TAB_DATASETS:
        out.setdefault(t, {"paper_dataset": t, "match": five,
                           "why": "the paper's UCI data, 5 stratified 70:30 splits" if five
                           else f"the paper's UCI data, {len(TAB_RUNS)} of its 5 splits"})
    return out


def paper_cut_metrics():
    """The per-cut metric files of EOS Tables I and II (the scorecard compares their configured cut)."""
    tables = config["paper_check"]["tables"]
    return sorted(set((all_metrics() if "eos_table2" in tables else [])
                      + (table1_inputs(None) if "eos_table1" in tables else [])))


def paper_cut_records():
    """The study records of EOS Tables III, IV, V and §V-E3 at the configured cut, each with its table key
    (their reports hold means only; the scorecard compares that cut)."""
    tables, cut = config["paper_check"]["tables"], str(config["paper_check"]["eos_cut"])
    studies = {"eos_table3": table3_records, "eos_table4": table4_records, "eos_table5": table5_records,
               "eos_pixel": pixel_eos_records}
    return [{**r, "table": key} for key, records in studies.items() if key in tables for r in records()
            if str(r["cut"]) == cut]


# --- GAN-based oversampling, the EOS paper's Table III (workflow/rules/gans.smk) ------------------------------

GAN_CFG = config["gans"]
GAN_METHODS = list(GAN_CFG["methods"])


wildcard_constraints:
    gan=_alternatives(GAN_METHODS),


def gan_params(wildcards):
    """train_gan's params: the GAN's options (schema defaults filled), seed, data set name, device."""
    return {"options": dict(GAN_CFG[wildcards.gan]), "seed": config["seed"], "dataset": wildcards.dataset,
            "device": dataset_training(wildcards.dataset)["device"]}


def table3_records():
    """Per data set, loss and cut: a backbone trained on each GAN's balanced set, and Table II's EOS head."""
    return [{"dataset": d, "loss": l, "cut": int(c), "method": m,
             "predictions": (head_predictions(d, c, l, EOS_RUN) if m == "eos"
                             else f"data/gan_backbones/{d}/cut{c}/{m}/{l}/test_predictions.parquet")}
            for d in DATASETS for l in LOSSES for m in GAN_METHODS + ["eos"] for c in CUTS]
