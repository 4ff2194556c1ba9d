# Test-set metrics of one run (dataset x cut x loss): the phase-1 network as trained ("baseline",
# from the test embeddings' pred column), every retrained head and the decoupling baselines (cRT: the ros
# head; tau_norm: rule tau_normalise), in one tidy CSV.


rule evaluate_run:
    input:
        baseline="data/embeddings/{dataset}/cut{cut}/{loss}/test.parquet",
        heads=method_predictions,
    output:
        "data/metrics/{dataset}/cut{cut}/{loss}/metrics.csv",
    log:
        "logs/evaluate_run/{dataset}_cut{cut}_{loss}.log",
    benchmark:
        "benchmarks/evaluate_run/{dataset}_cut{cut}_{loss}.tsv"
    params:
        methods=TABLE2_METHODS,
        code=code("evaluate_run.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/evaluate_run.py"
