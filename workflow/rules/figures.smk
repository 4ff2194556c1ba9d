# EOS paper figures and Table I / run-time table; each a PNG (or table) plus the CSV of what it shows.


rule fig3_generalization_gap:
    input:
        unpack(lambda wc: runs_input(dataset_runs(wc.dataset), ["train", "test", "oversampled"])),
    output:
        png=report("reports/fig3_{dataset}.png", caption="../report/fig3.rst", category="EOS paper",
                   subcategory="Fig. 3", labels={"figure": "3", "dataset": "{dataset}"}),
        csv="reports/fig3_{dataset}.csv",
    log:
        "logs/fig3_generalization_gap/{dataset}.log",
    benchmark:
        "benchmarks/fig3_generalization_gap/{dataset}.tsv"
    params:
        runs=lambda wc: runs_meta(dataset_runs(wc.dataset)),
        methods=METHODS,
        title=lambda wc: TITLES[wc.dataset],
        code=code("fig3_generalization_gap.py"),
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    localrule: True
    script:
        "../scripts/fig3_generalization_gap.py"


rule fig4_gap_tp_fp:
    input:
        unpack(lambda wc: runs_input([r for d in DATASETS for r in dataset_runs(d)], ["train", "test"])),
    output:
        png=report("reports/fig4.png", caption="../report/fig4.rst", category="EOS paper", subcategory="Fig. 4",
                   labels={"figure": "4"}),
        csv="reports/fig4.csv",
    log:
        "logs/fig4_gap_tp_fp/fig4.log",
    benchmark:
        "benchmarks/fig4_gap_tp_fp/fig4.tsv"
    params:
        runs=runs_meta([r for d in DATASETS for r in dataset_runs(d)]),
        titles={d: TITLES[d] for d in DATASETS},
        code=code("fig4_gap_tp_fp.py"),
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    localrule: True
    script:
        "../scripts/fig4_gap_tp_fp.py"


rule fig5_weight_norms:
    input:
        unpack(lambda wc: runs_input(dataset_runs(wc.dataset), ["backbone", "heads"])),
    output:
        png=report("reports/fig5_{dataset}.png", caption="../report/fig5.rst", category="EOS paper",
                   subcategory="Fig. 5", labels={"figure": "5", "dataset": "{dataset}"}),
        csv="reports/fig5_{dataset}.csv",
    log:
        "logs/fig5_weight_norms/{dataset}.log",
    benchmark:
        "benchmarks/fig5_weight_norms/{dataset}.tsv"
    params:
        runs=lambda wc: runs_meta(dataset_runs(wc.dataset)),
        methods=METHODS,
        title=lambda wc: TITLES[wc.dataset],
        code=code("fig5_weight_norms.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/fig5_weight_norms.py"


rule fig6_tsne:
    input:
        unpack(lambda wc: runs_input(_tsne_run(), ["train", "oversampled"])),
    output:
        png=report("reports/fig6.png", caption="../report/fig6.rst", category="EOS paper", subcategory="Fig. 6",
                   labels={"figure": "6"}),
        csv="reports/fig6.csv",
    log:
        "logs/fig6_tsne/fig6.log",
    benchmark:
        "benchmarks/fig6_tsne/fig6.tsv"
    params:
        runs=lambda wc: runs_meta(_tsne_run()),
        methods=METHODS,
        tsne=dict(config["analysis"]["tsne"]),
        title=lambda wc: TITLES[tsne_choice()[0]],
        seed=config["seed"],
        code=code("fig6_tsne.py"),
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/fig6_tsne.py"


rule fig7_head_curve:
    input:
        unpack(lambda wc: runs_input(_curve_runs(), ["test", "oversampled"])),
    output:
        png=report("reports/fig7.png", caption="../report/fig7.rst", category="EOS paper", subcategory="Fig. 7",
                   labels={"figure": "7"}),
        csv="reports/fig7.csv",
    log:
        "logs/fig7_head_curve/fig7.log",
    benchmark:
        "benchmarks/fig7_head_curve/fig7.tsv"
    params:
        runs=lambda wc: runs_meta(_curve_runs()),
        titles={d: TITLES[d] for d in DATASETS},
        curve=dict(config["analysis"]["head_curve"]),
        head_training=HEAD_TRAINING,
        head_loss=head_loss(config["analysis"]["head_curve"]["loss"]),
        loss_options=loss_options_of(head_loss(config["analysis"]["head_curve"]["loss"])),
        seed=config["seed"],
        code=code("fig7_head_curve.py"),
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/fig7_head_curve.py"


rule table1:
    input:
        table1_inputs,
    output:
        csv=report("reports/table1.csv", caption="../report/table1.rst", category="EOS paper",
                   subcategory="Table I", labels={"table": "I"}),
        md="reports/table1.md",
    log:
        "logs/table1/table1.log",
    benchmark:
        "benchmarks/table1/table1.tsv"
    params:
        datasets=DATASETS,
        methods=[f"pre_{m}" for m in PIXEL_METHODS] + [s for s in ("smote", "bsmote", "balsvm") if s in SAMPLERS],
        titles=TITLES,
        code=code("table1.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/table1.py"


rule runtime_table:
    input:
        unpack(lambda wc: flatten({"benchmarks": runtime_benchmarks()})),
    output:
        report("reports/runtime.csv", caption="../report/runtime.rst", category="EOS paper",
               subcategory="Efficiency", labels={"table": "run time"}),
    log:
        "logs/runtime_table/runtime.log",
    benchmark:
        "benchmarks/runtime_table/runtime.tsv"
    params:
        code=code("runtime_table.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/runtime_table.py"


rule eos_paper:
    input:
        "reports/table1.csv",
        "reports/table2.csv",
        "reports/table2_class_counts.csv",
        "reports/table2_shots.csv",
        expand("reports/fig3_{dataset}.png", dataset=DATASETS),
        "reports/fig4.png",
        expand("reports/fig5_{dataset}.png", dataset=DATASETS),
        "reports/fig6.png",
        "reports/fig7.png",
        "reports/runtime.csv",
        "reports/table3.csv",
        expand("reports/fig_gan_samples_{dataset}.png", dataset=DATASETS),
        "reports/table4.csv",
        "reports/table5.csv",
        "reports/pixel_eos.csv",
        "reports/eos_variants.csv",
