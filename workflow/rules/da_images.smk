# The image study of "How Data Augmentation Works with Imbalanced Data" (Tables II, V, VIII, XI, Fig. 10):
# seven models per data set and cut, most of them runs of the EOS pipeline found by path (Base = the ce
# backbone, DSM / EOS = its smote / eos heads, LDAM = the ldam backbone, REMIX = the pixel pipeline's
# REMIX backbone); ROS adds a pixel-space RandomOverSampler run, Balanced a backbone on a balanced draw.
# Any of them can be imported from a checkpoint instead (datasets.<name>.checkpoints).

from pipeline_lib.studies.da_images import FIG10_MODELS, TABLE11_METHODS

DA_REPORT = "How Data Augmentation Works (images)"


def da_runs_input(models=(), keys=("network", "head", "predictions")):
    """Named inputs ``runs/<i>/...`` of every (data set, cut) of the study, for ``unpack``."""
    models = [m for m in DA_RUN_MODELS if m in models]
    return flatten({"runs": [da_cut_files(d, c, models, keys) for d, c in da_runs()]})


def da_saliency_input(wildcards):
    """The network of one model of one cut (dsm / eos: the Base network and their head) and the cut's
    test images: the record of pipeline_lib.studies.da_images.saliency_stage."""
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


rule train_balanced_backbone:
    input:
        images="data/raw/{dataset}/images.npz",
        indices="data/balanced/{dataset}/cut{cut}/train_indices.csv",
        test_indices="data/imbalanced/{dataset}/cut{cut}/test_indices.csv",
    output:
        model="data/balanced_backbones/{dataset}/cut{cut}/backbone.pt",
        history="data/balanced_backbones/{dataset}/cut{cut}/training_log.csv",
        predictions="data/balanced_backbones/{dataset}/cut{cut}/test_predictions.parquet",
    log:
        "logs/train_balanced_backbone/{dataset}_cut{cut}.log",
    benchmark:
        "benchmarks/train_balanced_backbone/{dataset}_cut{cut}.tsv"
    params:
        hp=lambda wc: _backbone_hp(wc.dataset, "ce"),
        code=code("train_balanced_backbone.py"),
    threads: 4
    resources:
        mem_mb=16000,
        runtime=1440,
        gpu=1,
    script:
        "../scripts/train_balanced_backbone.py"


rule saliency_top_pixels:
    input:
        unpack(da_saliency_input),
    output:
        "data/da_images/saliency/{dataset}/cut{cut}/{da_model}.npz",
    log:
        "logs/saliency_top_pixels/{dataset}_cut{cut}_{da_model}.log",
    benchmark:
        "benchmarks/saliency_top_pixels/{dataset}_cut{cut}_{da_model}.tsv"
    wildcard_constraints:
        da_model=_alternatives(DA_RUN_MODELS),
    params:
        saliency=dict(DA["saliency"]),
        device=lambda wc: dataset_training(wc.dataset)["device"],
        code=code("saliency_top_pixels.py"),
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=1,
    script:
        "../scripts/saliency_top_pixels.py"


rule da_table2_image_datasets:
    input:
        unpack(lambda wc: da_runs_input()),
    output:
        csv=report("reports/da/table2.csv", caption="../report/da_table2_image_datasets.rst", category=DA_REPORT,
                   subcategory="Table 2", labels={"artifact": "table2"}),
        md="reports/da/table2.md",
    log:
        "logs/da_table2_image_datasets/table2.log",
    benchmark:
        "benchmarks/da_table2_image_datasets/table2.tsv"
    params:
        runs=da_runs_meta(),
        code=code("da_table2_image_datasets.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_table2_image_datasets.py"


rule da_table5_image_performance:
    input:
        unpack(lambda wc: da_runs_input(DA_RUN_MODELS, keys=("predictions",))),
    output:
        csv=report("reports/da/table5.csv", caption="../report/da_table5_image_performance.rst", category=DA_REPORT,
                   subcategory="Table 5", labels={"artifact": "table5"}),
        md="reports/da/table5.md",
    log:
        "logs/da_table5_image_performance/table5.log",
    benchmark:
        "benchmarks/da_table5_image_performance/table5.tsv"
    params:
        runs=da_runs_meta(),
        long_tail=dict(config["long_tail"]),
        code=code("da_table5_image_performance.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_table5_image_performance.py"


rule da_table8_cnn_weight_change:
    input:
        unpack(lambda wc: da_runs_input(("base", "ros", "remix", "dsm", "eos"), keys=("network", "head"))),
    output:
        csv=report("reports/da/table8.csv", caption="../report/da_table8_cnn_weight_change.rst", category=DA_REPORT,
                   subcategory="Table 8", labels={"artifact": "table8"}),
        md="reports/da/table8.md",
    log:
        "logs/da_table8_cnn_weight_change/table8.log",
    benchmark:
        "benchmarks/da_table8_cnn_weight_change/table8.tsv"
    params:
        runs=da_runs_meta(),
        code=code("da_table8_cnn_weight_change.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_table8_cnn_weight_change.py"


rule da_fig10_cnn_weight_norms:
    input:
        unpack(lambda wc: da_runs_input(FIG10_MODELS, keys=("network", "head"))),
    output:
        png=report("reports/da/fig10.png", caption="../report/da_fig10_cnn_weight_norms.rst", category=DA_REPORT,
                   subcategory="Fig. 10", labels={"artifact": "fig10"}),
        csv="reports/da/fig10.csv",
    log:
        "logs/da_fig10_cnn_weight_norms/fig10.log",
    benchmark:
        "benchmarks/da_fig10_cnn_weight_norms/fig10.tsv"
    params:
        runs=da_runs_meta(),
        code=code("da_fig10_cnn_weight_norms.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_fig10_cnn_weight_norms.py"


rule da_table11_cnn_salient_pixels:
    input:
        unpack(lambda wc: da_saliency_files(("base",) + TABLE11_METHODS)),
    output:
        csv=report("reports/da/table11.csv", caption="../report/da_table11_cnn_salient_pixels.rst", category=DA_REPORT,
                   subcategory="Table 11", labels={"artifact": "table11"}),
        md="reports/da/table11.md",
    log:
        "logs/da_table11_cnn_salient_pixels/table11.log",
    benchmark:
        "benchmarks/da_table11_cnn_salient_pixels/table11.tsv"
    params:
        runs=da_runs_meta(),
        code=code("da_table11_cnn_salient_pixels.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_table11_cnn_salient_pixels.py"


rule da_images:
    input:
        "reports/da/table2.csv",
        "reports/da/table2.md",
        "reports/da/table5.csv",
        "reports/da/table5.md",
        "reports/da/table8.csv",
        "reports/da/table8.md",
        "reports/da/fig10.png",
        "reports/da/fig10.csv",
        "reports/da/table11.csv",
        "reports/da/table11.md",


# --- networks imported from checkpoints instead of trained ------------------------------------------------


rule import_backbone:
    input:
        unpack(import_input("backbone")),
    output:
        model="data/backbones/{imported}/backbone.pt",
        history="data/backbones/{imported}/training_log.csv",
    log:
        "logs/import_backbone/{imported}.log",
    wildcard_constraints:
        imported=_alternatives(IMPORTED_BACKBONES),
    params:
        run=import_params("backbone"),
        code=code("import_backbone.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/import_backbone.py"


rule import_pixel_backbone:
    input:
        unpack(import_input("pixel")),
    output:
        model="data/pixel_backbones/{imported}/backbone.pt",
        history="data/pixel_backbones/{imported}/training_log.csv",
        predictions="data/pixel_backbones/{imported}/test_predictions.parquet",
    log:
        "logs/import_pixel_backbone/{imported}.log",
    wildcard_constraints:
        imported=_alternatives(IMPORTED_PIXEL),
    params:
        run=import_params("pixel"),
        code=code("import_pixel_backbone.py"),
    threads: 1
    resources:
        mem_mb=8000,
        runtime=10,
    script:
        "../scripts/import_pixel_backbone.py"


rule import_balanced_backbone:
    input:
        unpack(import_input("balanced")),
    output:
        model="data/balanced_backbones/{imported}/backbone.pt",
        history="data/balanced_backbones/{imported}/training_log.csv",
        predictions="data/balanced_backbones/{imported}/test_predictions.parquet",
    log:
        "logs/import_balanced_backbone/{imported}.log",
    wildcard_constraints:
        imported=_alternatives(IMPORTED_BALANCED),
    params:
        run=import_params("balanced"),
        code=code("import_balanced_backbone.py"),
    threads: 1
    resources:
        mem_mb=8000,
        runtime=10,
    script:
        "../scripts/import_balanced_backbone.py"


rule import_head:
    input:
        unpack(import_input("head")),
    output:
        head="data/heads/{imported}/head.pt",
        predictions="data/heads/{imported}/test_predictions.parquet",
        history="data/heads/{imported}/training_log.csv",
    log:
        "logs/import_head/{imported}.log",
    wildcard_constraints:
        imported=_alternatives(IMPORTED_HEADS),
    params:
        run=import_params("head"),
        code=code("import_head.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/import_head.py"


ruleorder: import_backbone > train_backbone
ruleorder: import_pixel_backbone > train_pixel_backbone
ruleorder: import_balanced_backbone > train_balanced_backbone
ruleorder: import_head > retrain_head
