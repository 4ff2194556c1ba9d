# Tables and figures of the tabular study.  analyse_* rules read the per-run model files once into tidy
# CSVs under data/tabular/analysis/; each reports/da/* and reports/magnitude/* artifact is then one rule
# named after it (da_<artifact>_<what>, magnitude_<artifact>_<what>), with a script of the same name, and
# registered in the HTML report with its caption (workflow/report/<rule name>.rst).


TAB_AN = TAB["analysis"]
TAB_METRICS = expand("data/tabular/metrics/{tabular}/run{run}.csv", tabular=TAB_DATASETS, run=TAB_RUNS)
TAB_REPORT_DA = "How Data Augmentation Works (tabular)"
TAB_REPORT_MAGNITUDE = "Latent Feature Magnitude (tabular)"
# Tables III and IV list your own samplers under the table (name, class, package, version, params): a param
# ``custom`` only where tabular.oversampling.custom has entries, so that the default plan's params stay as
# they were
TAB_OWN_LABELS = {"custom": custom_labels(TAB_CUSTOM)} if TAB_CUSTOM else {}


def tab_runs():
    """(dataset, run) of every tabular run."""
    return [(d, r) for d in TAB_DATASETS for r in TAB_RUNS]


def tab_runs_input(keys, models=("svm", "lg", "nn")):
    """Named inputs ``runs/<i>/<key>/...`` of every tabular run: the files under ``keys`` ('test', 'models',
    'predictions'), for ``models`` only; the script rebuilds the runs with pipeline_lib.infra.namedfiles.runs."""
    runs = []
    for d, r in tab_runs():
        files = tab_run(d, r)
        runs.append({k: ({m: files[k][m] for m in models} if isinstance(files[k], dict) else files[k]) for k in keys})
    return flatten({"runs": runs})


def tab_runs_meta():
    return [{"dataset": d, "run": int(r)} for d, r in tab_runs()]


def tab_figure_dataset():
    fig = TAB["analysis"]["figure_dataset"]
    return fig if fig else ("ozone_level" if "ozone_level" in TAB_DATASETS else TAB_DATASETS[0])


rule analyse_support_vectors:
    input:
        unpack(lambda wc: tab_runs_input(["models"], ["svm"])),
    output:
        "data/tabular/analysis/support_vectors.csv",
    log:
        "logs/analyse_support_vectors/support_vectors.log",
    benchmark:
        "benchmarks/analyse_support_vectors/support_vectors.tsv"
    params:
        runs=tab_runs_meta(),
        options=dict(mode=TAB_AN["sv_bookkeeping"]),
        code=code("analyse_support_vectors.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/analyse_support_vectors.py"


rule analyse_weights:
    input:
        unpack(lambda wc: tab_runs_input(["models"], ["lg", "nn"])),
    output:
        "data/tabular/analysis/weights.csv",
    log:
        "logs/analyse_weights/weights.log",
    benchmark:
        "benchmarks/analyse_weights/weights.tsv"
    params:
        runs=tab_runs_meta(),
        options=dict(eps=TAB_AN["weight_change_eps"]),
        code=code("analyse_weights.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/analyse_weights.py"


rule analyse_top_features:
    input:
        unpack(lambda wc: tab_runs_input(["test", "models", "predictions"], ["lg", "nn"])),
    output:
        "data/tabular/analysis/top_features.csv",
    log:
        "logs/analyse_top_features/top_features.log",
    benchmark:
        "benchmarks/analyse_top_features/top_features.tsv"
    params:
        runs=tab_runs_meta(),
        options=dict(how=TAB_AN["magnitude"]),
        code=code("analyse_top_features.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/analyse_top_features.py"


rule analyse_ce_counts:
    input:
        unpack(lambda wc: tab_runs_input(["test", "models", "predictions"], ["lg", "svm_linear"])),
    output:
        "data/tabular/analysis/ce_counts.csv",
    log:
        "logs/analyse_ce_counts/ce_counts.log",
    benchmark:
        "benchmarks/analyse_ce_counts/ce_counts.tsv"
    params:
        runs=tab_runs_meta(),
        options=dict(bias=TAB_AN["ce_bias"], instances=TAB_AN["ce_instances"]),
        code=code("analyse_ce_counts.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/analyse_ce_counts.py"


rule da_table1_datasets:
    input:
        unpack(lambda wc: {t: f"data/tabular/raw/{t}.parquet" for t in TAB_DATASETS}),
    output:
        csv=report("reports/da/table1.csv", caption="../report/da_table1_datasets.rst", category=TAB_REPORT_DA,
                   subcategory="Table 1", labels={"artifact": "table1"}),
        md="reports/da/table1.md",
    log:
        "logs/da_table1_datasets/table1.log",
    benchmark:
        "benchmarks/da_table1_datasets/table1.tsv"
    params:
        datasets=TAB_DATASETS,
        code=code("da_table1_datasets.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_table1_datasets.py"


rule da_table3_performance:
    input:
        files=TAB_METRICS,
    output:
        csv=report("reports/da/table3.csv", caption="../report/da_table3_performance.rst", category=TAB_REPORT_DA,
                   subcategory="Table 3", labels={"artifact": "table3"}),
        md="reports/da/table3.md",
    log:
        "logs/da_table3_performance/table3.log",
    benchmark:
        "benchmarks/da_table3_performance/table3.tsv"
    params:
        datasets=TAB_DATASETS,
        **TAB_OWN_LABELS,
        code=code("da_table3_performance.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_table3_performance.py"


rule da_table4_latent_vs_real:
    input:
        files=TAB_METRICS,
    output:
        csv=report("reports/da/table4.csv", caption="../report/da_table4_latent_vs_real.rst", category=TAB_REPORT_DA,
                   subcategory="Table 4", labels={"artifact": "table4"}),
        md="reports/da/table4.md",
    log:
        "logs/da_table4_latent_vs_real/table4.log",
    benchmark:
        "benchmarks/da_table4_latent_vs_real/table4.tsv"
    params:
        datasets=TAB_DATASETS,
        **TAB_OWN_LABELS,
        code=code("da_table4_latent_vs_real.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_table4_latent_vs_real.py"


rule da_table6_lg_weight_change:
    input:
        files=["data/tabular/analysis/weights.csv"],
    output:
        csv=report("reports/da/table6.csv", caption="../report/da_table6_lg_weight_change.rst", category=TAB_REPORT_DA,
                   subcategory="Table 6", labels={"artifact": "table6"}),
        md="reports/da/table6.md",
    log:
        "logs/da_table6_lg_weight_change/table6.log",
    benchmark:
        "benchmarks/da_table6_lg_weight_change/table6.tsv"
    params:
        datasets=TAB_DATASETS,
        eps=TAB_AN["weight_change_eps"],
        code=code("da_table6_lg_weight_change.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_table6_lg_weight_change.py"


rule da_table7_nn_weight_change:
    input:
        files=["data/tabular/analysis/weights.csv"],
    output:
        csv=report("reports/da/table7.csv", caption="../report/da_table7_nn_weight_change.rst", category=TAB_REPORT_DA,
                   subcategory="Table 7", labels={"artifact": "table7"}),
        md="reports/da/table7.md",
    log:
        "logs/da_table7_nn_weight_change/table7.log",
    benchmark:
        "benchmarks/da_table7_nn_weight_change/table7.tsv"
    params:
        datasets=TAB_DATASETS,
        eps=TAB_AN["weight_change_eps"],
        code=code("da_table7_nn_weight_change.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_table7_nn_weight_change.py"


rule da_table9_lg_top_features:
    input:
        files=["data/tabular/analysis/top_features.csv"],
    output:
        csv=report("reports/da/table9.csv", caption="../report/da_table9_lg_top_features.rst", category=TAB_REPORT_DA,
                   subcategory="Table 9", labels={"artifact": "table9"}),
        md="reports/da/table9.md",
    log:
        "logs/da_table9_lg_top_features/table9.log",
    benchmark:
        "benchmarks/da_table9_lg_top_features/table9.tsv"
    params:
        datasets=TAB_DATASETS,
        top_k=TAB_AN["top_k"],
        code=code("da_table9_lg_top_features.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_table9_lg_top_features.py"


rule da_table10_nn_top_features:
    input:
        files=["data/tabular/analysis/top_features.csv"],
    output:
        csv=report("reports/da/table10.csv", caption="../report/da_table10_nn_top_features.rst", category=TAB_REPORT_DA,
                   subcategory="Table 10", labels={"artifact": "table10"}),
        md="reports/da/table10.md",
    log:
        "logs/da_table10_nn_top_features/table10.log",
    benchmark:
        "benchmarks/da_table10_nn_top_features/table10.tsv"
    params:
        datasets=TAB_DATASETS,
        top_k=TAB_AN["top_k"],
        code=code("da_table10_nn_top_features.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_table10_nn_top_features.py"


rule da_fig1_balancing_vs_interpolation:
    input:
        files=TAB_METRICS,
    output:
        png=report("reports/da/fig1.png", caption="../report/da_fig1_balancing_vs_interpolation.rst", category=TAB_REPORT_DA,
                   subcategory="Fig. 1", labels={"artifact": "fig1"}),
        csv="reports/da/fig1.csv",
    log:
        "logs/da_fig1_balancing_vs_interpolation/fig1.log",
    benchmark:
        "benchmarks/da_fig1_balancing_vs_interpolation/fig1.tsv"
    params:
        code=code("da_fig1_balancing_vs_interpolation.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_fig1_balancing_vs_interpolation.py"


rule da_fig2_sv_multiple:
    input:
        files=["data/tabular/analysis/support_vectors.csv"],
    output:
        png=report("reports/da/fig2.png", caption="../report/da_fig2_sv_multiple.rst", category=TAB_REPORT_DA,
                   subcategory="Fig. 2", labels={"artifact": "fig2"}),
        csv="reports/da/fig2.csv",
    log:
        "logs/da_fig2_sv_multiple/fig2.log",
    benchmark:
        "benchmarks/da_fig2_sv_multiple/fig2.tsv"
    params:
        code=code("da_fig2_sv_multiple.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_fig2_sv_multiple.py"


rule da_fig3_sv_class_ratio:
    input:
        files=["data/tabular/analysis/support_vectors.csv"],
    output:
        png=report("reports/da/fig3.png", caption="../report/da_fig3_sv_class_ratio.rst", category=TAB_REPORT_DA,
                   subcategory="Fig. 3", labels={"artifact": "fig3"}),
        csv="reports/da/fig3.csv",
    log:
        "logs/da_fig3_sv_class_ratio/fig3.log",
    benchmark:
        "benchmarks/da_fig3_sv_class_ratio/fig3.tsv"
    params:
        code=code("da_fig3_sv_class_ratio.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_fig3_sv_class_ratio.py"


rule da_fig4_sv_dual_coef_ratio:
    input:
        files=["data/tabular/analysis/support_vectors.csv"],
    output:
        png=report("reports/da/fig4.png", caption="../report/da_fig4_sv_dual_coef_ratio.rst", category=TAB_REPORT_DA,
                   subcategory="Fig. 4", labels={"artifact": "fig4"}),
        csv="reports/da/fig4.csv",
    log:
        "logs/da_fig4_sv_dual_coef_ratio/fig4.log",
    benchmark:
        "benchmarks/da_fig4_sv_dual_coef_ratio/fig4.tsv"
    params:
        code=code("da_fig4_sv_dual_coef_ratio.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_fig4_sv_dual_coef_ratio.py"


rule da_fig5_sv_new_share:
    input:
        files=["data/tabular/analysis/support_vectors.csv"],
    output:
        png=report("reports/da/fig5.png", caption="../report/da_fig5_sv_new_share.rst", category=TAB_REPORT_DA,
                   subcategory="Fig. 5", labels={"artifact": "fig5"}),
        csv="reports/da/fig5.csv",
    log:
        "logs/da_fig5_sv_new_share/fig5.log",
    benchmark:
        "benchmarks/da_fig5_sv_new_share/fig5.tsv"
    params:
        code=code("da_fig5_sv_new_share.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_fig5_sv_new_share.py"


rule da_fig6_sv_synthetic_share:
    input:
        files=["data/tabular/analysis/support_vectors.csv"],
    output:
        png=report("reports/da/fig6.png", caption="../report/da_fig6_sv_synthetic_share.rst", category=TAB_REPORT_DA,
                   subcategory="Fig. 6", labels={"artifact": "fig6"}),
        csv="reports/da/fig6.csv",
    log:
        "logs/da_fig6_sv_synthetic_share/fig6.log",
    benchmark:
        "benchmarks/da_fig6_sv_synthetic_share/fig6.tsv"
    params:
        code=code("da_fig6_sv_synthetic_share.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_fig6_sv_synthetic_share.py"


rule da_fig7_lg_weight_norms:
    input:
        files=["data/tabular/analysis/weights.csv"],
    output:
        png=report("reports/da/fig7.png", caption="../report/da_fig7_lg_weight_norms.rst", category=TAB_REPORT_DA,
                   subcategory="Fig. 7", labels={"artifact": "fig7"}),
        csv="reports/da/fig7.csv",
    log:
        "logs/da_fig7_lg_weight_norms/fig7.log",
    benchmark:
        "benchmarks/da_fig7_lg_weight_norms/fig7.tsv"
    params:
        code=code("da_fig7_lg_weight_norms.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_fig7_lg_weight_norms.py"


rule da_fig8_nn_majority_norms:
    input:
        files=["data/tabular/analysis/weights.csv"],
    output:
        png=report("reports/da/fig8.png", caption="../report/da_fig8_nn_majority_norms.rst", category=TAB_REPORT_DA,
                   subcategory="Fig. 8", labels={"artifact": "fig8"}),
        csv="reports/da/fig8.csv",
    log:
        "logs/da_fig8_nn_majority_norms/fig8.log",
    benchmark:
        "benchmarks/da_fig8_nn_majority_norms/fig8.tsv"
    params:
        code=code("da_fig8_nn_majority_norms.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_fig8_nn_majority_norms.py"


rule da_fig9_nn_minority_norms:
    input:
        files=["data/tabular/analysis/weights.csv"],
    output:
        png=report("reports/da/fig9.png", caption="../report/da_fig9_nn_minority_norms.rst", category=TAB_REPORT_DA,
                   subcategory="Fig. 9", labels={"artifact": "fig9"}),
        csv="reports/da/fig9.csv",
    log:
        "logs/da_fig9_nn_minority_norms/fig9.log",
    benchmark:
        "benchmarks/da_fig9_nn_minority_norms/fig9.tsv"
    params:
        code=code("da_fig9_nn_minority_norms.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_fig9_nn_minority_norms.py"


rule da_fig11_lg_top_features:
    input:
        files=["data/tabular/analysis/top_features.csv"],
    output:
        png=report("reports/da/fig11.png", caption="../report/da_fig11_lg_top_features.rst", category=TAB_REPORT_DA,
                   subcategory="Fig. 11", labels={"artifact": "fig11"}),
        csv="reports/da/fig11.csv",
    log:
        "logs/da_fig11_lg_top_features/fig11.log",
    benchmark:
        "benchmarks/da_fig11_lg_top_features/fig11.tsv"
    params:
        dataset=tab_figure_dataset(),
        figure_top_k=TAB_AN["figure_top_k"],
        code=code("da_fig11_lg_top_features.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_fig11_lg_top_features.py"


rule da_fig12_nn_top_features:
    input:
        files=["data/tabular/analysis/top_features.csv"],
    output:
        png=report("reports/da/fig12.png", caption="../report/da_fig12_nn_top_features.rst", category=TAB_REPORT_DA,
                   subcategory="Fig. 12", labels={"artifact": "fig12"}),
        csv="reports/da/fig12.csv",
    log:
        "logs/da_fig12_nn_top_features/fig12.log",
    benchmark:
        "benchmarks/da_fig12_nn_top_features/fig12.tsv"
    params:
        dataset=tab_figure_dataset(),
        figure_top_k=TAB_AN["figure_top_k"],
        code=code("da_fig12_nn_top_features.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/da_fig12_nn_top_features.py"


rule magnitude_fig2_lg_ce_needed:
    input:
        files=["data/tabular/analysis/ce_counts.csv"],
    output:
        png=report("reports/magnitude/fig2.png", caption="../report/magnitude_fig2_lg_ce_needed.rst", category=TAB_REPORT_MAGNITUDE,
                   subcategory="Fig. 2", labels={"artifact": "fig2"}),
        csv="reports/magnitude/fig2.csv",
    log:
        "logs/magnitude_fig2_lg_ce_needed/fig2.log",
    benchmark:
        "benchmarks/magnitude_fig2_lg_ce_needed/fig2.tsv"
    params:
        code=code("magnitude_fig2_lg_ce_needed.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/magnitude_fig2_lg_ce_needed.py"


rule magnitude_fig3_svm_ce_needed:
    input:
        files=["data/tabular/analysis/ce_counts.csv"],
    output:
        png=report("reports/magnitude/fig3.png", caption="../report/magnitude_fig3_svm_ce_needed.rst", category=TAB_REPORT_MAGNITUDE,
                   subcategory="Fig. 3", labels={"artifact": "fig3"}),
        csv="reports/magnitude/fig3.csv",
    log:
        "logs/magnitude_fig3_svm_ce_needed/fig3.log",
    benchmark:
        "benchmarks/magnitude_fig3_svm_ce_needed/fig3.tsv"
    params:
        code=code("magnitude_fig3_svm_ce_needed.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/magnitude_fig3_svm_ce_needed.py"


rule magnitude_fig4_instance_vs_class:
    input:
        files=["data/tabular/analysis/ce_counts.csv"],
    output:
        png=report("reports/magnitude/fig4.png", caption="../report/magnitude_fig4_instance_vs_class.rst", category=TAB_REPORT_MAGNITUDE,
                   subcategory="Fig. 4", labels={"artifact": "fig4"}),
        csv="reports/magnitude/fig4.csv",
    log:
        "logs/magnitude_fig4_instance_vs_class/fig4.log",
    benchmark:
        "benchmarks/magnitude_fig4_instance_vs_class/fig4.tsv"
    params:
        code=code("magnitude_fig4_instance_vs_class.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    localrule: True
    script:
        "../scripts/magnitude_fig4_instance_vs_class.py"


rule da_tabular:
    input:
        "reports/da/table1.csv",
        "reports/da/table1.md",
        "reports/da/table3.csv",
        "reports/da/table3.md",
        "reports/da/table4.csv",
        "reports/da/table4.md",
        "reports/da/table6.csv",
        "reports/da/table6.md",
        "reports/da/table7.csv",
        "reports/da/table7.md",
        "reports/da/table9.csv",
        "reports/da/table9.md",
        "reports/da/table10.csv",
        "reports/da/table10.md",
        "reports/da/fig1.png",
        "reports/da/fig1.csv",
        "reports/da/fig2.png",
        "reports/da/fig2.csv",
        "reports/da/fig3.png",
        "reports/da/fig3.csv",
        "reports/da/fig4.png",
        "reports/da/fig4.csv",
        "reports/da/fig5.png",
        "reports/da/fig5.csv",
        "reports/da/fig6.png",
        "reports/da/fig6.csv",
        "reports/da/fig7.png",
        "reports/da/fig7.csv",
        "reports/da/fig8.png",
        "reports/da/fig8.csv",
        "reports/da/fig9.png",
        "reports/da/fig9.csv",
        "reports/da/fig11.png",
        "reports/da/fig11.csv",
        "reports/da/fig12.png",
        "reports/da/fig12.csv",



rule magnitude_tabular:
    input:
        "reports/magnitude/fig2.png",
        "reports/magnitude/fig2.csv",
        "reports/magnitude/fig3.png",
        "reports/magnitude/fig3.csv",
        "reports/magnitude/fig4.png",
        "reports/magnitude/fig4.csv",
