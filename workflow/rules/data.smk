# Data: the source dataset as uint8 arrays, then each cut's long-tailed training draw and test set, and
# the balanced draw of the study's "Balanced" model.

from pipeline_lib.infra.config import check_balanced, fetch_settings, file_list_paths


rule fetch_dataset:
    input:
        # the file lists of every cut: their files are kept in the pools whatever pool_per_class
        lambda wc: sum(file_list_paths(run_config(), wc.dataset).values(), []),
    output:
        "data/raw/{dataset}/images.npz",
    log:
        "logs/fetch_dataset/{dataset}.log",
    benchmark:
        "benchmarks/fetch_dataset/{dataset}.tsv"
    params:
        source=lambda wc: fetch_settings(run_config(), wc.dataset),
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
        # the cut's two file lists (train_list, test_list) where the dataset has file_lists
        unpack(lambda wc: {f"{k}_list": v[0] for k, v in file_list_paths(run_config(), wc.dataset, wc.cut).items()}),
        images="data/raw/{dataset}/images.npz",
    output:
        train="data/imbalanced/{dataset}/cut{cut}/train_indices.csv",
        test="data/imbalanced/{dataset}/cut{cut}/test_indices.csv",
    log:
        "logs/imbalance_dataset/{dataset}_cut{cut}.log",
    benchmark:
        "benchmarks/imbalance_dataset/{dataset}_cut{cut}.tsv"
    params:
        imbalance=lambda wc: dict(dataset_config(wc.dataset)["imbalance"]),
        test_draw=lambda wc: dataset_config(wc.dataset)["test_draw"],
        file_lists=lambda wc: bool(dataset_config(wc.dataset)["file_lists"]),
        code=code("imbalance_dataset.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/imbalance_dataset.py"


rule balanced_draw:
    input:
        images="data/raw/{dataset}/images.npz",
        train="data/imbalanced/{dataset}/cut{cut}/train_indices.csv",
        test="data/imbalanced/{dataset}/cut{cut}/test_indices.csv",
    output:
        "data/balanced/{dataset}/cut{cut}/train_indices.csv",
    log:
        "logs/balanced_draw/{dataset}_cut{cut}.log",
    benchmark:
        "benchmarks/balanced_draw/{dataset}_cut{cut}.tsv"
    params:
        # the sizes, checked at plan time where the source's counts are known (one-line ConfigError)
        checked=lambda wc: check_balanced(run_config(), wc.dataset) or "sizes checked",
        code=code("balanced_draw.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/balanced_draw.py"
