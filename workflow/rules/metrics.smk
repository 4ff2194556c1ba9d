# Test-set metrics of one run (dataset x cut x loss): the phase-1 network as trained ("baseline",
# from the test embeddings' pred column), every retrained head and the decoupling baselines (cRT: the ros
# head; tau_norm: rule tau_normalise), in one tidy CSV.


def method_predictions(wildcards):
    """evaluate_run's head inputs: the test predictions of every method of TABLE2_METHODS after the
    baseline, in that order (cRT reads the ros head; with ros also among the samplers both columns show it)."""
    base = f"data/heads/{wildcards.dataset}/cut{wildcards.cut}/{wildcards.loss}"
    return [f"{base}/{method_folder(m)}/test_predictions.parquet" for m in TABLE2_METHODS[1:]]


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
