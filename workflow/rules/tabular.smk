# Tabular study (How Data Augmentation Works / Hidden Influence of Latent Feature Magnitude), one job per
# run (data set x split seed) and stage:
# fetch_tabular -> split_augment_tabular (the split, then ROS / SMOTE / ADASYN / REMIX of its train rows)
#   -> fit_sklearn_models (SVM, LG); fit_linear_svm (svm_linear) only for the CE analysis
#   -> train_tabular_nn (MLP: holds out its validation rows, then augments)
#      -> train_tabular_latent_heads (the NN's latent-space EOS and DSM: the Base MLP's embeddings, then the
#         image pipeline's phase-2b / 3 stages on them)
#   -> evaluate_tabular_run.
# Your own samplers (tabular.oversampling.custom, TAB_CUSTOM) are methods like SMOTE: split_augment_tabular
# writes their training set, fit_sklearn_models, fit_linear_svm and train_tabular_nn run them; their record
# (entry, class, package, version) is their value in the rules' options, so an upgrade of the package reruns
# them.

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
    """A custom method's value in split_augment_tabular's and train_tabular_nn's options: its entry, class,
    package and version (pipeline_lib.studies.tabular.runs: custom_spec)."""
    d = describe_sampler(entry)
    return {"spec": dict(entry), "class": d["class"], "package": d["package"], "version": d["version"]}


TAB_CUSTOM_RECORDS = {name: tab_custom_record(e) for name, e in TAB_CUSTOM.items()}
TAB_AUGMENTED = AUGMENTED + tuple(TAB_CUSTOM)  # the methods with an augmented training set (a file each)


def tab_seed(wildcards):
    """Seed of the samplers and models of one run: config seed + run (the split's own seed is the run)."""
    return config["seed"] + int(wildcards.run)


def tab_training_sets(wildcards):
    """fit_sklearn_models' and fit_linear_svm's training sets ``train_<method>``: Base and CS train on the
    split, the others (your own samplers too) on their augmented set.  (The NN always reads the split: it
    holds out its validation rows before augmenting, pipeline_lib.studies.tabular.runs.nn_training_set.)"""
    split, augmented = tab_dir("splits", wildcards.tabular, wildcards.run), tab_dir("augmented", wildcards.tabular, wildcards.run)
    return {f"train_{m}": f"{split}/train.parquet" if m in ("base", "cs") else f"{augmented}/{m}.parquet"
            for m in TAB_METHODS}


def tab_nn_options():
    """The augmentation options of each NN method (the ones split_augment_tabular uses; a custom method's
    record), None for the others."""
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


# Coarse jobs: one per run, all methods (and stages that follow each other) in one process.  A job's fixed
# cost (a Python process, Snakemake's preamble, pandas / scikit-learn / torch imports: 3-5 s) is larger than
# one method's fit (well under a second for SVM / LG), and a finer file cache buys nothing the user needs:
# every method's output keeps its own file, and changing one method's options reruns the others of the run
# (seconds).  Here the split and the augmented sets: a changed sampler option rewrites the run's split too,
# so the run's NN (which reads the split) reruns with it.
rule split_augment_tabular:
    input:
        "data/tabular/raw/{tabular}.parquet",
    output:
        train="data/tabular/splits/{tabular}/run{run}/train.parquet",
        test="data/tabular/splits/{tabular}/run{run}/test.parquet",
        **{f"augmented_{m}": f"data/tabular/augmented/{{tabular}}/run{{run}}/{m}.parquet" for m in TAB_AUGMENTED},
    log:
        "logs/split_augment_tabular/{tabular}_run{run}.log",
    benchmark:
        "benchmarks/split_augment_tabular/{tabular}_run{run}.tsv"
    params:
        test_size=TAB["test_size"],
        options={**{m: dict(TAB["oversampling"][m]) for m in AUGMENTED}, **TAB_CUSTOM_RECORDS},
        seed=tab_seed,
        code=code("split_augment_tabular.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/split_augment_tabular.py"


def tab_sklearn_outputs(models):
    """Named outputs ``<model>_<method>_{model,predictions}`` of the SVM / LG fits of one run."""
    return {f"{model}_{m}_{f}": f"data/tabular/models/{{tabular}}/run{{run}}/{model}/{m}/{name}"
            for model in models for m in TAB_METHODS
            for f, name in (("model", "model.npz"), ("predictions", "test_predictions.parquet"))}


rule fit_sklearn_models:
    input:
        unpack(tab_training_sets),
        test="data/tabular/splits/{tabular}/run{run}/test.parquet",
    output:
        **tab_sklearn_outputs(("svm", "lg")),
    log:
        "logs/fit_sklearn_models/{tabular}_run{run}.log",
    benchmark:
        "benchmarks/fit_sklearn_models/{tabular}_run{run}.tsv"
    params:
        settings={"svm": dict(TAB["svm"]), "lg": dict(TAB["lg"])},
        methods=list(TAB_METHODS),
        seed=tab_seed,
        code=code("fit_sklearn_models.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/fit_sklearn_models.py"


# The CE analysis's SVM (the tabular.svm settings, kernel forced to linear): a job of its own, so that it is
# fitted only when a magnitude target (data/tabular/analysis/ce_counts.csv) asks for its files.
rule fit_linear_svm:
    input:
        unpack(tab_training_sets),
        test="data/tabular/splits/{tabular}/run{run}/test.parquet",
    output:
        **tab_sklearn_outputs(("svm_linear",)),
    log:
        "logs/fit_linear_svm/{tabular}_run{run}.log",
    benchmark:
        "benchmarks/fit_linear_svm/{tabular}_run{run}.tsv"
    params:
        settings=dict(TAB["svm"]),
        methods=list(TAB_METHODS),
        seed=tab_seed,
        code=code("fit_linear_svm.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/fit_linear_svm.py"


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


def tab_latent_outputs():
    """Named outputs ``<latent>_{oversampled,head,predictions,history}`` of the NN's EOS and DSM of one run."""
    run, out = "{tabular}/run{run}", {}
    for latent in LATENT:
        nn = f"data/tabular/models/{run}/nn/{latent}"
        out.update({f"{latent}_oversampled": f"data/tabular/oversampled/{run}/{latent}.parquet",
                    f"{latent}_head": f"{nn}/head.pt", f"{latent}_predictions": f"{nn}/test_predictions.parquet",
                    f"{latent}_history": f"{nn}/training_log.csv"})
    return out


# The NN's EOS / DSM: phase 2a (the Base MLP's penultimate layer as embeddings), then per latent method the
# image pipeline's phase 2b (pipeline_lib.sampling.oversampling.resample_file) and phase 3
# (pipeline_lib.core.heads.retrain_stage), in one job per run.
rule train_tabular_latent_heads:
    input:
        model="data/tabular/models/{tabular}/run{run}/nn/base/model.pt",
        train="data/tabular/splits/{tabular}/run{run}/train.parquet",
        test="data/tabular/splits/{tabular}/run{run}/test.parquet",
    output:
        train="data/tabular/embeddings/{tabular}/run{run}/train.parquet",
        test="data/tabular/embeddings/{tabular}/run{run}/test.parquet",
        **tab_latent_outputs(),
    log:
        "logs/train_tabular_latent_heads/{tabular}_run{run}.log",
    benchmark:
        "benchmarks/train_tabular_latent_heads/{tabular}_run{run}.tsv"
    params:
        samplers={latent: {"name": LATENT_SAMPLER[latent], "options": dict(TAB["latent"][latent])}
                  for latent in LATENT},
        training=dict(TAB["head_training"]),
        seed=tab_seed,
        code=code("train_tabular_latent_heads.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/train_tabular_latent_heads.py"


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
