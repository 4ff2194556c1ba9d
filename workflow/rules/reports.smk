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
        methods=METHODS,
        titles={d: ds.get("title", d) for d, ds in config["datasets"].items()},
        code=code_hash("reports"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/table2.py"
