import numpy as np
import pytest

from pipeline_lib.core.imbalance import class_counts, default_n_max, select_indices, subset_table


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


# --- per-cut test draws, type none, the balanced draw, file lists ----------------------------------------

from pipeline_lib.core.datasets import ImageArrays
from pipeline_lib.core.imbalance import (DrawError, balanced_table, class_permutations, cut_tables, tables_from_lists, cut_test_table)

NAMES5 = ["airfield", "amusement_park", "aquarium", "baseball_field", "barn"]


def arrays(train_counts, test_counts=None, files=False):
    """Labels-only ImageArrays (1x1 images) with ``n`` images of each class; ``test_counts`` None = one pool."""
    def pool(counts, prefix):
        y = np.repeat(np.arange(len(counts)), counts)
        f = np.array([f"{prefix}/{NAMES5[c]}/{i:05d}.jpg" for c, n in enumerate(counts) for i in range(n)])
        return np.zeros((len(y), 1, 1, 3), np.uint8), y, f
    tx, ty, tf = pool(train_counts, "a")
    if test_counts is None:
        return ImageArrays(tx, ty, tx, ty, NAMES5[:len(train_counts)], tf if files else None, tf if files else None,
                           holdout=True)
    vx, vy, vf = pool(test_counts, "val")
    return ImageArrays(tx, ty, vx, vy, NAMES5[:len(train_counts)], tf if files else None, vf if files else None)


STEP = {"type": "step", "ratio": 10, "n_max": 40}


def test_permutations_are_the_ldam_stream():
    labels = np.repeat(np.arange(5), 60)
    perms = class_permutations(labels, 5, 3)
    counts = [40, 40, 4, 4, 4]
    np.testing.assert_array_equal(select_indices(labels, counts, 3), np.concatenate([p[:n] for p, n in zip(perms, counts)]))


def test_step_subset_with_per_cut_test_draws():
    data = arrays([60] * 5, [30, 30, 30, 30, 30])
    tr0, te0 = cut_tables(data, STEP, 0, test_draw=[12, 12, 6, 6, 6])
    assert tr0["label"].value_counts().sort_index().tolist() == [40, 40, 4, 4, 4]
    assert te0["label"].value_counts().sort_index().tolist() == [12, 12, 6, 6, 6]
    assert te0["sample_id"].is_monotonic_increasing and (te0["class_name"] == np.array(NAMES5)[te0["label"]]).all()
    tr0b, te0b = cut_tables(data, STEP, 0, test_draw=[12, 12, 6, 6, 6])
    assert tr0.equals(tr0b) and te0.equals(te0b)  # same cut, same draw
    tr1, te1 = cut_tables(data, STEP, 1, test_draw=[12, 12, 6, 6, 6])
    assert set(te1["sample_id"]) != set(te0["sample_id"]) and set(tr1["sample_id"]) != set(tr0["sample_id"])
    _, whole = cut_tables(data, STEP, 1)  # no test_draw: the whole test pool, every cut
    assert whole["sample_id"].tolist() == list(range(150))
    with pytest.raises(DrawError, match=r"test draw: class 2 \('aquarium'\) has 30 test images, 31 requested"):
        cut_test_table(data.test_y, NAMES5, 0, test_draw=[1, 1, 31, 1, 1])
    with pytest.raises(DrawError, match="has 2 entries for 5 classes"):
        cut_test_table(data.test_y, NAMES5, 0, test_draw=[1, 1])


def test_one_pool_keeps_test_images_out_of_training_and_balanced_draws():
    data = arrays([60, 60, 50, 50, 50])
    for cut in (0, 10):
        train, test = cut_tables(data, STEP, cut, test_draw=10)
        assert test["label"].value_counts().tolist() == [10] * 5
        assert not set(train["sample_id"]) & set(test["sample_id"])
        bal = balanced_table(data.train_y, NAMES5, train, cut, exclude=test["sample_id"])
        assert bal["label"].value_counts().tolist() == [40] * 5 and not set(bal["sample_id"]) & set(test["sample_id"])
    _, rest = cut_tables(data, STEP, 0)  # null test_draw: every image beyond the first n_max of each class
    assert rest["label"].value_counts().sort_index().tolist() == [20, 20, 10, 10, 10]
    with pytest.raises(DrawError, match=r"class 2 \('aquarium'\) has 50 images in the pool .* 4 of them in the "
                                        r"training draw; 47 test image\(s\) requested, 46 left"):
        cut_tables(data, STEP, 0, test_draw=[1, 1, 47, 1, 1])


def test_type_none_is_the_whole_pool_whatever_the_cut():
    data = arrays([7, 3, 5], [2, 2, 2])
    a, _ = cut_tables(data, {"type": "none"}, 0)
    b, _ = cut_tables(data, {"type": "none"}, 100)
    assert a.equals(b) and a["sample_id"].tolist() == list(range(15))
    assert a["label"].value_counts().sort_index().tolist() == [7, 3, 5]
    with pytest.raises(DrawError, match="balanced draw: class 1 \\('amusement_park'\\) has 3 usable training images, "
                                        "7 requested"):
        balanced_table(data.train_y, data.class_names, a, 0)


def test_balanced_draw_is_a_superset_of_the_cut_draw():
    labels = np.repeat(np.arange(10), 5000)  # CIFAR-10's train split
    names = [str(c) for c in range(10)]
    draw = subset_table(labels, names, {"type": "exp", "ratio": 100}, 10)
    bal = balanced_table(labels, names, draw, 10)
    assert len(bal) == 50000 and sorted(bal["sample_id"]) == list(range(50000))  # 100:1: the full train set
    four = np.repeat(np.arange(4), 30)
    small = subset_table(four, names[:4], {"type": "exp", "ratio": 5}, 0)
    bal = balanced_table(four, names[:4], small, 0)
    n_max = small["label"].value_counts().max()
    assert (bal["label"].value_counts() == n_max).all() and set(small["sample_id"]) <= set(bal["sample_id"])
    np.testing.assert_array_equal(bal["sample_id"], select_indices(four, [n_max] * 4, 0))


def test_file_lists_give_the_cut(tmp_path):
    data = arrays([6, 6, 4], [3, 3, 3], files=True)
    (tmp_path / "trn.csv").write_text("file,targets\na/airfield/00005.jpg,0\na/aquarium/00001.jpg,2\n"
                                      "a/airfield/00000.jpg,0\n")
    (tmp_path / "val.csv").write_text("0,1,2\nimages/val/amusement_park/00002.jpg,1,amusement_park\n")
    train, test = tables_from_lists(data, str(tmp_path / "trn.csv"), str(tmp_path / "val.csv"))
    assert train["sample_id"].tolist() == [5, 13, 0] and train["label"].tolist() == [0, 2, 0]  # list order
    assert test["sample_id"].tolist() == [5] and test["class_name"].tolist() == ["amusement_park"]
    assert cut_tables(data, STEP, 0, file_lists={"train": str(tmp_path / "trn.csv"),
                                                 "test": str(tmp_path / "val.csv")})[0].equals(train)
    (tmp_path / "bad.csv").write_text("file,targets\na/airfield/00005.jpg,0\na/barn/00001.jpg,2\n")
    with pytest.raises(ValueError) as exc:
        tables_from_lists(data, str(tmp_path / "bad.csv"), str(tmp_path / "val.csv"))
    assert str(exc.value) == f"file list {tmp_path / 'bad.csv'}, line 3: 'a/barn/00001.jpg' matches no file of the pool"
    (tmp_path / "lab.csv").write_text("file,targets\na/aquarium/00001.jpg,1\n")
    with pytest.raises(ValueError, match=r"line 2: 'a/aquarium/00001.jpg' is class 2 \('aquarium'\) in the pool but "
                                         "the list says 1; list the classes in the list's label order"):
        tables_from_lists(data, str(tmp_path / "lab.csv"), str(tmp_path / "val.csv"))
    one = arrays([6, 6, 4], files=True)  # one pool: the lists must not share a file
    with pytest.raises(DrawError, match="both name 'a/airfield/00000.jpg' \\(3 files in both\\)"):
        tables_from_lists(one, str(tmp_path / "trn.csv"), str(tmp_path / "trn.csv"))
