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
        code=code_hash("oversampling", "embeddings"),
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/oversample_embeddings.py"
