# Paper artifacts under reports/.


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
        titles={d: ds.get("title", d) for d, ds in config["datasets"].items()},
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
        titles={d: ds.get("title", d) for d, ds in config["datasets"].items()},
        code=code("table2_class_counts.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/table2_class_counts.py"
