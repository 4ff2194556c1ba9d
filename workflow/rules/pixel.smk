# EOS paper Table I, pre-processing rows: oversample the IMAGES (flattened pixels) to full balance,
# or train with REMIX mini-batches, and train a cross-entropy backbone on that.


# your own pixel-space samplers (pipeline_lib.sampling.custom_samplers): run name -> config entry
PIXEL_CUSTOM = {e["name"]: e for e in config["pixel_oversampling"]["methods"] if is_custom(e)}
# the image study's ROS and REMIX models (workflow/rules/da_images.smk) are runs of this pipeline
DA_PIXEL = [m for m in ("ros", "remix") if m in DA_MODELS]
# + eos: EOS in pixel space (reports/pixel_eos, §V-E3)
RUN_PIXEL_METHODS = PIXEL_METHODS + [m for m in DA_PIXEL + ["eos"] if m not in PIXEL_METHODS]
PIXEL_SAMPLERS = [m for m in RUN_PIXEL_METHODS if m != "remix"]


def pixel_sampler_params(wildcards):
    """oversample_pixels' params: a built-in's options from `oversampling`, or a custom sampler's entry."""
    if wildcards.pixel_sampler in PIXEL_CUSTOM:
        return custom_sampler_params(PIXEL_CUSTOM[wildcards.pixel_sampler])
    return {"options": dict(config["oversampling"].get(wildcards.pixel_sampler, {})), "seed": config["seed"]}


def pixel_train_params(wildcards):
    """Phase-1 settings of a cross-entropy backbone trained on pixel-space balanced data (Table I)."""
    hp = _backbone_hp(wildcards.dataset, "ce")
    if wildcards.pixel_method == "remix":
        hp["training"] = dict(hp["training"], remix_alpha=config["pixel_oversampling"]["remix_alpha"])
    return hp


def pixel_training_set(wildcards):
    if wildcards.pixel_method == "remix":
        return []
    return f"data/pixel_oversampled/{wildcards.dataset}/cut{wildcards.cut}/{wildcards.pixel_method}.npz"


rule oversample_pixels:
    input:
        images="data/raw/{dataset}/images.npz",
        indices="data/imbalanced/{dataset}/cut{cut}/train_indices.csv",
    output:
        "data/pixel_oversampled/{dataset}/cut{cut}/{pixel_sampler}.npz",
    log:
        "logs/oversample_pixels/{dataset}_cut{cut}_{pixel_sampler}.log",
    benchmark:
        "benchmarks/oversample_pixels/{dataset}_cut{cut}_{pixel_sampler}.tsv"
    wildcard_constraints:
        pixel_sampler=_alternatives(PIXEL_SAMPLERS),
    params:
        sampler=pixel_sampler_params,
        code=code("oversample_pixels.py"),
    threads: 1
    resources:
        mem_mb=16000,
        runtime=240,
    script:
        "../scripts/oversample_pixels.py"


rule train_pixel_backbone:
    input:
        images="data/raw/{dataset}/images.npz",
        indices="data/imbalanced/{dataset}/cut{cut}/train_indices.csv",
        test_indices="data/imbalanced/{dataset}/cut{cut}/test_indices.csv",
        balanced=pixel_training_set,
    output:
        model="data/pixel_backbones/{dataset}/cut{cut}/{pixel_method}/backbone.pt",
        history="data/pixel_backbones/{dataset}/cut{cut}/{pixel_method}/training_log.csv",
        predictions="data/pixel_backbones/{dataset}/cut{cut}/{pixel_method}/test_predictions.parquet",
    log:
        "logs/train_pixel_backbone/{dataset}_cut{cut}_{pixel_method}.log",
    benchmark:
        "benchmarks/train_pixel_backbone/{dataset}_cut{cut}_{pixel_method}.tsv"
    wildcard_constraints:
        pixel_method=_alternatives(RUN_PIXEL_METHODS),
    params:
        hp=pixel_train_params,
        code=code("train_pixel_backbone.py"),
    threads: 4
    resources:
        mem_mb=16000,
        runtime=1440,
        gpu=1,
    script:
        "../scripts/train_pixel_backbone.py"


rule evaluate_pixel_run:
    input:
        expand(
            "data/pixel_backbones/{{dataset}}/cut{{cut}}/{pixel_method}/test_predictions.parquet",
            pixel_method=PIXEL_METHODS,
        ),
    output:
        "data/pixel_metrics/{dataset}/cut{cut}/metrics.csv",
    log:
        "logs/evaluate_pixel_run/{dataset}_cut{cut}.log",
    benchmark:
        "benchmarks/evaluate_pixel_run/{dataset}_cut{cut}.tsv"
    params:
        methods=[f"pre_{m}" for m in PIXEL_METHODS],
        code=code("evaluate_pixel_run.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/evaluate_pixel_run.py"
