"""Hand-made checks of every formula of the tabular study (pipeline_lib.analysis, tabular part) and of the
tabular samplers / MLP training."""
import numpy as np
import pytest
import torch

from pipeline_lib import analysis
from pipeline_lib.oversampling import Remix, augment_table
from pipeline_lib.training import MLPConfig, balanced_class_weight, train_mlp


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
def test_train_mlp_is_deterministic_and_learns(extra):
    X, y = _imbalanced(n=200, minority=60, d=6)
    X = X + 2 * y[:, None]
    cfg = MLPConfig(epochs=15, batch_size=32, lr=1e-2, seed=1, **extra)
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
