"""Hand-made checks of every formula of the tabular study (pipeline_lib.core.measures, tabular part) and of the
tabular samplers / MLP training (validation-split epoch selection) / SVM kernels."""
import io

import numpy as np
import pandas as pd
import pytest
import torch

from pipeline_lib.core import measures as analysis
from pipeline_lib.studies.tabular import runs as tabular
from pipeline_lib.core import embeddings as emb
from pipeline_lib.core.mlp import balanced_class_weight, selection, train_mlp
from pipeline_lib.sampling.oversampling import augment_table
from pipeline_lib.sampling.samplers import Remix
from pipeline_lib.infra.schema_defaults import mlp_config as MLPConfig


# --- relative weight change (Tables VI, VII) -----------------------------------------------------------

def test_relative_weight_change_leaves_out_zero_base_entries():
    change, excluded = analysis.relative_weight_change([1.0, -2.0, 0.0], [2.0, -1.0, 5.0])
    assert change == pytest.approx((1 / 1 + 1 / 2) / 2)
    assert excluded == 1


def test_relative_weight_change_with_eps_keeps_every_entry():
    change, excluded = analysis.relative_weight_change([1.0, -2.0, 0.0], [2.0, -1.0, 5.0], eps=1.0)
    assert change == pytest.approx((1 / 2 + 1 / 3 + 5 / 1) / 3)
    assert excluded == 0


def test_relative_weight_change_all_zero_base_is_nan_and_shapes_must_match():
    change, excluded = analysis.relative_weight_change(np.zeros((2, 2)), np.ones((2, 2)))
    assert np.isnan(change) and excluded == 4
    with pytest.raises(ValueError, match="shapes differ"):
        analysis.relative_weight_change([1.0, 2.0], [1.0])


def test_frobenius_norm():
    assert analysis.frobenius_norm([[3.0, 0.0], [0.0, 4.0]]) == pytest.approx(5.0)


# --- top-K features and overlap (Tables IX, X) ---------------------------------------------------------

def test_top_k_orders_by_magnitude_ties_to_lower_index_nan_last():
    assert analysis.top_k([0.1, 0.5, 0.3, 0.5], 2).tolist() == [1, 3]
    assert analysis.top_k([np.nan, 0.2, 0.1], 3).tolist() == [1, 2, 0]


def test_top_k_overlap_counts_common_features_per_class():
    base = [[0, 1], [2, 3]]
    assert analysis.top_k_overlap(base, [[1, 5], [3, 2]]) == pytest.approx(3 / 4)
    assert analysis.top_k_overlap(base, base) == 1.0
    assert analysis.top_k_overlap(base, [[7, 8], [9, 6]]) == 0.0


def test_class_feature_magnitudes_paper_and_authors_and_fallback():
    values = np.array([[1.0, -1.0], [3.0, 1.0], [-2.0, 0.0], [4.0, 4.0]])
    y = np.array([0, 0, 1, 1])
    pred = np.array([0, 0, 1, 0])
    mags, fb = analysis.class_feature_magnitudes(values, y, pred, how="abs_of_mean")
    np.testing.assert_allclose(mags, [[2.0, 0.0], [2.0, 0.0]])  # class 1: only its correct row 2
    assert not fb.any()
    mags, _ = analysis.class_feature_magnitudes(values, y, pred, how="mean_of_abs")
    np.testing.assert_allclose(mags[0], [2.0, 1.0])
    mags, fb = analysis.class_feature_magnitudes(values, y, np.zeros(4, int))  # no correct minority row
    assert fb.tolist() == [False, True]
    np.testing.assert_allclose(mags[1], [1.0, 2.0])  # |mean| over both minority rows
    with pytest.raises(ValueError, match="allowed"):
        analysis.class_feature_magnitudes(values, y, pred, how="median")


def test_linear_contributions_and_input_gradients_of_a_linear_net():
    X = np.array([[1.0, 2.0], [-1.0, 0.5]])
    np.testing.assert_allclose(analysis.linear_contributions(X, [[2.0, -1.0]]), [[2.0, -2.0], [-2.0, -0.5]])
    net = torch.nn.Linear(2, 2)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 3.0]]))
        net.bias.zero_()
    grads = analysis.input_gradients(net.eval(), X)
    # row 0: logits (1, 6) -> class 1 -> W[1]; row 1: logits (-1, 1.5) -> class 1
    np.testing.assert_allclose(grads, [[0.0, 3.0], [0.0, 3.0]])


# --- support vectors (Figs 2-6) ------------------------------------------------------------------------

SV = dict(train_label=[0, 0, 0, 1, 1, 1], train_sample_id=[10, 11, 12, 13, 13, -1],
          train_is_synthetic=[False, False, False, False, False, True], n_original=4)


def test_support_vector_stats_paper_identities():
    support, dc = [1, 2, 4, 5], [-0.5, -0.5, 0.4, 0.6]
    base_ids = analysis.sv_identities([1, 3], SV["train_sample_id"], "paper")  # {11, 13}
    s = analysis.support_vector_stats(support, dc, base_ids=base_ids, mode="paper", **SV)
    assert (s["n_sv"], s["n_sv_majority"], s["n_sv_minority"]) == (4, 2, 2)
    assert s["majority_minority_ratio"] == 1.0
    assert s["dual_coef_ratio"] == pytest.approx(1.0)
    assert s["new_share"] == pytest.approx(2 / 4)  # sample 12 is not a Base SV; the SMOTE row has no identity
    assert s["synthetic_share"] == pytest.approx(1 / 4)


def test_support_vector_stats_authors_row_indices_and_off_by_one():
    support, dc = [1, 2, 4, 5], [-0.5, -0.5, 0.4, 0.6]
    s = analysis.support_vector_stats(support, dc, base_ids={1, 3}, mode="authors", **SV)
    assert s["new_share"] == pytest.approx(3 / 4)  # the ROS copy (row 4) is new by index
    assert s["synthetic_share"] == pytest.approx(1 / 4)  # index > 4: row 4, the first appended one, is missed


def test_support_vector_stats_ratios_follow_the_counts():
    s = analysis.support_vector_stats([0, 1, 2, 3], [-1.0, -1.0, -1.0, 3.0], base_ids=set(), mode="paper", **SV)
    assert s["majority_minority_ratio"] == 3.0 and s["dual_coef_ratio"] == pytest.approx(1.0)
    assert s["new_share"] == 1.0


# --- CE needed to predict an instance (magnitude paper) ------------------------------------------------

def test_ce_needed_greedy_count():
    k, idx = analysis.ce_needed([3.0, -1.0, 2.0, 0.5], bias=-2.5)
    assert k == 2 and idx.tolist() == [0, 2]  # -2.5 - 1 + 3 < 0, + 2 >= 0
    assert analysis.ce_needed([3.0, -1.0, 2.0, 0.5], bias=4.0)[0] == 0  # the bias alone wins
    assert analysis.ce_needed([1.0, -5.0], bias=0.0)[0] == 2  # never reached: capped at d (authors' loop)


def test_ce_counts_binary_is_the_smallest_sufficient_set():
    rng = np.random.default_rng(0)
    X, w, b = rng.normal(size=(40, 6)), rng.normal(size=6), 0.3
    f = X @ w + b
    pred = (f > 0).astype(int)
    counts, used = analysis.ce_counts_binary(X, w, b, pred, pred)
    for i in range(len(X)):
        s = 2 * pred[i] - 1
        ce = s * X[i] * w
        total = lambda idx: s * b + ce[ce < 0].sum() + ce[idx].sum()  # noqa: E731
        assert total(used[i]) >= 0
        assert counts[i] <= (ce > 0).sum()
        if counts[i] > 0:
            assert total(used[i][:-1]) < 0  # one fewer is not enough


def test_ce_counts_true_class_bias_differs_for_misclassified():
    X, w = np.array([[1.0, 1.0]]), np.array([1.0, 1.0])
    # f = 2 - 3 = -1 -> predicted 0, true 1: predicted bias -(-3) = 3 wins alone; true bias -3 needs both CE
    k_pred, _ = analysis.ce_counts_binary(X, w, -3.0, [1], [0], bias="predicted")
    k_true, _ = analysis.ce_counts_binary(X, w, -3.0, [1], [0], bias="true")
    assert k_pred.tolist() == [0] and k_true.tolist() == [2]


# --- samplers and the MLP ------------------------------------------------------------------------------

def _imbalanced(n=120, minority=12, d=4, seed=0):
    rng = np.random.default_rng(seed)
    y = (np.arange(n) < minority).astype(int)
    return rng.normal(size=(n, d)) + y[:, None], y


def test_augment_table_sources_and_originals_first():
    X, y = _imbalanced()
    for method in ("ros", "smote", "adasyn"):
        Xr, yr, src, syn = augment_table(X, y, method, 0)
        np.testing.assert_array_equal(Xr[:len(X)], X)
        assert np.bincount(yr)[1] >= 100
        if method == "ros":
            np.testing.assert_array_equal(Xr, X[src])  # every row copies its source
            assert not syn.any()
        else:
            assert (src[len(X):] == -1).all() and syn[len(X):].all() and not syn[:len(X)].any()
    with pytest.raises(ValueError, match="allowed"):
        augment_table(X, y, "mixup", 0)


def test_remix_hard_labels_follow_the_dominant_partner_and_balance():
    X, y = _imbalanced(n=640, minority=64)
    sampler = Remix(alpha=0.1, batch_size=64, random_state=3)
    Xr, yr = sampler.fit_resample(X, y)
    assert Xr.shape == X.shape
    np.testing.assert_array_equal(yr, y[sampler.sample_indices_])
    assert 0.35 < yr.mean() < 0.65  # each batch balanced in expectation (10% minority before)
    # a row with lam >= 0.5 lies at most half-way from its dominant partner towards the other one
    dist = np.linalg.norm(Xr - X[sampler.sample_indices_], axis=1)
    assert np.median(dist) < 0.5 * np.median(np.linalg.norm(X[:, None] - X[None, :64], axis=2))
    Xr2, yr2 = Remix(alpha=0.1, batch_size=64, random_state=3).fit_resample(X, y)
    np.testing.assert_array_equal(Xr, Xr2)
    with pytest.raises(ValueError, match="alpha"):
        Remix(alpha=0.0).fit_resample(X, y)


def test_balanced_class_weight_matches_sklearn():
    from sklearn.utils.class_weight import compute_class_weight

    y = np.array([0] * 9 + [1] * 3)
    np.testing.assert_allclose(balanced_class_weight(y, 2), compute_class_weight("balanced", classes=np.array([0, 1]), y=y))


@pytest.mark.parametrize("extra", [{}, {"class_weight": "balanced"}, {"remix_alpha": 0.1}])
@pytest.mark.slow
def test_train_mlp_is_deterministic_and_learns(extra):
    X, y = _imbalanced(n=200, minority=60, d=6)
    X = X + 2 * y[:, None]
    cfg = MLPConfig(epochs=15, batch_size=32, lr=1e-2, seed=1, select_on="final", **extra)
    m1, h1 = train_mlp(X, y, cfg, log=lambda *_: None)
    m2, _ = train_mlp(X, y, cfg, log=lambda *_: None)
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values()):
        assert torch.equal(a, b)
    assert m1.features(torch.zeros(1, 6)).shape == (1, 3) and m1.head.in_features == 3
    with torch.no_grad():
        acc = (m1(torch.as_tensor(X, dtype=torch.float32)).argmax(1).numpy() == y).mean()
    assert acc > 0.9 and h1[-1]["train_loss"] < h1[0]["train_loss"]


def test_relative_weight_change_treats_numerically_zero_base_weights_as_zero():
    change, excluded = analysis.relative_weight_change([1.0, 1e-20], [2.0, 0.5])  # a dead unit's weight
    assert change == pytest.approx(1.0) and excluded == 1


# --- the NN's validation split and epoch selection -----------------------------------------------------

def _split_files(tmp_path, n=300, minority=30, d=5, seed=0):
    """A scaled-looking train / test split pair in the split_tabular format; sample ids 1000.. (train)."""
    X, y = _imbalanced(n=n, minority=minority, d=d, seed=seed)
    X = X + 1.5 * y[:, None]
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    tr, te = order[:int(0.7 * n)], order[int(0.7 * n):]
    meta = {"dataset": "toy", "run": 0, "split": "train"}
    emb.write_frame(str(tmp_path / "train.parquet"), tabular.frame(1000 + tr, y[tr], X[tr]), meta)
    emb.write_frame(str(tmp_path / "test.parquet"), tabular.frame(1000 + te, y[te], X[te]), dict(meta, split="test"))
    return str(tmp_path / "train.parquet"), str(tmp_path / "test.parquet")


def test_validation_split_is_stratified_sorted_and_disjoint():
    y = np.array([0] * 90 + [1] * 10)
    fit, val = tabular.validation_split(y, 0.2, seed=3)
    assert len(val) == 20 and y[val].sum() == 2 and y[fit].sum() == 8  # stratified: 20% of each class
    assert not set(fit) & set(val) and len(fit) + len(val) == 100
    assert (np.diff(fit) > 0).all() and (np.diff(val) > 0).all()
    np.testing.assert_array_equal(tabular.validation_split(y, 0.2, seed=3)[1], val)  # seeded
    assert not np.array_equal(tabular.validation_split(y, 0.2, seed=4)[1], val)


@pytest.mark.parametrize("method", ["ros", "smote", "adasyn", "base", "cs", "remix"])
def test_nn_training_set_never_trains_on_a_validation_row(tmp_path, method):
    train, _ = _split_files(tmp_path)
    df, X, _ = tabular.read_table(train)
    opts = {"ros": {}, "smote": {"k_neighbors": 5}, "adasyn": {"n_neighbors": 5}}.get(method)
    d = tabular.nn_training_set(df, X, method=method, options=opts, select_on="validation",
                                validation_fraction=0.2, seed=0)
    val_ids = set(d["val_sample_id"].tolist())
    assert len(val_ids) == round(0.2 * len(df)) and d["y_val"].sum() >= 1
    assert not val_ids & set(d["sample_id"].tolist())  # no validation row, nor a ROS copy of one
    # no training row is (a copy of) a validation row's features
    assert not (np.abs(d["X"][:, None, :] - d["X_val"][None, :, :]).sum(-1) < 1e-12).any()
    if method in ("ros", "smote", "adasyn"):
        assert np.bincount(d["y"]).min() >= 0.9 * np.bincount(d["y"]).max()  # balanced after the hold-out
        # the augmentation is augment_table's on the remaining rows, with the run's seed
        fit = ~df["sample_id"].isin(val_ids).to_numpy()
        X_res, y_res, _, _ = augment_table(X[fit], df["label"].to_numpy()[fit], method, 0, **opts)
        np.testing.assert_array_equal(d["X"], X_res)
        np.testing.assert_array_equal(d["y"], y_res)
    else:
        assert len(d["y"]) + len(d["y_val"]) == len(df)


def test_nn_training_set_final_holds_nothing_out_and_matches_augment_tabular(tmp_path):
    train, _ = _split_files(tmp_path)
    tabular.augment_stage(train, str(tmp_path / "ros.parquet"), method="ros", options={}, seed=0, log=lambda *_: None)
    aug, X_aug, _ = tabular.read_table(str(tmp_path / "ros.parquet"))
    df, X, _ = tabular.read_table(train)
    d = tabular.nn_training_set(df, X, method="ros", options={}, select_on="final", validation_fraction=0.2, seed=0)
    assert len(d["y_val"]) == 0
    np.testing.assert_array_equal(d["X"], X_aug)
    np.testing.assert_array_equal(d["sample_id"], aug["sample_id"])


@pytest.mark.slow
def test_selected_epoch_is_the_first_argmax_of_validation_bac_and_its_weights():
    X, y = _imbalanced(n=240, minority=40, d=6, seed=2)
    Xv, yv = _imbalanced(n=80, minority=16, d=6, seed=3)
    X, Xv = X + y[:, None], Xv + yv[:, None]
    cfg = MLPConfig(epochs=12, batch_size=32, lr=3e-3, seed=1, select_on="validation", validation_fraction=0.2)
    model, hist = train_mlp(X, y, cfg, X_val=Xv, y_val=yv, log=lambda *_: None)
    bac = np.array([r["val_bac"] for r in hist])
    best = int(np.argmax(bac)) + 1  # argmax: the first maximum, i.e. the earliest epoch on ties
    assert [r["epoch"] for r in hist if r["selected"]] == [best]
    assert selection(hist) == {"selected_epoch": best, "val_bac": pytest.approx(bac.max())}
    with torch.no_grad():
        pred = model(torch.as_tensor(Xv, dtype=torch.float32)).argmax(1).numpy()
    assert np.mean([(pred[yv == c] == c).mean() for c in (0, 1)]) == pytest.approx(bac.max())
    # the kept weights are those of epoch `best`: a run stopped there gives the same tensors
    short, _ = train_mlp(X, y, MLPConfig(**{**cfg.__dict__, "epochs": best, "select_on": "final"}), log=lambda *_: None)
    for a, b in zip(model.state_dict().values(), short.state_dict().values()):
        assert torch.equal(a, b)


def test_validation_selection_needs_every_class_in_the_validation_rows():
    X, y = _imbalanced()
    cfg = MLPConfig(epochs=2, seed=0, select_on="validation", validation_fraction=0.2)
    with pytest.raises(ValueError, match="needs validation rows"):
        train_mlp(X, y, cfg, log=lambda *_: None)
    with pytest.raises(ValueError, match="lack class"):
        train_mlp(X, y, cfg, X_val=X[y == 0][:5], y_val=np.zeros(5, int), log=lambda *_: None)
    with pytest.raises(ValueError, match="select_on"):
        MLPConfig(epochs=2, seed=0, select_on="test", validation_fraction=0.2)


@pytest.mark.parametrize("method", ["ros", "remix"])
@pytest.mark.slow
def test_train_nn_stage_select_on_final_is_the_old_behaviour_bit_for_bit(tmp_path, method):
    """``final``: the stage on the split equals the former stage, i.e. train_mlp on augment_tabular's file
    (the split itself for REMIX), last epoch kept."""
    from pipeline_lib.core.mlp import load_mlp
    from pipeline_lib.infra.schema_defaults import defaults

    train, test = _split_files(tmp_path)
    settings = dict(defaults("tabular", "nn"), epochs=4, select_on="final")
    out = {k: str(tmp_path / f"{k}.out") for k in ("model", "pred", "hist")}
    tabular.train_nn_stage(train, test, out["model"], out["pred"], out["hist"], method=method, settings=settings,
                           options={} if method == "ros" else None, remix_alpha=0.1, seed=5, log=lambda *_: None)
    source = train
    if method == "ros":
        source = str(tmp_path / "ros.parquet")
        tabular.augment_stage(train, source, method="ros", options={}, seed=5, log=lambda *_: None)
    df, X, _ = tabular.read_table(source)
    old, old_hist = train_mlp(X, df["label"].to_numpy(), MLPConfig(**settings, seed=5,
                                                                   remix_alpha=0.1 if method == "remix" else None),
                              log=lambda *_: None)
    new, meta = load_mlp(out["model"])
    for a, b in zip(old.state_dict().values(), new.state_dict().values()):
        assert torch.equal(a, b)
    assert pd.read_csv(out["hist"])["train_loss"].tolist() == pytest.approx([r["train_loss"] for r in old_hist],
                                                                              rel=1e-12)
    assert meta["select_on"] == "final" and meta["selected_epoch"] == 4 and meta["val_bac"] is None
    assert meta["n_validation_rows"] == 0


@pytest.mark.slow
def test_train_nn_stage_records_the_selected_epoch(tmp_path):
    from pipeline_lib.core.mlp import load_mlp
    from pipeline_lib.infra.schema_defaults import defaults

    train, test = _split_files(tmp_path)
    settings = dict(defaults("tabular", "nn"), epochs=6)
    assert settings["select_on"] == "validation" and settings["validation_fraction"] == 0.2  # the defaults
    out = {k: str(tmp_path / f"{k}.out") for k in ("model", "pred", "hist")}
    tabular.train_nn_stage(train, test, out["model"], out["pred"], out["hist"], method="smote", settings=settings,
                           options={"k_neighbors": 5}, remix_alpha=0.1, seed=0, log=lambda *_: None)
    hist = pd.read_csv(out["hist"])
    _, meta = load_mlp(out["model"])
    best = hist.loc[hist["selected"]]
    assert len(best) == 1 and meta["selected_epoch"] == int(best["epoch"].iloc[0])
    assert meta["val_bac"] == pytest.approx(hist["val_bac"].max()) == pytest.approx(best["val_bac"].iloc[0])
    assert int(best["epoch"].iloc[0]) == int(hist["val_bac"].to_numpy().argmax()) + 1
    assert meta["n_validation_rows"] == len(meta["validation_sample_id"]) == round(0.2 * 210)
    assert pd.read_parquet(out["pred"]).attrs["selected_epoch"] == meta["selected_epoch"]


# --- SVM kernels: RBF for Table III / support vectors, linear for the CE analysis -----------------------

def test_svm_defaults_to_rbf_and_svm_linear_forces_a_linear_kernel():
    from pipeline_lib.infra.schema_defaults import defaults

    svm = defaults("tabular", "svm")
    assert svm["kernel"] == "rbf" and svm["C"] == 1.0 and svm["gamma"] == "scale"  # scikit-learn's defaults
    assert tabular.make_sklearn_model("svm", "base", svm, 0).kernel == "rbf"
    lin = tabular.make_sklearn_model("svm_linear", "cs", svm, 0)
    assert lin.kernel == "linear" and lin.C == 1.0 and lin.class_weight == "balanced"
    with pytest.raises(ValueError, match="allowed"):
        tabular.make_sklearn_model("svm_poly", "base", svm, 0)


def test_fit_sklearn_stage_records_the_kernel_and_only_the_linear_svm_has_coef(tmp_path):
    from pipeline_lib.infra.schema_defaults import defaults
    from pipeline_lib.studies.tabular.reports import collect_ce_counts, collect_support_vectors

    train, test = _split_files(tmp_path)
    files = {}
    for model in ("svm", "svm_linear", "lg"):
        for method in tabular.METHODS:
            d = tmp_path / model / method
            d.mkdir(parents=True)
            files[(model, method)] = (str(d / "model.npz"), str(d / "pred.parquet"))
            tabular.fit_sklearn_stage(train, test, *files[(model, method)], model=model, method=method,
                                      settings=dict(defaults("tabular", "lg" if model == "lg" else "svm")), seed=0,
                                      log=lambda *_: None)
    with np.load(files[("svm", "base")][0]) as z:
        assert str(z["kernel"]) == "rbf" and z["coef"].size == 0 and len(z["support"]) > 0
    with np.load(files[("svm_linear", "base")][0]) as z:
        assert str(z["kernel"]) == "linear" and z["coef"].shape == (1, 5)
    assert pd.read_parquet(files[("svm", "base")][1]).attrs["kernel"] == "rbf"
    run = {"dataset": "toy", "run": 0, "test": test,
           "models": {m: {x: files[(m, x)][0] for x in tabular.METHODS} for m in ("svm", "svm_linear", "lg")},
           "predictions": {m: {x: files[(m, x)][1] for x in tabular.METHODS} for m in ("svm", "svm_linear", "lg")}}
    sv = collect_support_vectors([run], str(tmp_path / "sv.csv"))
    assert (sv["kernel"] == "rbf").all()
    ce = collect_ce_counts([run], str(tmp_path / "ce.csv"))
    assert set(ce["model"]) == {"lg", "svm"}
    assert (ce.loc[ce["model"] == "svm", "kernel"] == "linear").all()


def test_table3_names_the_svm_kernel(tmp_path):
    from pipeline_lib.studies.tabular.reports import table3

    rows = [{"dataset": "toy", "run": r, "model": model, "method": method, "metric": metric, "value": 0.5 + 0.1 * r,
             "converged": True, "kernel": "rbf" if model == "svm" else ""}
            for r in (0, 1) for model in ("svm", "lg", "nn") for method in tabular.METHODS for metric in ("bac", "fm")]
    metrics = pd.read_csv(io.StringIO(pd.DataFrame(rows).to_csv(index=False)))  # as read from disk
    t = table3(metrics, ["toy"], str(tmp_path / "t3.csv"), str(tmp_path / "t3.md"))
    assert (t["svm_kernel"] == "rbf").all() and t["svm_bac_mean"].iloc[0] == pytest.approx(0.55)
    assert "(SVM: rbf kernel)" in (tmp_path / "t3.md").read_text().splitlines()[0]
