# Phase 3: retrain a fresh linear head on the (oversampled) embeddings, predict the test embeddings.


rule retrain_head:
    input:
        train="data/oversampled/{dataset}/cut{cut}/{loss}/{sampler}.parquet",
        test="data/embeddings/{dataset}/cut{cut}/{loss}/test.parquet",
    output:
        head="data/heads/{dataset}/cut{cut}/{loss}/{sampler}/head.pt",
        predictions="data/heads/{dataset}/cut{cut}/{loss}/{sampler}/test_predictions.parquet",
        history="data/heads/{dataset}/cut{cut}/{loss}/{sampler}/training_log.csv",
    log:
        "logs/retrain_head/{dataset}_cut{cut}_{loss}_{sampler}.log",
    benchmark:
        "benchmarks/retrain_head/{dataset}_cut{cut}_{loss}_{sampler}.tsv"
    params:
        hp=head_params,
        code=code("retrain_head.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/retrain_head.py"
