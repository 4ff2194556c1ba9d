# Paper artifacts under reports/.


COUNT_METHODS = SAMPLERS + DECOUPLING  # the methods of reports/table2_class_counts


def count_runs_input(runs):
    """Named inputs ``runs/<i>/oversampled/<method>`` of runs [(dataset, cut, loss)] for the class-count
    table: each sampler's oversampled embeddings, cRT's the ros sampler's, tau-norm's the train embeddings
    (its head is the phase-1 one, trained on the imbalanced cut)."""
    def files(d, c, l):
        base = f"{d}/cut{c}/{l}"
        return {m: (f"data/embeddings/{base}/train.parquet" if m in ("tau_norm", "logit_adj")
                    else f"data/oversampled/{base}/{method_folder(m)}.parquet") for m in COUNT_METHODS}

    return flatten({"runs": [{"oversampled": files(d, c, l)} for d, c, l in runs]})


def shots_runs():
    """(dataset, cut, loss) of Table II's runs, in all_metrics() order."""
    return [(d, c, l) for d in DATASETS for c in CUTS for l in LOSSES]


rule table2:
    input:
        all_metrics(),
    output:
        csv=report("reports/table2.csv", caption="../report/table2.rst", category="EOS paper",
                   subcategory="Table II", labels={"table": "II"}),
        md="reports/table2.md",
    log:
        "logs/table2/table2.log",
    benchmark:
        "benchmarks/table2/table2.tsv"
    params:
        datasets=DATASETS,
        losses=LOSSES,
        methods=TABLE2_METHODS,
        titles=TITLES,
        custom=custom_labels(CUSTOM),
        code=code("table2.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/table2.py"


rule table2_class_counts:
    input:
        unpack(lambda wc: count_runs_input([(d, c, l) for d in DATASETS for l in LOSSES for c in CUTS])),
    output:
        csv=report("reports/table2_class_counts.csv", caption="../report/table2_class_counts.rst",
                   category="EOS paper", subcategory="Table II", labels={"table": "II, class counts"}),
        md="reports/table2_class_counts.md",
    log:
        "logs/table2_class_counts/table2_class_counts.log",
    benchmark:
        "benchmarks/table2_class_counts/table2_class_counts.tsv"
    params:
        runs=runs_meta([(d, c, l) for d in DATASETS for l in LOSSES for c in CUTS]),
        samplers=COUNT_METHODS,
        titles=TITLES,
        code=code("table2_class_counts.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/table2_class_counts.py"


# Table II's companion: many / medium / few-shot accuracy of every Table II method (config long_tail), and the
# per-class test recall with each class's training count


rule table2_shots:
    input:
        metrics=[f"data/metrics/{d}/cut{c}/{l}/metrics.csv" for d, c, l in shots_runs()],
        train=[f"data/embeddings/{d}/cut{c}/{l}/train.parquet" for d, c, l in shots_runs()],
    output:
        csv=report("reports/table2_shots.csv", caption="../report/table2_shots.rst", category="EOS paper",
                   subcategory="Table II", labels={"table": "II, many/medium/few-shot"}),
        per_class="reports/table2_per_class.csv",
        md="reports/table2_shots.md",
    log:
        "logs/table2_shots/table2_shots.log",
    benchmark:
        "benchmarks/table2_shots/table2_shots.tsv"
    params:
        runs=runs_meta(shots_runs()),
        datasets=DATASETS,
        losses=LOSSES,
        methods=TABLE2_METHODS,
        titles=TITLES,
        long_tail=dict(config["long_tail"]),
        code=code("table2_shots.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/table2_shots.py"
