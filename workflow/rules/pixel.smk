# EOS paper Table I, pre-processing rows: oversample the IMAGES (flattened pixels) to full balance,
# or train with REMIX mini-batches, and train a cross-entropy backbone on that.


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
