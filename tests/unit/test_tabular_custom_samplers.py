"""Your own samplers in the tabular study (config tabular.oversampling.custom): the augmented file's rows and
metadata on a hand-made table, the NN's training rows, the plan-time checks (one line each) and the tables
and figures that show them under their own name."""
import io

import numpy as np
import pandas as pd
import pytest

from pipeline_lib.core import embeddings as emb
from pipeline_lib.infra.config import ConfigError, check_custom_samplers
from pipeline_lib.studies.tabular import reports as tr
from pipeline_lib.studies.tabular import runs as tabular

ADASYN = {"name": "my_adasyn", "class": "imblearn.over_sampling.ADASYN", "params": {"n_neighbors": 3}}
MY_ROS = {"name": "my_ros", "class": "imblearn.over_sampling.RandomOverSampler", "params": {}}
QUIET = {"log": lambda *_: None}


def record(entry):
    """The value of a custom method in split_augment_tabular's / train_tabular_nn's options (tabular.smk)."""
    from pipeline_lib.sampling.custom_samplers import describe

    d = describe(entry)
    return {"spec": dict(entry), "class": d["class"], "package": d["package"], "version": d["version"]}


def hand_made(tmp_path, n=60, minority=8, d=3):
    """A small train split: 52 majority rows around 0, 8 minority rows around 2; sample ids 100.."""
    rng = np.random.default_rng(0)
    y = (np.arange(n) < minority).astype(np.int64)
    X = rng.normal(size=(n, d)) + 2.0 * y[:, None]
    path = str(tmp_path / "train.parquet")
    emb.write_frame(path, tabular.frame(100 + np.arange(n), y, X), {"dataset": "toy", "run": 0, "split": "train"})
    return path, X, y


def test_custom_sampler_rows_are_imblearns_originals_first_with_their_ids(tmp_path):
    from imblearn.over_sampling import ADASYN as Adasyn

    train, X, y = hand_made(tmp_path)
    out = str(tmp_path / "my_adasyn.parquet")
    tabular.augment_stage(train, out, method="my_adasyn", options=record(ADASYN), seed=7, **QUIET)
    df, X_res, meta = tabular.read_table(out)
    ref_X, ref_y = Adasyn(n_neighbors=3, random_state=7).fit_resample(X, y)
    np.testing.assert_array_equal(X_res, ref_X)
    np.testing.assert_array_equal(df["label"], ref_y)
    n = len(y)
    np.testing.assert_array_equal(df["sample_id"][:n], 100 + np.arange(n))  # the originals first, unchanged
    assert not df["is_synthetic"][:n].any() and df["is_synthetic"][n:].all()
    assert (df["sample_id"][n:] == -1).all() and (df["label"][n:] == 1).all()


def test_augmented_file_metadata_name_class_package_version(tmp_path):
    import imblearn

    train, _, y = hand_made(tmp_path)
    out = str(tmp_path / "my_adasyn.parquet")
    tabular.augment_stage(train, out, method="my_adasyn", options=record(ADASYN), seed=7, **QUIET)
    _, _, meta = tabular.read_table(out)
    assert meta["method"] == meta["sampler"] == "my_adasyn" and meta["split"] == "train"
    assert meta["sampler_class"] == "imblearn.over_sampling.ADASYN" and meta["sampler_package"] == "imbalanced-learn"
    assert meta["sampler_version"] == imblearn.__version__
    assert meta["method_options"] == {"n_neighbors": 3} and meta["sampler_params"]["n_neighbors"] == 3
    assert meta["method_seed"] == meta["sampler_seed"] == 7 and meta["sampler_params"]["random_state"] == 7
    assert meta["n_original"] == len(y) and meta["class_counts_before"] == np.bincount(y).tolist()
    # a built-in's metadata stay as they were: no sampler record
    tabular.augment_stage(train, str(tmp_path / "smote.parquet"), method="smote", options={"k_neighbors": 3},
                          seed=7, **QUIET)
    _, _, smote = tabular.read_table(str(tmp_path / "smote.parquet"))
    assert not any(k.startswith("sampler") for k in smote)
    assert smote["method_options"] == {"k_neighbors": 3}


def test_a_custom_sampler_that_copies_rows_gets_ros_bookkeeping(tmp_path):
    """imbalanced-learn's RandomOverSampler by import path: its new rows copy originals, so they carry the
    original's sample id and are not synthetic, exactly as the built-in ros writes them."""
    train, _, _ = hand_made(tmp_path)
    tabular.augment_stage(train, str(tmp_path / "my_ros.parquet"), method="my_ros", options=record(MY_ROS), seed=3,
                          **QUIET)
    tabular.augment_stage(train, str(tmp_path / "ros.parquet"), method="ros", options={}, seed=3, **QUIET)
    mine, X_mine, _ = tabular.read_table(str(tmp_path / "my_ros.parquet"))
    ros, X_ros, _ = tabular.read_table(str(tmp_path / "ros.parquet"))
    np.testing.assert_array_equal(X_mine, X_ros)
    pd.testing.assert_frame_equal(mine[["sample_id", "label", "is_synthetic"]], ros[["sample_id", "label", "is_synthetic"]])
    assert not mine["is_synthetic"].any()


def test_copy_sources_tells_copies_from_new_rows():
    X = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    y = np.array([0, 1, 1])
    X_res = np.r_[X, [[2.0, 3.0], [3.0, 4.0], [0.0, 1.0]]]
    y_res = np.r_[y, [1, 1, 1]]  # a copy of row 1; a new row; row 0's features with another label: new
    source, syn = tabular.copy_sources(X, y, X_res, y_res)
    assert source.tolist() == [0, 1, 2, 1, -1, -1]
    assert syn.tolist() == [False, False, False, False, True, True]


def test_the_nn_augments_its_training_rows_with_the_custom_sampler(tmp_path):
    train, _, _ = hand_made(tmp_path, n=120, minority=20)
    df, X, _ = tabular.read_table(train)
    d = tabular.nn_training_set(df, X, method="my_adasyn", options=record(ADASYN), select_on="validation",
                                validation_fraction=0.2, seed=5)
    val = set(d["val_sample_id"].tolist())
    assert not val & set(d["sample_id"].tolist()) and d["is_synthetic"].any()
    fit = ~df["sample_id"].isin(val).to_numpy()
    X_res, y_res, _, _, _ = tabular.custom_augment(X[fit], df["label"].to_numpy()[fit], ADASYN, 5)
    np.testing.assert_array_equal(d["X"], X_res)
    np.testing.assert_array_equal(d["y"], y_res)


def test_a_sampler_that_drops_an_original_row_fails(tmp_path):
    train, _, _ = hand_made(tmp_path)
    under = {"name": "under", "class": "imblearn.under_sampling.RandomUnderSampler", "params": {}}
    with pytest.raises(ValueError, match="lacks an original row"):
        tabular.augment_stage(train, str(tmp_path / "under.parquet"), method="under", options=record(under), seed=0,
                              **QUIET)


# --- plan-time checks: one line each -------------------------------------------------------------------------

def tab_config(*entries):
    return {"samplers": ["eos"], "pixel_oversampling": {"methods": []},
            "tabular": {"oversampling": {"custom": list(entries)}}}


@pytest.mark.parametrize("entry, words", [
    ({"name": "bad", "class": "imblearn.over_sampling.NoSuch"}, "module 'imblearn.over_sampling' has no 'NoSuch'"),
    ({"name": "bad", "class": "no_such_pkg.Sampler"}, "cannot import module 'no_such_pkg'"),
    ({"name": "bad", "class": "imblearn.over_sampling.ADASYN", "params": {"k": 1}}, "params {'k': 1} not accepted"),
    ({"name": "bad", "class": "imblearn.over_sampling.ADASYN", "params": {"n_neighbors": 0}}, "rejected by"),
    ({"name": "bad", "class": "sklearn.svm.SVC"}, "sklearn.svm.SVC has no fit_resample"),
    ({"name": "adasyn", "class": "imblearn.over_sampling.ADASYN"}, "is taken by the tabular study"),
    ({"name": "cs", "class": "imblearn.over_sampling.ADASYN"}, "is taken by the tabular study"),
    ({"name": "dsm", "class": "imblearn.over_sampling.ADASYN"}, "is taken by the tabular study"),
    ({"name": "index", "class": "imblearn.over_sampling.ADASYN"}, "is kept by Snakemake"),
    ({"name": "eos_mine", "class": "imblearn.over_sampling.ADASYN"}, "must match"),
])
def test_bad_tabular_entries_stop_the_plan_with_one_line(entry, words):
    with pytest.raises(ConfigError) as err:
        check_custom_samplers(tab_config(ADASYN, entry))
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"tabular.oversampling.custom: sampler"), msg
    assert repr(entry["name"]) in msg and words in msg, msg


def test_good_tabular_entries_pass_and_names_may_repeat_across_spaces():
    check_custom_samplers(tab_config(ADASYN, MY_ROS))
    check_custom_samplers({**tab_config(ADASYN), "samplers": ["eos", ADASYN]})  # one name, two spaces
    with pytest.raises(ConfigError, match="used twice"):
        check_custom_samplers(tab_config(ADASYN, dict(MY_ROS, name="my_adasyn")))


def test_schema_default_is_no_custom_sampler_and_entries_validate():
    from conftest import REPO
    from pipeline_lib.infra.config import load_schema, validate

    schema = load_schema(str(REPO / "workflow/schemas/config.schema.yaml"))
    base = {"datasets": {"d": {"source": "digits", "imbalance": {"ratio": 10}}}}
    cfg = validate(dict(base), schema)
    assert cfg["tabular"]["oversampling"]["custom"] == []
    assert cfg["tabular"]["oversampling"]["smote"] == {"k_neighbors": 5}  # the paper's methods' options unchanged
    sv = {"name": "sv", "smote_variants": "polynom_fit_SMOTE_star"}
    cfg = validate({**base, "tabular": {"oversampling": {"custom": [ADASYN, sv]}}}, schema)
    assert cfg["tabular"]["oversampling"]["custom"][1]["params"] == {}  # params default
    with pytest.raises(ConfigError, match="tabular.oversampling.custom"):
        validate({**base, "tabular": {"oversampling": {"custom": [{"name": "x", "klass": "a.B"}]}}}, schema)


# --- reports ------------------------------------------------------------------------------------------------

def metrics(methods=tuple(tabular.METHODS) + ("my_adasyn",), runs=(0, 1)):
    rows = [{"dataset": "toy", "run": r, "model": model, "method": method, "metric": metric,
             "value": 0.5 + 0.1 * r + (0.2 if method == "my_adasyn" else 0), "converged": True,
             "kernel": "rbf" if model == "svm" else ""}
            for r in runs for model in ("svm", "lg", "nn") for method in methods for metric in ("bac", "fm")]
    rows += [{**row, "method": m} for row in rows if row["model"] == "nn" and row["method"] == "base"
             for m in tabular.LATENT]
    return pd.read_csv(io.StringIO(pd.DataFrame(rows).to_csv(index=False)))  # as read from disk


def test_table3_and_table4_show_the_custom_method_under_its_name(tmp_path):
    label = {"my_adasyn": "my_adasyn: imblearn.over_sampling.ADASYN (imbalanced-learn 0.0), params n_neighbors=3"}
    t3 = tr.table3(metrics(), ["toy"], str(tmp_path / "t3.csv"), str(tmp_path / "t3.md"), custom=label)
    assert t3["method"].tolist() == list(tabular.METHODS) + ["my_adasyn"]
    assert t3.set_index("method").loc["my_adasyn", "lg_bac_mean"] == pytest.approx(0.75)
    md = (tmp_path / "t3.md").read_text()
    assert "| toy | my_adasyn |" in md
    assert "Your own samplers:\n\n- my_adasyn: imblearn.over_sampling.ADASYN (imbalanced-learn 0.0)" in md
    t4 = tr.table4(metrics(), ["toy"], str(tmp_path / "t4.csv"), str(tmp_path / "t4.md"))
    assert t4["method"].tolist() == list(tabular.METHODS) + ["my_adasyn"] + list(tabular.LATENT)
    assert "**" in [line for line in (tmp_path / "t4.md").read_text().splitlines() if "my_adasyn" in line][0]


def test_tables_without_a_custom_method_are_as_before(tmp_path):
    t3 = tr.table3(metrics(tabular.METHODS), ["toy"], str(tmp_path / "t3.csv"), str(tmp_path / "t3.md"))
    assert t3["method"].tolist() == list(tabular.METHODS)
    assert "Your own samplers" not in (tmp_path / "t3.md").read_text()


def test_weight_and_overlap_tables_and_figures_add_the_custom_column(tmp_path):
    methods = list(tabular.METHODS) + ["my_adasyn"]
    weights = pd.DataFrame([{"dataset": "toy", "run": r, "model": model, "method": m, "norm": 1.0 + i,
                             "norm_majority": 1.0, "norm_minority": 2.0 + i,
                             "relative_change": np.nan if m == "base" else 0.1 * i, "n_excluded": 0}
                            for r in (0, 1) for model in ("lg", "nn")
                            for i, m in enumerate(methods + (list(tabular.LATENT) if model == "nn" else []))])
    t6 = tr.weight_change_table(weights, "lg", ["toy"], str(tmp_path / "t6.csv"), str(tmp_path / "t6.md"), 0.0)
    assert list(t6.columns[1:8]) == list(tr.CHANGED) + ["my_adasyn", "cs_sd"]
    t7 = tr.weight_change_table(weights, "nn", ["toy"], str(tmp_path / "t7.csv"), str(tmp_path / "t7.md"), 0.0)
    assert list(t7.columns[1:9]) == list(tr.CHANGED) + ["my_adasyn", "eos", "dsm"]
    assert "| my_adasyn | EOS | DSM |" in (tmp_path / "t7.md").read_text()
    fig7 = tr.lg_norm_figure(weights, str(tmp_path / "fig7.png"), str(tmp_path / "fig7.csv"))
    assert "my_adasyn" in set(fig7["method"]) and "SMOTE" in set(fig7["method"])
    top = pd.DataFrame([{"dataset": "toy", "run": r, "model": "lg", "method": m, "class": c, "feature": f,
                         "magnitude": float((f * (i + 1)) % 7), "fallback": False}
                        for r in (0, 1) for i, m in enumerate(methods) for c in (0, 1) for f in range(6)])
    t9 = tr.overlap_table(top, "lg", 2, ["toy"], str(tmp_path / "t9.csv"), str(tmp_path / "t9.md"))
    assert list(t9.columns) == ["dataset"] + list(tr.CHANGED) + ["my_adasyn"]
    fig11 = tr.top_features_figure(top, "lg", "toy", 2, str(tmp_path / "fig11.png"), str(tmp_path / "fig11.csv"))
    assert list(dict.fromkeys(fig11["method"])) == methods


def test_sv_figures_add_the_custom_method_and_fig1_keeps_the_papers(tmp_path):
    methods = list(tabular.METHODS) + ["my_adasyn"]
    sv = pd.DataFrame([{"dataset": "toy", "run": r, "method": m, "kernel": "rbf", "sv_multiple": 1.0 + i,
                        "majority_minority_ratio": 2.0, "dual_coef_ratio": 1.0, "new_share": 0.1 * i,
                        "synthetic_share": 0.2} for r in (0, 1) for i, m in enumerate(methods)])
    for fig in ("fig2", "fig3", "fig6"):
        out = tr.sv_figure(sv, fig, str(tmp_path / f"{fig}.png"), str(tmp_path / f"{fig}.csv"))
        assert "my_adasyn" in set(out["method"]), fig
    fig1 = tr.fig1_balancing_vs_interpolation(metrics(), str(tmp_path / "fig1.png"), str(tmp_path / "fig1.csv"))
    assert "my_adasyn" not in set(fig1["method"]) and "SMOTE" in set(fig1["method"])


def test_own_methods_keep_their_order_and_skip_the_papers():
    assert tr.own_methods(["base", "zeta", "smote", "alpha", "eos", "zeta"]) == ["zeta", "alpha"]
    assert tr.NAMES["my_adasyn"] == "my_adasyn" and tr.NAMES["smote"] == "SMOTE"
