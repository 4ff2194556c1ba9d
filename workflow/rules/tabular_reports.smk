# Tables and figures of the tabular study.  analyse_* rules read the per-run model files once into tidy
# CSVs under data/tabular/analysis/; each reports/da/* and reports/magnitude/* artifact is then one rule
# named after it (da_<artifact>_<what>, magnitude_<artifact>_<what>) that aggregates a CSV.

TAB_AN = TAB["analysis"]
TAB_METRICS = expand("data/tabular/metrics/{tabular}/run{run}.csv", tabular=TAB_DATASETS, run=TAB_RUNS)

ANALYSES = {  # output name -> (files of every run it reads, of which models, its options)
    "support_vectors": (["models"], ["svm"], {"mode": TAB_AN["sv_bookkeeping"]}),
    "weights": (["models"], ["lg", "nn"], {"eps": TAB_AN["weight_change_eps"]}),
    "top_features": (["test", "models", "predictions"], ["lg", "nn"], {"how": TAB_AN["magnitude"]}),
    "ce_counts": (["test", "models", "predictions"], ["lg", "svm"],
                  {"bias": TAB_AN["ce_bias"], "instances": TAB_AN["ce_instances"]}),
}

def analysis_inputs(name, keys, models):
    """Input files of analyse_<name>; the CE analysis needs the SVM's coef_, i.e. a linear kernel."""
    if name == "ce_counts" and TAB["svm"]["kernel"] != "linear":
        raise WorkflowError(f"config error: tabular.svm.kernel = {TAB['svm']['kernel']!r}: the magnitude "
                            "analysis (data/tabular/analysis/ce_counts.csv) needs kernel 'linear'")
    return tab_files(keys, models)


for _name, (_keys, _models, _options) in ANALYSES.items():

    rule:
        name:
            f"analyse_{_name}"
        input:
            lambda wc, n=_name, k=_keys, m=_models: analysis_inputs(n, k, m),
        output:
            f"data/tabular/analysis/{_name}.csv",
        log:
            f"logs/analyse_{_name}/{_name}.log",
        benchmark:
            f"benchmarks/analyse_{_name}/{_name}.tsv"
        params:
            analysis=_name,
            runs=tab_runs(),
            options=_options,
            code=code_hash("tabular_reports", "analysis", "tabular", "models", "heads", "embeddings"),
        threads: 1
        resources:
            mem_mb=4000,
            runtime=30,
        script:
            "../scripts/tabular_report.py"


def _analysis(name):
    return f"data/tabular/analysis/{name}.csv"


_TABLE = ["csv", "md"]
_FIGURE = ["png", "csv"]
# artifact -> (rule name, folder, output kinds, inputs, extra params)
TAB_ARTIFACTS = {
    "table1": ("da_table1_datasets", "da", _TABLE, expand("data/tabular/raw/{t}.parquet", t=TAB_DATASETS),
               {"raw_files": {t: f"data/tabular/raw/{t}.parquet" for t in TAB_DATASETS}}),
    "table3": ("da_table3_performance", "da", _TABLE, TAB_METRICS, {"datasets": TAB_DATASETS}),
    "table4": ("da_table4_latent_vs_real", "da", _TABLE, TAB_METRICS, {"datasets": TAB_DATASETS}),
    "table6": ("da_table6_lg_weight_change", "da", _TABLE, [_analysis("weights")],
               {"datasets": TAB_DATASETS, "eps": TAB_AN["weight_change_eps"]}),
    "table7": ("da_table7_nn_weight_change", "da", _TABLE, [_analysis("weights")],
               {"datasets": TAB_DATASETS, "eps": TAB_AN["weight_change_eps"]}),
    "table9": ("da_table9_lg_top_features", "da", _TABLE, [_analysis("top_features")],
               {"datasets": TAB_DATASETS, "top_k": TAB_AN["top_k"]}),
    "table10": ("da_table10_nn_top_features", "da", _TABLE, [_analysis("top_features")],
                {"datasets": TAB_DATASETS, "top_k": TAB_AN["top_k"]}),
    "fig1": ("da_fig1_balancing_vs_interpolation", "da", _FIGURE, TAB_METRICS, {}),
    "fig2": ("da_fig2_sv_multiple", "da", _FIGURE, [_analysis("support_vectors")], {}),
    "fig3": ("da_fig3_sv_class_ratio", "da", _FIGURE, [_analysis("support_vectors")], {}),
    "fig4": ("da_fig4_sv_dual_coef_ratio", "da", _FIGURE, [_analysis("support_vectors")], {}),
    "fig5": ("da_fig5_sv_new_share", "da", _FIGURE, [_analysis("support_vectors")], {}),
    "fig6": ("da_fig6_sv_synthetic_share", "da", _FIGURE, [_analysis("support_vectors")], {}),
    "fig7": ("da_fig7_lg_weight_norms", "da", _FIGURE, [_analysis("weights")], {}),
    "fig8": ("da_fig8_nn_majority_norms", "da", _FIGURE, [_analysis("weights")], {}),
    "fig9": ("da_fig9_nn_minority_norms", "da", _FIGURE, [_analysis("weights")], {}),
    "fig11": ("da_fig11_lg_top_features", "da", _FIGURE, [_analysis("top_features")],
              {"dataset": tab_figure_dataset(), "figure_top_k": TAB_AN["figure_top_k"]}),
    "fig12": ("da_fig12_nn_top_features", "da", _FIGURE, [_analysis("top_features")],
              {"dataset": tab_figure_dataset(), "figure_top_k": TAB_AN["figure_top_k"]}),
    "magnitude_fig2": ("magnitude_fig2_lg_ce_needed", "magnitude", _FIGURE, [_analysis("ce_counts")], {}),
    "magnitude_fig3": ("magnitude_fig3_svm_ce_needed", "magnitude", _FIGURE, [_analysis("ce_counts")], {}),
    "magnitude_fig4": ("magnitude_fig4_instance_vs_class", "magnitude", _FIGURE, [_analysis("ce_counts")], {}),
}


def tab_artifact_outputs(artifact):
    _, folder, kinds, _, _ = TAB_ARTIFACTS[artifact]
    stem = artifact.removeprefix("magnitude_")
    return {kind: f"reports/{folder}/{stem}.{kind}" for kind in kinds}


for _artifact, (_rule, _folder, _kinds, _inputs, _extra) in TAB_ARTIFACTS.items():

    rule:
        name:
            _rule
        input:
            _inputs,
        output:
            **tab_artifact_outputs(_artifact),
        log:
            f"logs/{_rule}/{_artifact}.log",
        benchmark:
            f"benchmarks/{_rule}/{_artifact}.tsv"
        params:
            artifact=_artifact,
            extra=_extra,
            code=code_hash("tabular_reports", "analysis", "figures", "reports", "tabular"),
        threads: 1
        resources:
            mem_mb=4000,
            runtime=10,
        localrule: True
        script:
            "../scripts/tabular_report.py"


def tab_artifacts(folder):
    return [f for a, spec in TAB_ARTIFACTS.items() if spec[1] == folder for f in tab_artifact_outputs(a).values()]


rule da_tabular:
    input:
        tab_artifacts("da"),


rule magnitude_tabular:
    input:
        tab_artifacts("magnitude"),
