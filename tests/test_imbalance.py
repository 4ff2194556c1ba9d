import numpy as np
import pytest

from pipeline_lib.imbalance import class_counts, default_n_max, select_indices, subset_table


def test_cifar10_exp_100_counts_match_ldam_drw():
    counts = class_counts(5000, 10, 100, "exp")
    assert counts == [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    assert sum(counts) == 12406


def test_cifar100_exp_100_total():
    assert sum(class_counts(500, 100, 100, "exp")) == 10847


def test_cifar100_exp_10_ends():
    counts = class_counts(500, 100, 10, "exp")
    assert counts[0] == 500 and counts[-1] == 50
    assert all(a >= b for a, b in zip(counts, counts[1:]))


def test_step_imbalance():
    assert class_counts(5000, 10, 100, "step") == [5000] * 5 + [50] * 5
    assert class_counts(100, 5, 4, "step") == [100, 100, 25, 25, 25]


@pytest.mark.parametrize("ratio", [0.5, 0, -3])
def test_ratio_below_one_rejected(ratio):
    with pytest.raises(ValueError, match="must be >= 1"):
        class_counts(100, 10, ratio)


def test_unknown_type_rejected():
    with pytest.raises(ValueError, match="allowed: exp, step"):
        class_counts(100, 10, 10, "linear")


def test_selection_is_ldam_drw_legacy_rng():
    labels = np.repeat(np.arange(3), 20)
    counts = [20, 7, 2]
    idx = select_indices(labels, counts, seed=10)
    np.random.seed(10)  # the LDAM-DRW code path with the global RNG
    expected = []
    for c, n in enumerate(counts):
        i = np.where(labels == c)[0]
        np.random.shuffle(i)
        expected.append(i[:n])
    np.testing.assert_array_equal(idx, np.concatenate(expected))
    assert np.bincount(labels[idx]).tolist() == counts


def test_cuts_differ_and_repeat():
    labels = np.repeat(np.arange(4), 50)
    a = select_indices(labels, [50, 20, 8, 3], 0)
    assert np.array_equal(a, select_indices(labels, [50, 20, 8, 3], 0))
    assert not np.array_equal(a, select_indices(labels, [50, 20, 8, 3], 10))


def test_too_few_samples():
    with pytest.raises(ValueError, match="class 1 has 5 samples, 9 requested"):
        select_indices(np.array([0] * 10 + [1] * 5), [10, 9], 0)


def test_subset_table_uses_smallest_class_as_default_n_max():
    labels = np.array([0] * 30 + [1] * 12 + [2] * 40)
    assert default_n_max(labels, 3) == 12
    t = subset_table(labels, ["a", "b", "c"], {"type": "exp", "ratio": 4}, 0)
    assert t["label"].value_counts().sort_index().tolist() == [12, 6, 3]
    assert t["class_name"].tolist()[:1] == ["a"]
    assert (labels[t["sample_id"]] == t["label"]).all()
