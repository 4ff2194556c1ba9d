"""Tests for pipeline_lib.sampling.samplers (EOS, BalancedSVM, Remix, make_sampler; imbalanced-learn's estimator
checks) and pipeline_lib.sampling.oversampling (resample_embeddings, resample_file, resample_images_file)."""

import json
from collections import Counter

import numpy as np
import pytest
import sklearn
from imblearn.over_sampling import SMOTE
from imblearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_param_validation,
    parametrize_with_checks,
)
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import NearestNeighbors
from sklearn.svm import SVC
from sklearn.utils._testing import ignore_warnings
from sklearn_compat.utils.estimator_checks import parametrize_with_checks as parametrize_with_sklearn_checks

from pipeline_lib.core import embeddings as emb
from pipeline_lib.sampling import oversampling as ovs
from pipeline_lib.infra import runlog
from pipeline_lib.sampling.samplers import EOS, SAMPLERS, BalancedSVM, make_sampler
from pipeline_lib.sampling.oversampling import resample_embeddings
from pipeline_lib.sampling.samplers import Remix

COUNTS = (200, 60, 15)
K = 10


def toy_data(dtype=np.float32, seed=0):
    """Seeded 3-class overlapping Gaussian data, d=5, counts 200/60/15."""
    rng = np.random.default_rng(seed)
    means = np.array([[0.0] * 5, [1.0] * 5, [0.5, -0.5, 1.0, 0.0, 0.5]])
    X = np.concatenate([rng.normal(means[i], 1.0, size=(n, 5)) for i, n in enumerate(COUNTS)])
    y = np.repeat(np.arange(len(COUNTS)), COUNTS)
    return X.astype(dtype), y


@pytest.fixture(scope="module")
def data():
    return toy_data(np.float64)


@pytest.fixture(scope="module")
def knn(data):
    """Independent K-NN (self excluded) computed directly with sklearn."""
    X, _ = data
    return NearestNeighbors(n_neighbors=K).fit(X).kneighbors(return_distance=False)


def run_eos(X, y, **kw):
    kw.setdefault("k_neighbors", K)
    kw.setdefault("random_state", 0)
    eos = EOS(**kw)
    X_res, y_res = eos.fit_resample(X, y)
    return eos, X_res, y_res


# --------------------------------------------------------------------------- EOS


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eos_counts_order_dtype(dtype):
    X, y = toy_data(dtype)
    n = len(X)
    eos, X_res, y_res = run_eos(X, y)
    assert X_res.dtype == dtype
    assert Counter(y_res.tolist()) == {0: 200, 1: 200, 2: 200}
    # originals first, unchanged, in order
    np.testing.assert_array_equal(X_res[:n], X)
    np.testing.assert_array_equal(y_res[:n], y)
    # synthetic rows grouped by class, ascending
    np.testing.assert_array_equal(y_res[n:], np.repeat([1, 2], [140, 185]))
    assert eos.n_synthetic_per_class_ == {0: 0, 1: 140, 2: 185}
    assert len(eos.base_indices_) == len(eos.partner_indices_) == 325
    # no imbalanced-learn sample_indices_ (synthetic rows have no single source row), as for SMOTE
    assert not hasattr(eos, "sample_indices_")


def test_eos_paper_points_on_segments_via_attributes(data, knn):
    X, y = data
    n = len(X)
    eos, X_res, y_res = run_eos(X, y)
    syn, lab = X_res[n:], y_res[n:]
    b, p = eos.base_indices_, eos.partner_indices_
    # base is of the synthetic row's class; partner is an enemy among base's K-NN
    np.testing.assert_array_equal(y[b], lab)
    assert np.all(y[p] != lab)
    assert np.all((knn[b] == p[:, None]).any(axis=1))
    # x - base collinear with partner - base, coefficient in [0, 1)
    d, v = syn - X[b], X[p] - X[b]
    r_hat = np.einsum("ij,ij->i", d, v) / np.einsum("ij,ij->i", v, v)
    np.testing.assert_allclose(d, r_hat[:, None] * v, atol=1e-10)
    assert np.all(r_hat >= -1e-12) and np.all(r_hat < 1.0)
    np.testing.assert_allclose(r_hat, eos.gaps_, atol=1e-9)
    assert np.all((eos.gaps_ >= 0) & (eos.gaps_ < 1))


def _segment_distance(x, A, B):
    """Distance from point x to each segment [A_i, B_i] and the coefficient."""
    v = B - A
    t = np.einsum("ij,ij->i", x - A, v) / np.einsum("ij,ij->i", v, v)
    t = np.clip(t, 0.0, 1.0)
    return np.linalg.norm(A + t[:, None] * v - x, axis=1), t


def test_eos_paper_points_on_segments_independent(data, knn):
    """Without trusting base_/partner_indices_: every synthetic point must lie
    on a segment from a same-class point to one of its K-NN enemies."""
    X, y = data
    n = len(X)
    _, X_res, y_res = run_eos(X, y)
    for c in (1, 2):
        members = np.flatnonzero(y == c)
        A_idx, B_idx = [], []
        for m in members:
            for nb in knn[m]:
                if y[nb] != c:
                    A_idx.append(m)
                    B_idx.append(nb)
        A, B = X[A_idx], X[B_idx]
        for x in X_res[n:][y_res[n:] == c]:
            dist, _ = _segment_distance(x, A, B)
            assert dist.min() < 1e-9


def test_eos_support_matches_definition(data, knn):
    """With many draws, the bases used are exactly the class members having an
    enemy among their K-NN, and the (base, partner) pairs are exactly all
    (member, enemy-among-K-NN) pairs; bases are drawn uniformly."""
    X, y = data
    totals = {0: 200, 1: 60 + 20000, 2: 15 + 5000}
    eos = EOS(sampling_strategy=totals, k_neighbors=K, random_state=0)
    X_res, y_res = eos.fit_resample(X, y)
    assert Counter(y_res.tolist()) == totals
    for c in (1, 2):
        sel = y_res[len(X):] == c
        b, p = eos.base_indices_[sel], eos.partner_indices_[sel]
        expected_pairs = {
            (m, nb) for m in np.flatnonzero(y == c) for nb in knn[m] if y[nb] != c
        }
        assert set(zip(b.tolist(), p.tolist())) == expected_pairs
        expected_bases = {m for m, _ in expected_pairs}
        assert set(b.tolist()) == expected_bases
        freq = np.array(list(Counter(b.tolist()).values()))
        assert freq.min() > 0.7 * freq.mean() and freq.max() < 1.3 * freq.mean()


def test_eos_determinism(data):
    X, y = data
    _, Xa, ya = run_eos(X, y, random_state=123)
    _, Xb, yb = run_eos(X, y, random_state=123)
    _, Xc, _ = run_eos(X, y, random_state=124)
    assert Xa.tobytes() == Xb.tobytes()
    assert ya.tobytes() == yb.tobytes()
    assert Xa.tobytes() != Xc.tobytes()
    for v in ("paper", "authors"):
        e1, X1, _ = run_eos(X.astype(np.float32), y, random_state=7, variant=v)
        e2, X2, _ = run_eos(X.astype(np.float32), y, random_state=7, variant=v)
        assert X1.tobytes() == X2.tobytes()
        np.testing.assert_array_equal(e1.partner_indices_, e2.partner_indices_)


def _share_non_enemy_partner(eos, y, lab):
    p, b = eos.partner_indices_, eos.base_indices_
    return np.mean((p == b) | (y[p] == lab))


def test_eos_authors_variant_off_by_one(data, knn):
    X, y = data
    n = len(X)
    pap, Xp, yp = run_eos(X, y, variant="paper", random_state=5)
    aut, Xa, ya = run_eos(X, y, variant="authors", random_state=5)
    lab = ya[n:]
    np.testing.assert_array_equal(yp, ya)
    # paper: never a same-class / self partner; authors: a sizeable share
    assert _share_non_enemy_partner(pap, y, lab) == 0.0
    share = _share_non_enemy_partner(aut, y, lab)
    assert share > 0.25, share
    b, p = aut.base_indices_, aut.partner_indices_
    # some synthetic rows are exact duplicates of their base (rank-1 enemy)
    dup = p == b
    assert dup.any()
    np.testing.assert_array_equal(Xa[n:][dup], X[b[dup]])
    # every partner is at self-inclusive position ni for some slot ni whose
    # self-excluding neighbour is an enemy
    incl = np.concatenate([np.arange(n)[:, None], knn], axis=1)[:, :K]
    enemy_slots = y[knn[b]] != lab[:, None]
    hit = (incl[b] == p[:, None]) & enemy_slots
    assert hit.any(axis=1).all()
    # same seed: same bases, gaps; partner is one rank closer than paper's
    np.testing.assert_array_equal(aut.base_indices_, pap.base_indices_)
    np.testing.assert_array_equal(aut.gaps_, pap.gaps_)
    rank_paper = np.argmax(knn[b] == pap.partner_indices_[:, None], axis=1)
    np.testing.assert_array_equal(incl[b, rank_paper], p)
    # authors points still lie on the base->partner segment
    syn = Xa[n:]
    np.testing.assert_allclose(syn, X[b] + aut.gaps_[:, None] * (X[p] - X[b]), atol=1e-12)


def test_eos_bad_variant():
    X, y = toy_data()
    # imbalanced-learn's parameter validation (_parameter_constraints) answers first ...
    with pytest.raises(ValueError, match="The 'variant' parameter of EOS must be .*'bogus'") as excinfo:
        EOS(variant="bogus").fit_resample(X, y)
    msg = str(excinfo.value)
    assert "paper" in msg and "authors" in msg and "\n" not in msg
    # ... and EOS's own one-line check still guards runs with that validation switched off
    with sklearn.config_context(skip_parameter_validation=True):
        with pytest.raises(ValueError, match="EOS variant must be one of 'paper', 'authors'; got 'bogus'"):
            EOS(variant="bogus").fit_resample(X, y)


def test_eos_bad_k():
    X, y = toy_data()
    with pytest.raises(ValueError):
        EOS(k_neighbors=0).fit_resample(X, y)
    with pytest.raises(ValueError, match="k_neighbors=500"):
        EOS(k_neighbors=500).fit_resample(X, y)


def test_eos_class_without_candidate_base_raises_or_falls_back():
    X, y = toy_data(np.float64)
    X = X.copy()
    X[y == 2] += 100.0  # class 2 far away: its K-NN are all class 2
    with pytest.raises(ValueError, match=r"class 2 .*k_neighbors=10"):
        EOS(k_neighbors=10, random_state=0, fallback="raise").fit_resample(X, y)
    eos = EOS(k_neighbors=10, random_state=0)
    with pytest.warns(UserWarning, match="nearest enemy"):
        X_res, y_res = eos.fit_resample(X, y)
    members = np.flatnonzero(y == 2)
    others = np.flatnonzero(y != 2)
    syn = y_res[len(y):] == 2
    bases, partners = eos.base_indices_[syn], eos.partner_indices_[syn]
    assert set(bases) <= set(members)
    # each partner is the base's single nearest other-class point
    d = ((X[bases][:, None, :] - X[others][None, :, :]) ** 2).sum(-1)
    np.testing.assert_array_equal(partners, others[d.argmin(1)])
    assert np.bincount(y_res).tolist() == [np.bincount(y).max()] * 3


def _far_class_2():
    """toy_data with class 2 moved far away: no member of class 2 has an enemy among its K-NN."""
    X, y = toy_data(np.float64)
    X = X.copy()
    X[y == 2] += 100.0
    return X, y


@pytest.mark.parametrize("variant", ["paper", "authors"])
def test_eos_nearest_enemy_fallback_interpolates_towards_real_enemies(variant):
    """Regression: with variant="authors" the fallback's one-column enemy mask made every slot 0, which the
    authors' off-by-one maps to the base itself, so every synthetic row of the class duplicated its base.
    The off-by-one belongs to the K-NN list; the fallback pairs each base with its nearest enemy in both
    variants."""
    X, y = _far_class_2()
    n = len(y)
    eos = EOS(k_neighbors=10, random_state=0, variant=variant)
    with pytest.warns(UserWarning, match="nearest enemy"):
        X_res, y_res = eos.fit_resample(X, y)
    syn = y_res[n:] == 2
    new, bases = X_res[n:][syn], eos.base_indices_[syn]
    partners, gaps = eos.partner_indices_[syn], eos.gaps_[syn]
    assert syn.sum() == 185
    # no synthetic row equal to its base (the enemies exist), every partner a real other-class point ...
    assert not np.all(new == X[bases], axis=1).any()
    assert np.all(partners != bases) and np.all(y[partners] != 2)
    # ... namely the base's nearest enemy, and the row lies on the segment from the base to it
    others = np.flatnonzero(y != 2)
    d = ((X[bases][:, None, :] - X[others][None, :, :]) ** 2).sum(-1)
    np.testing.assert_array_equal(partners, others[d.argmin(1)])
    dist, t = _segment_distance_rows(new, X[bases], X[partners])
    assert dist.max() < 1e-9
    np.testing.assert_allclose(t, gaps, atol=1e-9)


def _segment_distance_rows(P, A, B):
    """Row-wise distance of P_i to the segment [A_i, B_i] and the coefficient along it."""
    v = B - A
    t = np.clip(np.einsum("ij,ij->i", P - A, v) / np.einsum("ij,ij->i", v, v), 0.0, 1.0)
    return np.linalg.norm(A + t[:, None] * v - P, axis=1), t


def test_eos_authors_variant_unchanged_where_enemies_are_in_the_knn_list(data):
    """The fallback fix leaves the authors' off-by-one (and the random stream) of ordinary classes alone."""
    X, y = _far_class_2()
    aut = EOS(k_neighbors=10, random_state=0, variant="authors")
    pap = EOS(k_neighbors=10, random_state=0, variant="paper")
    with pytest.warns(UserWarning):
        Xa, _ = aut.fit_resample(X, y)
    with pytest.warns(UserWarning):
        Xp, _ = pap.fit_resample(X, y)
    one = y[aut.base_indices_] == 1
    assert (aut.partner_indices_[one] == aut.base_indices_[one]).any()  # rank-1 enemies give the base
    two = ~one
    np.testing.assert_array_equal(aut.partner_indices_[two], pap.partner_indices_[two])
    np.testing.assert_array_equal(aut.gaps_, pap.gaps_)


def test_eos_duplicates_self_excluded():
    """With exact duplicate rows, the base itself is never its own partner."""
    X, y = toy_data(np.float64)
    X = np.concatenate([X, X[y == 2]])
    y = np.concatenate([y, y[y == 2]])
    eos, _, _ = run_eos(X, y)
    assert np.all(eos.partner_indices_ != eos.base_indices_)
    assert np.all(y[eos.partner_indices_] != y[eos.base_indices_])


def test_eos_clone_and_params():
    e = EOS(k_neighbors=7, variant="authors", random_state=3)
    c = clone(e)
    assert c is not e
    assert c.get_params() == e.get_params()
    assert c.get_params()["variant"] == "authors"
    assert set(EOS().get_params()) == {"sampling_strategy", "k_neighbors", "variant", "direction", "max_gap",
                                       "random_state", "fallback"}


# ------------------------------------------------------------------ BalancedSVM


def test_balanced_svm_relabels_synthetic_only():
    X, y = toy_data(np.float64)
    n = len(X)
    bs = BalancedSVM(random_state=0)
    X_res, y_res = bs.fit_resample(X, y)
    np.testing.assert_array_equal(X_res[:n], X)
    np.testing.assert_array_equal(y_res[:n], y)
    assert Counter(y_res[:n].tolist()) == {0: 200, 1: 60, 2: 15}
    assert len(X_res) == 600
    # synthetic rows are exactly SMOTE's
    Xs, ys = SMOTE(k_neighbors=5, random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(X_res, Xs)
    # synthetic labels = SVC(rbf, C=1) fitted on originals
    pred = SVC(kernel="rbf", C=1.0).fit(X, y).predict(X_res[n:])
    np.testing.assert_array_equal(y_res[n:], pred)
    assert (y_res[n:] != ys[n:]).any()  # relabelling really happened
    assert bs.n_relabelled_ == int((y_res[n:] != ys[n:]).sum())


# ------------------------------------------------------------- make_sampler etc


@pytest.mark.parametrize("name", SAMPLERS)
def test_make_sampler_runs(name):
    X, y = toy_data()
    s = make_sampler(name, 0)
    X_res, y_res = s.fit_resample(X, y)
    assert len(X_res) == len(y_res) >= len(X)
    np.testing.assert_array_equal(np.asarray(X_res)[: len(X)], X)
    if name in ("ros", "smote", "bsmote", "eos"):
        assert Counter(np.asarray(y_res).tolist()) == {0: 200, 1: 200, 2: 200}
    if name == "none":
        assert X_res is X and y_res is y


def test_make_sampler_defaults_and_options():
    assert make_sampler("eos", 1).get_params()["k_neighbors"] == 10
    assert make_sampler("eos", 1).variant == "paper"
    assert make_sampler("eos", 1, k_neighbors=4, variant="authors").get_params()["k_neighbors"] == 4
    assert make_sampler("smote", 1).k_neighbors == 5
    assert make_sampler("smote", 1, k_neighbors=3).k_neighbors == 3
    b = make_sampler("bsmote", 1)
    assert (b.kind, b.k_neighbors, b.m_neighbors) == ("borderline-1", 5, 10)
    assert make_sampler("balsvm", 2, C=3.0).C == 3.0
    assert make_sampler("ros", 9).random_state == 9


def test_make_sampler_unknown():
    with pytest.raises(ValueError, match=r"unknown sampler 'x'; allowed: none, ros, smote, bsmote, balsvm, eos"):
        make_sampler("x", 0)


@pytest.mark.parametrize("name", SAMPLERS)
def test_resample_embeddings_marks_synthetic(name):
    X, y = toy_data(np.float64)
    n = len(X)
    X_res, y_res, is_syn = resample_embeddings(X, y, name, 0)
    assert X_res.dtype == np.float32 and y_res.dtype == np.int64 and is_syn.dtype == bool
    assert len(is_syn) == len(X_res) == len(y_res)
    assert not is_syn[:n].any()
    assert is_syn[n:].all()
    assert is_syn.sum() == len(X_res) - n
    if name == "eos":
        assert is_syn.sum() == 325
    if name == "none":
        assert is_syn.sum() == 0


def test_resample_embeddings_rejects_contract_breach(monkeypatch):
    X, y = toy_data()

    class Shuffler:
        def fit_resample(self, X, y):
            return X[::-1], y[::-1]

    monkeypatch.setattr(ovs, "make_sampler", lambda name, rs, **kw: Shuffler())
    with pytest.raises(RuntimeError, match="contract"):
        resample_embeddings(X, y, "eos", 0)


def test_smote_type_samplers_lower_k_for_tiny_classes():
    rng = np.random.RandomState(0)
    X = rng.randn(33, 4)
    y = np.array([0] * 30 + [1] * 3)
    for name in ("smote", "bsmote", "balsvm"):
        with pytest.warns(UserWarning, match="k_neighbors=5 lowered to 2"):
            X_res, y_res, syn = resample_embeddings(X, y, name, 0)
        assert syn.sum() == 27 and len(X_res) == 60
    with pytest.raises(ValueError, match="single sample"):
        resample_embeddings(X[:31], y[:31], "smote", 0)


# ------------------------------------------------------- imbalanced-learn estimator checks

# One instance per sampler, seeded (the checks compare repeated fits); EOS also in the authors variant.
ESTIMATORS = [EOS(random_state=0), EOS(variant="authors", random_state=0), BalancedSVM(random_state=0),
              Remix(random_state=0)]

_DENSE_ONLY = ("dense-only sampler (input_tags.sparse = False); imbalanced-learn runs this check for every "
               "DataFrame-accepting sampler without looking at that tag, and a sparse DataFrame is refused")


def expected_failed_checks(estimator) -> dict:
    """The by-design failures, one reason each (imbalanced-learn's ``expected_failed_checks``)."""
    failures = {"check_samplers_pandas_sparse": _DENSE_ONLY}
    if isinstance(estimator, BalancedSVM):
        failures.update(
            check_samplers_fit_resample="relabelling the synthetic rows with the SVC's predictions changes the "
                                        "class counts (by design of Balanced SVM): classes may end below n_max",
            check_samplers_sampling_strategy_fit_resample="relabelling may move synthetic rows into the class "
                                                          "that sampling_strategy leaves alone (by design)",
        )
    return failures


def _as_list(mark):
    """imbalanced-learn 0.14's decorator hands pytest a generator, which pytest 9 deprecates: same marks, listed."""
    return pytest.mark.parametrize(mark.args[0], list(mark.args[1]), **mark.kwargs)


@_as_list(parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks))
def test_imblearn_estimator_checks(estimator, check):
    with ignore_warnings(category=(FutureWarning, ConvergenceWarning, UserWarning)):
        check(estimator)


@parametrize_with_sklearn_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_param_validation_and_column_names(estimator):
    name = type(estimator).__name__
    check_param_validation(name, estimator)
    check_dataframe_column_names_consistency(name, estimator)


def test_sampler_tags():
    assert not EOS().__sklearn_tags__().input_tags.sparse
    assert not BalancedSVM().__sklearn_tags__().input_tags.sparse
    tags = Remix().__sklearn_tags__()
    assert not tags.input_tags.sparse and tags.sampler_tags.sample_indices
    assert not EOS().__sklearn_tags__().sampler_tags.sample_indices
    with pytest.raises(TypeError, match="dense data is required"):
        from scipy import sparse

        X, y = toy_data()
        EOS().fit_resample(sparse.csr_matrix(X), y)


# ------------------------------------------------------------------------- Remix


def test_remix_params_validated_and_output_sized():
    X, y = toy_data(np.float64)
    with pytest.raises(ValueError, match="The 'batch_size' parameter of Remix"):
        Remix(batch_size=1).fit_resample(X, y)
    r = Remix(alpha=0.2, batch_size=32, passes=2, random_state=1)
    X_res, y_res = r.fit_resample(X, y)
    assert X_res.shape == (2 * len(X), X.shape[1]) and X_res.dtype == X.dtype
    np.testing.assert_array_equal(y_res, y[r.sample_indices_])
    # labels of any type: the same draws as the integer codes
    names = np.array(["a", "b", "c"])[y]
    Xs, ys = Remix(alpha=0.2, batch_size=32, passes=2, random_state=1).fit_resample(X, names)
    np.testing.assert_array_equal(Xs, X_res)
    np.testing.assert_array_equal(ys, names[r.sample_indices_])


# ------------------------------------------------------------- resample_file


def _embedding_file(path, X, y, class_names):
    n = len(y)
    emb.write(str(path), emb.make_frame(np.arange(n), y, y, X.astype(np.float32)),
              {"dataset": "toy", "split": "train", "class_names": class_names})


@pytest.fixture
def console(monkeypatch):
    lines = []
    monkeypatch.setattr(ovs, "console", lines.append)  # the name oversampling calls
    return lines


def test_resample_file_records_effective_options_and_counts(tmp_path, console):
    X, y = toy_data()
    _embedding_file(tmp_path / "train.parquet", X, y, ["a", "b", "c"])
    ovs.resample_file(str(tmp_path / "train.parquet"), str(tmp_path / "eos.parquet"), "eos", random_state=3,
                      options={"variant": "authors"}, log=lambda *_: None)
    df, meta = emb.read(str(tmp_path / "eos.parquet"))
    assert meta["sampler"] == "eos" and meta["sampler_seed"] == 3
    assert meta["sampler_options"] == {"variant": "authors"}
    assert meta["sampler_params"] == {"sampling_strategy": "auto", "k_neighbors": 10, "variant": "authors",
                                      "direction": "toward", "max_gap": 1.0, "random_state": 3,
                                      "fallback": "nearest_enemy"}
    assert meta["sampler_k_neighbors"] == 10 and "sampler_k_neighbors_requested" not in meta
    assert meta["class_counts_before"] == [200, 60, 15]
    assert meta["class_counts_after"] == [200, 200, 200] and meta["balanced"] is True
    assert meta["dataset"] == "toy" and meta["class_names"] == ["a", "b", "c"]
    assert console == []
    # the rows are resample_embeddings' (same seed, same bytes)
    X_res, y_res, _ = resample_embeddings(X, y, "eos", 3, variant="authors")
    assert emb.features(df).tobytes() == X_res.tobytes() and df["label"].to_numpy().tobytes() == y_res.tobytes()


def test_resample_file_records_lowered_k(tmp_path, console):
    rng = np.random.RandomState(0)
    X, y = rng.randn(33, 4), np.array([0] * 30 + [1] * 3)
    _embedding_file(tmp_path / "train.parquet", X, y, ["major", "minor"])
    with pytest.warns(UserWarning, match="lowered to 2"):
        ovs.resample_file(str(tmp_path / "train.parquet"), str(tmp_path / "smote.parquet"), "smote",
                          random_state=0, options={"k_neighbors": 5}, log=lambda *_: None)
    _, meta = emb.read(str(tmp_path / "smote.parquet"))
    assert meta["sampler_options"] == {"k_neighbors": 2}
    assert meta["sampler_params"]["k_neighbors"] == 2 and meta["sampler_k_neighbors"] == 2
    assert meta["sampler_k_neighbors_requested"] == 5
    assert meta["class_counts_after"] == [30, 30] and meta["balanced"] is True and console == []


def test_resample_file_warns_when_a_sampler_cannot_balance(tmp_path, console):
    """Borderline-SMOTE adds nothing for a class with no borderline ('danger') member: one console line
    names the sampler and the class with its counts, and the metadata say so."""
    rng = np.random.RandomState(0)
    X = np.concatenate([rng.randn(40, 3), rng.randn(10, 3) * 0.1 + 50.0, rng.randn(12, 3) + 0.5])
    y = np.repeat([0, 1, 2], [40, 10, 12])
    _embedding_file(tmp_path / "train.parquet", X, y, ["a", "far", "near"])
    ovs.resample_file(str(tmp_path / "train.parquet"), str(tmp_path / "bsmote.parquet"), "bsmote",
                      random_state=0, options={}, log=lambda *_: None)
    _, meta = emb.read(str(tmp_path / "bsmote.parquet"))
    assert meta["class_counts_before"] == [40, 10, 12]
    after = meta["class_counts_after"]
    assert after[1] == 10 and meta["balanced"] is False
    assert len(console) == 1 and "\n" not in console[0]
    assert "bsmote" in console[0] and "class 1 (far) 10 -> 10" in console[0]
    off = [c for c in range(3) if after[c] != 40]
    assert all(f"class {c} " in console[0] for c in off) and "class 0 " not in console[0]


def test_resample_file_balsvm_counts_match_output(tmp_path, console):
    X, y = toy_data()
    _embedding_file(tmp_path / "train.parquet", X, y, ["a", "b", "c"])
    ovs.resample_file(str(tmp_path / "train.parquet"), str(tmp_path / "balsvm.parquet"), "balsvm",
                      random_state=0, options={"kernel": "rbf", "C": 1.0}, log=lambda *_: None)
    df, meta = emb.read(str(tmp_path / "balsvm.parquet"))
    counts = np.bincount(df["label"], minlength=3).tolist()
    assert meta["class_counts_after"] == counts and sum(counts) == 600
    assert meta["sampler_params"]["kernel"] == "rbf" and meta["sampler_k_neighbors"] == 5
    assert meta["balanced"] is (counts == [200] * 3)
    assert len(console) == (0 if meta["balanced"] else 1)
    if console:
        assert console[0].startswith("WARNING: sampler balsvm did not balance")


def test_resample_images_file_records_and_warns(tmp_path, console):
    from pipeline_lib.core.datasets import ImageArrays

    rng = np.random.RandomState(0)
    y = np.repeat([0, 1], [30, 8])
    x = rng.randint(0, 256, (len(y), 4, 4, 1)).astype(np.uint8)
    ImageArrays(x, y, x[:2], y[:2], ["a", "b"]).save(str(tmp_path / "images.npz"))
    (tmp_path / "idx.csv").write_text("sample_id\n" + "\n".join(map(str, range(len(y)))) + "\n")
    ovs.resample_images_file(str(tmp_path / "images.npz"), str(tmp_path / "idx.csv"), str(tmp_path / "out.npz"),
                             "smote", random_state=0, options={"k_neighbors": 3}, log=lambda *_: None)
    with np.load(tmp_path / "out.npz") as z:
        assert np.bincount(z["y"]).tolist() == [30, 30] and z["x"].dtype == np.uint8
        meta = json.loads(str(z["sampler_meta"]))
    assert meta["sampler"] == "smote" and meta["sampler_k_neighbors"] == 3
    assert meta["class_counts_before"] == [30, 8] and meta["class_counts_after"] == [30, 30]
    assert meta["balanced"] is True and console == []


# --------------------------------------------------------------------------- EOS options: direction, max_gap


def test_eos_away_mirrors_toward_with_the_same_draws(data):
    """direction='away' (the printed pseudo-code) uses the same bases, partners and r; the step flips sign."""
    X, y = data
    e1, X1, _ = run_eos(X, y, random_state=5)
    e2, X2, _ = run_eos(X, y, random_state=5, direction="away")
    n = len(X)
    np.testing.assert_array_equal(e1.base_indices_, e2.base_indices_)
    np.testing.assert_array_equal(e1.partner_indices_, e2.partner_indices_)
    base = X[e1.base_indices_]
    np.testing.assert_allclose(X2[n:] - base, -(X1[n:] - base), atol=1e-12)
    assert not np.allclose(X1[n:], X2[n:])


def test_eos_max_gap_scales_r_and_keeps_partners(data):
    X, y = data
    e1, X1, _ = run_eos(X, y, random_state=9)
    e2, X2, _ = run_eos(X, y, random_state=9, max_gap=0.5)
    np.testing.assert_array_equal(e1.partner_indices_, e2.partner_indices_)
    np.testing.assert_allclose(e2.gaps_, 0.5 * e1.gaps_)
    assert e2.gaps_.max() < 0.5
    b, p = X[e2.base_indices_], X[e2.partner_indices_]
    np.testing.assert_allclose(X2[len(X):], b + e2.gaps_[:, None] * (p - b), atol=1e-12)


@pytest.mark.parametrize("bad", [{"direction": "sideways"}, {"max_gap": 0.0}, {"max_gap": 1.5}])
def test_eos_bad_direction_or_gap_is_rejected(data, bad):
    X, y = data
    with pytest.raises(ValueError):
        EOS(**bad).fit_resample(X, y)
