# What more than one rule file needs (each rule file holds its own input functions, params functions and
# constants): config loading and validation, the global wildcard constraints, code(), and the constants and
# path helpers shared by several rule files.
import os
import re
import sys

from snakemake.exceptions import WorkflowError

from pipeline_lib.infra.codehash import script_code_hash
from pipeline_lib.infra.namedfiles import flatten
from pipeline_lib.studies.eos.table2 import DECOUPLING as DECOUPLING_METHODS
from pipeline_lib.sampling.sampler_runs import eos_study_runs, run_name
from pipeline_lib.sampling.custom_samplers import describe as describe_sampler, entry_name, is_custom, label as sampler_label
from pipeline_lib.infra.config import ConfigError, load_schema, training_settings, validate
from pipeline_lib.infra.config import check_plan, gpus_requested_per_rule
from pipeline_lib.infra.integrity import set_rebuild_call
from pipeline_lib.studies.tabular.runs import LATENT
from pipeline_lib.studies.tabular.runs import METHODS as TAB_PAPER_METHODS

try:
    validate(config, load_schema(os.path.join(workflow.basedir, "workflow/schemas/config.schema.yaml")))
    # plan checks in the planning process only (not again in each cluster / subprocess job); no GPU
    # check where resources set per job ask a scheduler for GPUs (profiles/slurm), since the backbone
    # jobs then run on GPU nodes, not on this (login) host
    if not (workflow.remote_exec or workflow.subprocess_exec):
        check_plan(config, workflow.configfiles,
                   gpu_check=not gpus_requested_per_rule(workflow.resource_settings.overwrite_resources))
except ConfigError as err:
    sys.exit(f"config error: {err}")
# the call that the rebuild command of a damaged file repeats (pipeline_lib.infra.integrity; jobs inherit it)
set_rebuild_call(workflow.main_snakefile, workflow.overwrite_configfiles)


# --- what the config asks for: data sets, cuts, losses, samplers and the runs of each study -------------------

ALL_DATASETS = list(config["datasets"])
DATASETS = list(config["eos_paper"].get("datasets") or ALL_DATASETS)  # the EOS paper's tables and figures
CUTS = [str(c) for c in config["cuts"]]
LOSSES = list(config["losses"])
SAMPLERS = [entry_name(e) for e in config["samplers"]]
# your own samplers (pipeline_lib.sampling.custom_samplers): run name -> config entry
CUSTOM = {e["name"]: e for e in config["samplers"] if is_custom(e)}
METHODS = ["baseline"] + SAMPLERS  # the phase-1 network and the samplers' retrained heads (Table II, figures)
# Kang et al.'s decoupling baselines (config `baselines`), Table II columns after EOS: cRT is the head retrained
# on the ros sampler's (class-balanced) embeddings, tau_norm the phase-1 head tau-normalised (rule tau_normalise)
BASELINES = config["baselines"]
DECOUPLING = [m for m in DECOUPLING_METHODS if BASELINES[m]]
CRT_SAMPLER = "ros"
TABLE2_METHODS = METHODS + DECOUPLING  # what evaluate_run writes, in Table II's order
PIXEL_METHODS = [entry_name(e) for e in config["pixel_oversampling"]["methods"]]  # Table I's pre-processing rows
HEAD_TRAINING = {k: v for k, v in config["head_training"].items() if k != "loss"}  # retrain_head's, Fig. 7's

# the image study of "How Data Augmentation Works" (workflow/rules/da_images.smk) reuses the runs of the
# EOS pipeline: its models need the ce (and ldam) backbones and the smote / eos heads even where the
# config's losses and samplers leave them out of Table II
DA = config["da_images"]
DA_DATASETS = list(DA.get("datasets") or ALL_DATASETS)
DA_MODELS = list(DA["models"])
DA_LATENT = {"dsm": "smote", "eos": "eos"}  # model -> embedding-space sampler of its head
# the order in which the image study's cut records list their models (the scripts read them by name)
DA_RUN_MODELS = [m for m in ("balanced", "base", "dsm", "eos", "ldam", "ros", "remix") if m in DA_MODELS]
RUN_LOSSES = LOSSES + [l for l, need in (("ce", {"base", "dsm", "eos"} & set(DA_MODELS)), ("ldam", "ldam" in DA_MODELS))
                       if need and l not in LOSSES]
RUN_SAMPLERS = SAMPLERS + [DA_LATENT[m] for m in DA_LATENT if m in DA_MODELS and DA_LATENT[m] not in SAMPLERS]
RUN_SAMPLERS += [CRT_SAMPLER] if "crt" in DECOUPLING and CRT_SAMPLER not in RUN_SAMPLERS else []

# the folder / file name of a sampler's run under data/oversampled/<run>/ and data/heads/<run>/: the sampler's
# name, EOS's with its options (pipeline_lib.sampling.sampler_runs: eos-k10 = K 10 as the paper's text reads it)
EOS_OPTIONS = dict(config["oversampling"]["eos"])
SAMPLER_RUN = {s: run_name(s, config["oversampling"].get(s, {})) for s in RUN_SAMPLERS}
# Table IV (K sweep, ce) and the EOS variant study: more EOS runs; K = the configured K is the Table II run
TABLE4_RUNS = {k: run_name("eos", {**EOS_OPTIONS, "k_neighbors": k}) for k in config["eos_paper"]["table4"]["k_values"]}
# the variant study's methods -> runs (your own embedding-space samplers beside SMOTE and the EOS readings)
VARIANT_RUNS = {"smote": "smote", **eos_study_runs(EOS_OPTIONS), **{c: c for c in CUSTOM}}
SAMPLER_RUNS = list(dict.fromkeys(list(SAMPLER_RUN.values()) + list(TABLE4_RUNS.values())
                                  + list(VARIANT_RUNS.values())))

# the tabular study (workflow/rules/tabular.smk, tabular_reports.smk) and the GANs (workflow/rules/gans.smk)
TAB = config["tabular"]
TAB_DATASETS = list(TAB["datasets"])
TAB_RUNS = [int(r) for r in TAB["runs"]]
# your own real-space samplers of the tabular study (tabular.oversampling.custom): run name -> config entry;
# each is one more method after the paper's (base, ros, cs, smote, adasyn, remix)
TAB_CUSTOM = {e["name"]: e for e in TAB["oversampling"]["custom"]}
TAB_METHODS = TAB_PAPER_METHODS + tuple(TAB_CUSTOM)
GAN_CFG = config["gans"]
GAN_METHODS = list(GAN_CFG["methods"])


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
    stays as given): for pipeline_lib.infra.config's functions of a data set that may be a derived one."""
    return {**config, "datasets": {**config["datasets"], **ARCH_DATASETS}}


def dataset_training(name):
    """Backbone-training settings (pipeline_lib.infra.config.training_settings) of a configured or derived data set."""
    return training_settings(run_config(), name)


TITLES = {d: ds.get("title", d) for d, ds in run_config()["datasets"].items()}  # every data set's, derived too


def _alternatives(values):
    return "|".join(re.escape(v) for v in values) if values else "(?!x)x"  # no values: matches nothing


wildcard_constraints:
    dataset=_alternatives(ALL_DATASETS + list(SOURCE_OF)),
    cut=r"\d+",
    loss=_alternatives(RUN_LOSSES),
    sampler=_alternatives(SAMPLER_RUNS),
    tabular=_alternatives(TAB_DATASETS),
    run=r"\d+",
    method=_alternatives(TAB_METHODS),
    gan=_alternatives(GAN_METHODS),


def code(script):
    """Code hash of the library behind a workflow script: the modules it imports and all they import
    (pipeline_lib.infra.codehash), so editing any of them reruns exactly the rules whose script reaches it."""
    return script_code_hash(os.path.join(workflow.basedir, "workflow", "scripts", script))


# --- shared path helpers and params: the cuts' files, the networks' settings, the runs' files --------------


def cut_files(dataset, cut):
    """The images and index files of one cut (a derived data set's: its configured data set's)."""
    d = SOURCE_OF.get(dataset, dataset)
    return {"images": f"data/raw/{d}/images.npz", "indices": f"data/imbalanced/{d}/cut{cut}/train_indices.csv",
            "test_indices": f"data/imbalanced/{d}/cut{cut}/test_indices.csv"}


def cut_data(wildcards):
    return cut_files(wildcards.dataset, wildcards.cut)


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


def head_loss(loss):
    """The loss of a retrained head of a run with phase-1 ``loss``: cross-entropy (head_training.loss ce,
    the paper's §V-C) or the phase-1 loss itself (phase1)."""
    return "ce" if config["head_training"]["loss"] == "ce" else loss


def custom_sampler_params(entry):
    """A custom sampler's params: its entry, and its package's version (a new version reruns its runs)."""
    d = describe_sampler(entry)
    return {"name": d["name"], "options": d["params"], "seed": config["seed"], "spec": dict(entry),
            "class": d["class"], "package": d["package"], "version": d["version"]}


def custom_labels(entries):
    """{run name: one report line (class, package, version, params)} of custom sampler entries."""
    return {name: sampler_label(e) for name, e in entries.items()}


def all_metrics():
    return expand("data/metrics/{dataset}/cut{cut}/{loss}/metrics.csv", dataset=DATASETS, cut=CUTS, loss=LOSSES)


def runs_meta(runs):
    """The non-file values of runs [(dataset, cut, loss)] (params of a rule that reads runs_input)."""
    return [{"dataset": d, "cut": int(c), "loss": l} for d, c, l in runs]


def need_loss(loss, target):
    if loss not in LOSSES:
        raise WorkflowError(f"{target} needs the loss '{loss}' in config 'losses' (configured: {', '.join(LOSSES)})")


def table1_inputs(wildcards):
    need_loss("ce", "reports/table1.csv")
    return expand("data/pixel_metrics/{dataset}/cut{cut}/metrics.csv", dataset=DATASETS, cut=CUTS) + expand(
        "data/metrics/{dataset}/cut{cut}/ce/metrics.csv", dataset=DATASETS, cut=CUTS)


def tab_dir(kind, dataset, run):
    return f"data/tabular/{kind}/{dataset}/run{run}"


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


# --- the image study's models (workflow/rules/da_images.smk; read by cnn_analyses.smk and latents.smk) -------


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


def da_runs_meta():
    return [{"dataset": d, "cut": int(c), "title": dataset_config(d).get("title", d),
             "imbalance": dict(dataset_config(d)["imbalance"])} for d, c in da_runs()]


def latents_files(predictions):
    """The latents files (workflow/rules/latents.smk) of the network whose test predictions are ``predictions``
    (a backbone's: its test embeddings, data/embeddings/...; any other network's: its test_predictions.parquet):
    data/latents/<the network's folder under data/>/{train,test}.parquet."""
    kind, folder = os.path.dirname(predictions)[len("data/"):].split("/", 1)
    folder = f"{'backbones' if kind == 'embeddings' else kind}/{folder}"
    return {s: f"data/latents/{folder}/{s}.parquet" for s in ("train", "test")}


# --- the EOS paper's study records (eos_studies.smk, gans.smk; the scorecard and latents.smk read them) ----

EOS_RUN = run_name("eos", EOS_OPTIONS)  # the Table II EOS run (eos-k<K>)
STUDY_FILES = ("predictions", "oversampled")  # the file keys of a study record; the others are its params


def head_predictions(dataset, cut, loss, run):
    return f"data/heads/{dataset}/cut{cut}/{loss}/{run}/test_predictions.parquet"


def table3_records():
    """Per data set, loss and cut: a backbone trained on each GAN's balanced set, and Table II's EOS head."""
    return [{"dataset": d, "loss": l, "cut": int(c), "method": m,
             "predictions": (head_predictions(d, c, l, EOS_RUN) if m == "eos"
                             else f"data/gan_backbones/{d}/cut{c}/{m}/{l}/test_predictions.parquet")}
            for d in DATASETS for l in LOSSES for m in GAN_METHODS + ["eos"] for c in CUTS]


def table4_records():
    return [{"dataset": d, "cut": int(c), "k": k, "predictions": head_predictions(d, c, "ce", run)}
            for d in DATASETS for k, run in TABLE4_RUNS.items() for c in CUTS]


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
