# Phase 1: train the CNN (feature extractor + head) on the imbalanced images with one loss.


rule train_backbone:
    input:
        unpack(cut_data),
    output:
        model="data/backbones/{dataset}/cut{cut}/{loss}/backbone.pt",
        history="data/backbones/{dataset}/cut{cut}/{loss}/training_log.csv",
    log:
        "logs/train_backbone/{dataset}_cut{cut}_{loss}.log",
    benchmark:
        "benchmarks/train_backbone/{dataset}_cut{cut}_{loss}.tsv"
    params:
        hp=backbone_params,
        code=code("train_backbone.py"),
    threads: 4
    resources:
        mem_mb=16000,
        runtime=720,
        gpu=1,
    script:
        "../scripts/train_backbone.py"
