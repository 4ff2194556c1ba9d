import numpy as np
import pytest

from pipeline_lib.core.measures import class_ranges, generalization_gap, range_gap, tp_fp_gap, weight_norms
from pipeline_lib.sampling.oversampling import resample_embeddings


def test_gap_zero_when_test_inside_train():
    train = np.array([[0.0, 0.0], [4.0, 2.0]])
    test = np.array([[1.0, 0.5], [3.0, 1.5]])
    gap = generalization_gap(train, [0, 0], test, [0, 0], 1)
    assert gap.tolist() == [0.0]


def test_gap_exact_outside_distance():
    train = np.array([[0.0, 0.0], [4.0, 2.0]])      # ranges [0,4] and [0,2]
    test = np.array([[-1.0, 0.5], [6.0, 5.0]])      # [-1,6]: 1 below + 2 above; [0.5,5]: 3 above
    gap = generalization_gap(train, [0, 0], test, [0, 0], 1)
    assert gap[0] == pytest.approx((3.0 + 3.0) / 2)


def test_gap_per_class_and_missing_class():
    train = np.array([[0.0], [1.0], [10.0], [11.0]])
    test = np.array([[0.5], [12.0], [9.0]])
    gap = generalization_gap(train, [0, 0, 1, 1], test, [0, 1, 1], 3)
    assert gap[0] == 0.0 and gap[1] == pytest.approx(1.0 + 1.0) and np.isnan(gap[2])


def test_range_gap_vectorised():
    assert range_gap([0, 0], [1, 1], [-1, 0.5], [1, 3]).item() == pytest.approx((1 + 0 + 0 + 2) / 2)


def test_tp_fp_split():
    train = np.array([[0.0], [1.0], [10.0], [11.0]])
    train_y = [0, 0, 1, 1]
    test = np.array([[0.5], [1.5], [5.0], [10.5]])
    y = np.array([0, 0, 1, 1])
    pred = np.array([0, 0, 0, 1])   # row 2 (label 1, x=5) predicted 0: a false positive of class 0
    out = tp_fp_gap(train, train_y, test, y, pred, 2)
    # class 0 TP rows [0.5, 1.5]: 0.5 above [0, 1]; FP row [5]: 4 above
    assert out["tp"][0] == pytest.approx(0.5) and out["fp"][0] == pytest.approx(4.0)
    assert out["tp"][1] == 0.0 and np.isnan(out["fp"][1])


def test_weight_norms():
    W = np.array([[3.0, 4.0], [0.0, 1.0]])
    assert weight_norms(W).tolist() == [5.0, 1.0]


def _blobs(seed=0):
    rng = np.random.RandomState(seed)
    counts = [150, 40, 12]
    X = np.concatenate([rng.randn(n, 6) * 0.8 + 1.2 * c for c, n in enumerate(counts)]).astype(np.float32)
    y = np.repeat(np.arange(3), counts)
    return X, y


@pytest.mark.parametrize("seed", [0, 1])
def test_eos_never_shrinks_and_smote_never_extends_class_ranges(seed):
    X, y = _blobs(seed)
    lo0, hi0 = class_ranges(X, y, 3)
    Xe, ye, _ = resample_embeddings(X, y, "eos", seed)
    lo_e, hi_e = class_ranges(Xe, ye, 3)
    assert (lo_e <= lo0).all() and (hi_e >= hi0).all()
    assert ((lo_e < lo0) | (hi_e > hi0)).any()      # EOS moves toward enemies: some range grows
    Xs, ys, _ = resample_embeddings(X, y, "smote", seed)
    lo_s, hi_s = class_ranges(Xs, ys, 3)
    np.testing.assert_allclose(lo_s, lo0, atol=1e-6)
    np.testing.assert_allclose(hi_s, hi0, atol=1e-6)
