# Data: the source dataset as uint8 arrays, then the long-tailed training subset of each cut.


rule fetch_dataset:
    output:
        "data/raw/{dataset}/images.npz",
    log:
        "logs/fetch_dataset/{dataset}.log",
    benchmark:
        "benchmarks/fetch_dataset/{dataset}.tsv"
    params:
        source=fetch_params,
        code=code("fetch_dataset.py"),
    threads: 1
    resources:
        mem_mb=16000,
        runtime=120,
    localrule: True  # downloads need the network of the login node
    script:
        "../scripts/fetch_dataset.py"


rule imbalance_dataset:
    input:
        "data/raw/{dataset}/images.npz",
    output:
        "data/imbalanced/{dataset}/cut{cut}/train_indices.csv",
    log:
        "logs/imbalance_dataset/{dataset}_cut{cut}.log",
    benchmark:
        "benchmarks/imbalance_dataset/{dataset}_cut{cut}.tsv"
    params:
        imbalance=lambda wc: dict(config["datasets"][wc.dataset]["imbalance"]),
        code=code("imbalance_dataset.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/imbalance_dataset.py"
