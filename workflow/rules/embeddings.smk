# Phase 2a: 64-d penultimate features of the train (imbalanced) and test images, as Parquet.


rule export_embeddings:
    input:
        unpack(cut_data),
        backbone="data/backbones/{dataset}/cut{cut}/{loss}/backbone.pt",
    output:
        train="data/embeddings/{dataset}/cut{cut}/{loss}/train.parquet",
        test="data/embeddings/{dataset}/cut{cut}/{loss}/test.parquet",
    log:
        "logs/export_embeddings/{dataset}_cut{cut}_{loss}.log",
    benchmark:
        "benchmarks/export_embeddings/{dataset}_cut{cut}_{loss}.tsv"
    params:
        device=lambda wc: dataset_training(wc.dataset)["device"],
        code=code("export_embeddings.py"),
    threads: 2
    resources:
        mem_mb=8000,
        runtime=30,
        gpu=1,
    script:
        "../scripts/export_embeddings.py"
