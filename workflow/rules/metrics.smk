# Test-set metrics of one run (dataset x cut x loss): the phase-1 network as trained ("baseline",
# from the test embeddings' pred column) and every retrained head, in one tidy CSV.


rule evaluate_run:
    input:
        baseline="data/embeddings/{dataset}/cut{cut}/{loss}/test.parquet",
        heads=expand(
            "data/heads/{{dataset}}/cut{{cut}}/{{loss}}/{sampler}/test_predictions.parquet",
            sampler=SAMPLERS,
        ),
    output:
        "data/metrics/{dataset}/cut{cut}/{loss}/metrics.csv",
    log:
        "logs/evaluate_run/{dataset}_cut{cut}_{loss}.log",
    benchmark:
        "benchmarks/evaluate_run/{dataset}_cut{cut}_{loss}.tsv"
    params:
        methods=METHODS,
        code=code("evaluate_run.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/evaluate_run.py"
