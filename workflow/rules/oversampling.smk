# Phase 2b: oversample the train embeddings to full balance in latent space.


rule oversample_embeddings:
    input:
        "data/embeddings/{dataset}/cut{cut}/{loss}/train.parquet",
    output:
        "data/oversampled/{dataset}/cut{cut}/{loss}/{sampler}.parquet",
    log:
        "logs/oversample_embeddings/{dataset}_cut{cut}_{loss}_{sampler}.log",
    benchmark:
        "benchmarks/oversample_embeddings/{dataset}_cut{cut}_{loss}_{sampler}.tsv"
    params:
        sampler=sampler_params,
        code=code("oversample_embeddings.py"),
    threads: 1  # neighbour searches on 64-d embeddings are fast; SVC is single-threaded
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/oversample_embeddings.py"
