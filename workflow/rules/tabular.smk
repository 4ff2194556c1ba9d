# Tabular study (How Data Augmentation Works / Hidden Influence of Latent Feature Magnitude):
# fetch_tabular -> split_tabular -> augment_tabular -> fit_sklearn_model (SVM, LG; svm_linear for the CE
# analysis only); split_tabular -> train_tabular_nn (MLP: holds out its validation rows, then augments)
# and, for the NN's latent-space EOS and DSM, the image pipeline's own phase-2/3 rules:
# export_tabular_embeddings -> oversample_tabular_embeddings -> retrain_tabular_head; then evaluate_tabular_run.
# Your own samplers (tabular.oversampling.custom, TAB_CUSTOM) are methods like SMOTE: augment_tabular writes
# their training set, fit_sklearn_model and train_tabular_nn run them; their record (entry, class, package,
# version) is their value in the rules' options, so an upgrade of the package reruns them.

from pipeline_lib.infra.config import check_tabular_files
from pipeline_lib.studies.tabular.runs import AUGMENTED, LATENT_SAMPLER, NN_AUGMENTED


def tabular_source(wildcards):
    """fetch_tabular's params; with downloading off, a missing file stops the plan with one line."""
    try:
        check_tabular_files(TAB)
    except ConfigError as err:
        raise WorkflowError(f"config error: {err}")
    return {"data_home": TAB["data_home"], "download": TAB["download"]}


def tab_custom_record(entry):
    """A custom method's value in augment_tabular's and train_tabular_nn's options: its entry, class, package
    and version (pipeline_lib.studies.tabular.runs: custom_spec)."""
    d = describe_sampler(entry)
    return {"spec": dict(entry), "class": d["class"], "package": d["package"], "version": d["version"]}


TAB_CUSTOM_RECORDS = {name: tab_custom_record(e) for name, e in TAB_CUSTOM.items()}
TAB_AUGMENTED = AUGMENTED + tuple(TAB_CUSTOM)  # the methods with an augmented training set (a file each)


def tab_seed(wildcards):
    """Seed of the samplers and models of one run: config seed + run (the split's own seed is the run)."""
    return config["seed"] + int(wildcards.run)


def tab_training_sets(wildcards):
    """fit_sklearn_model's training sets ``train_<method>``: Base and CS train on the split, the others (your
    own samplers too) on their augmented set.  (The NN always reads the split: it holds out its validation rows before augmenting,
    pipeline_lib.studies.tabular.runs.nn_training_set.)"""
    split, augmented = tab_dir("splits", wildcards.tabular, wildcards.run), tab_dir("augmented", wildcards.tabular, wildcards.run)
    return {f"train_{m}": f"{split}/train.parquet" if m in ("base", "cs") else f"{augmented}/{m}.parquet"
            for m in TAB_METHODS}


def tab_nn_options():
    """The augmentation options of each NN method (the ones augment_tabular uses; a custom method's record),
    None for the others."""
    return {m: dict(TAB["oversampling"][m]) if m in NN_AUGMENTED else TAB_CUSTOM_RECORDS.get(m)
            for m in TAB_METHODS}


TAB_EVALUATED = ("svm", "lg", "nn")  # the models of the per-run metrics (Table III, IV, Fig. 1)


def tab_evaluate_inputs(wildcards):
    """Named inputs ``<model>/<method>`` of evaluate_tabular_run: the test predictions of SVM (tabular.svm,
    default RBF), LG and NN; the CE analysis's linear SVM is not evaluated."""
    predictions = tab_run(wildcards.tabular, wildcards.run)["predictions"]
    return flatten({m: predictions[m] for m in TAB_EVALUATED})


rule fetch_tabular:
    output:
        "data/tabular/raw/{tabular}.parquet",
    log:
        "logs/fetch_tabular/{tabular}.log",
    benchmark:
        "benchmarks/fetch_tabular/{tabular}.tsv"
    params:
        source=tabular_source,
        code=code("fetch_tabular.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    localrule: True  # downloads (when allowed) need the login node's network under SLURM
    script:
        "../scripts/fetch_tabular.py"


rule split_tabular:
    input:
        "data/tabular/raw/{tabular}.parquet",
    output:
        train="data/tabular/splits/{tabular}/run{run}/train.parquet",
        test="data/tabular/splits/{tabular}/run{run}/test.parquet",
    log:
        "logs/split_tabular/{tabular}_run{run}.log",
    benchmark:
        "benchmarks/split_tabular/{tabular}_run{run}.tsv"
    params:
        test_size=TAB["test_size"],
        code=code("split_tabular.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/split_tabular.py"


# Coarse jobs: one per run (and model), all methods in one process.  A job's fixed cost (a Python process,
# Snakemake's preamble, pandas / scikit-learn / torch imports: 3-5 s) is larger than one method's fit (well
# under a second for SVM / LG), and a per-method file cache buys nothing the user needs: every method's output
# keeps its own file, and changing one method's options reruns the others of the run (seconds).
rule augment_tabular:
    input:
        "data/tabular/splits/{tabular}/run{run}/train.parquet",
    output:
        **{m: f"data/tabular/augmented/{{tabular}}/run{{run}}/{m}.parquet" for m in TAB_AUGMENTED},
    log:
        "logs/augment_tabular/{tabular}_run{run}.log",
    benchmark:
        "benchmarks/augment_tabular/{tabular}_run{run}.tsv"
    params:
        options={**{m: dict(TAB["oversampling"][m]) for m in AUGMENTED}, **TAB_CUSTOM_RECORDS},
        seed=tab_seed,
        code=code("augment_tabular.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/augment_tabular.py"


rule fit_sklearn_model:
    input:
        unpack(tab_training_sets),
        test="data/tabular/splits/{tabular}/run{run}/test.parquet",
    output:
        **{f"{m}_{f}": f"data/tabular/models/{{tabular}}/run{{run}}/{{model}}/{m}/{name}" for m in TAB_METHODS
           for f, name in (("model", "model.npz"), ("predictions", "test_predictions.parquet"))},
    log:
        "logs/fit_sklearn_model/{tabular}_run{run}_{model}.log",
    benchmark:
        "benchmarks/fit_sklearn_model/{tabular}_run{run}_{model}.tsv"
    params:
        settings=lambda wc: dict(TAB["svm" if wc.model == "svm_linear" else wc.model]),  # svm_linear: kernel forced
        methods=list(TAB_METHODS),
        seed=tab_seed,
        code=code("fit_sklearn_model.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/fit_sklearn_model.py"


rule train_tabular_nn:
    input:
        train="data/tabular/splits/{tabular}/run{run}/train.parquet",
        test="data/tabular/splits/{tabular}/run{run}/test.parquet",
    output:
        **{f"{m}_{f}": f"data/tabular/models/{{tabular}}/run{{run}}/nn/{m}/{name}" for m in TAB_METHODS
           for f, name in (("model", "model.pt"), ("predictions", "test_predictions.parquet"),
                           ("history", "training_log.csv"))},
    log:
        "logs/train_tabular_nn/{tabular}_run{run}.log",
    benchmark:
        "benchmarks/train_tabular_nn/{tabular}_run{run}.tsv"
    params:
        settings=dict(TAB["nn"]),
        options=tab_nn_options(),
        remix_alpha=TAB["oversampling"]["remix"]["alpha"],
        seed=tab_seed,
        code=code("train_tabular_nn.py"),
    threads: 1  # a 4-layer MLP on a few thousand rows: one core each, runs in parallel
    resources:
        mem_mb=2000,
        runtime=60,
    script:
        "../scripts/train_tabular_nn.py"


rule export_tabular_embeddings:
    input:
        model="data/tabular/models/{tabular}/run{run}/nn/base/model.pt",
        train="data/tabular/splits/{tabular}/run{run}/train.parquet",
        test="data/tabular/splits/{tabular}/run{run}/test.parquet",
    output:
        train="data/tabular/embeddings/{tabular}/run{run}/train.parquet",
        test="data/tabular/embeddings/{tabular}/run{run}/test.parquet",
    log:
        "logs/export_tabular_embeddings/{tabular}_run{run}.log",
    benchmark:
        "benchmarks/export_tabular_embeddings/{tabular}_run{run}.tsv"
    params:
        code=code("export_tabular_embeddings.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/export_tabular_embeddings.py"


# Phases 2b and 3 of the NN's EOS / DSM are the image pipeline's rules, on other files.
use rule oversample_embeddings as oversample_tabular_embeddings with:
    input:
        "data/tabular/embeddings/{tabular}/run{run}/train.parquet",
    output:
        "data/tabular/oversampled/{tabular}/run{run}/{latent}.parquet",
    log:
        "logs/oversample_tabular_embeddings/{tabular}_run{run}_{latent}.log",
    benchmark:
        "benchmarks/oversample_tabular_embeddings/{tabular}_run{run}_{latent}.tsv"
    params:
        sampler=lambda wc: {"name": LATENT_SAMPLER[wc.latent], "options": dict(TAB["latent"][wc.latent]),
                            "seed": tab_seed(wc)},
        code=code("oversample_embeddings.py"),


use rule retrain_head as retrain_tabular_head with:
    input:
        train="data/tabular/oversampled/{tabular}/run{run}/{latent}.parquet",
        test="data/tabular/embeddings/{tabular}/run{run}/test.parquet",
    output:
        head="data/tabular/models/{tabular}/run{run}/nn/{latent}/head.pt",
        predictions="data/tabular/models/{tabular}/run{run}/nn/{latent}/test_predictions.parquet",
        history="data/tabular/models/{tabular}/run{run}/nn/{latent}/training_log.csv",
    log:
        "logs/retrain_tabular_head/{tabular}_run{run}_{latent}.log",
    benchmark:
        "benchmarks/retrain_tabular_head/{tabular}_run{run}_{latent}.tsv"
    params:
        hp=lambda wc: {"loss": "ce", "training": dict(TAB["head_training"]), "loss_options": {},
                       "seed": tab_seed(wc)},
        code=code("retrain_head.py"),


rule evaluate_tabular_run:
    input:
        unpack(tab_evaluate_inputs),
    output:
        "data/tabular/metrics/{tabular}/run{run}.csv",
    log:
        "logs/evaluate_tabular_run/{tabular}_run{run}.log",
    benchmark:
        "benchmarks/evaluate_tabular_run/{tabular}_run{run}.tsv"
    params:
        code=code("evaluate_tabular_run.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/evaluate_tabular_run.py"
