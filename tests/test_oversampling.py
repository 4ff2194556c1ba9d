"""Tests for pipeline_lib.oversampling (EOS, BalancedSVM, make_sampler, ...)."""

from collections import Counter

import numpy as np
import pytest
from imblearn.over_sampling import SMOTE
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors
from sklearn.svm import SVC

from pipeline_lib import oversampling as ovs
from pipeline_lib.oversampling import (
    EOS,
    SAMPLERS,
    BalancedSVM,
    make_sampler,
    resample_embeddings,
)

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
    np.testing.assert_array_equal(eos.sample_indices_, np.arange(n))


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
    with pytest.raises(ValueError, match="'bogus'") as excinfo:
        EOS(variant="bogus").fit_resample(X, y)
    msg = str(excinfo.value)
    assert "paper" in msg and "authors" in msg and "\n" not in msg


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
    assert set(EOS().get_params()) == {"sampling_strategy", "k_neighbors", "variant", "random_state", "fallback"}


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
