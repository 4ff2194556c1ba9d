"""Hand-computed checks of the analyses of "Understanding CNN Fragility When Learning With Imbalanced Data"
(pipeline_lib.studies.fragility): class top-K features and their overlap, train / test magnitude matching, distinct
top-K sets, instance archetypes and reference-class density."""
import math

import numpy as np
import pandas as pd
import pytest

from pipeline_lib.studies import fragility as fr
from test_magnitude_images import make_cut

# class 0 rows have top-2 sets {0,1}, {0,2}, {2,3}; class 1 (the reference) {1,2}, {1,3}
FE = np.array([[5, 4, 0, 0], [5, 0, 4, 0], [0, 0, 5, 4], [0, 5, 4, 0], [0, 5, 0, 4]], float)
Y = np.array([0, 0, 0, 1, 1])


# --- class top-K features ----------------------------------------------------------------------------------------

def test_class_top_features_and_shares():
    top, means, shares, n = fr.class_top_features(FE, Y, 3, 2)
    # class 0 means (10/3, 4/3, 3, 4/3) -> top-2 = 0, 2; class 1 means (0, 5, 2, 2) -> 1, then the tie 2/3 -> 2
    assert top[:2].tolist() == [[0, 2], [1, 2]] and n.tolist() == [3, 2, 0]
    np.testing.assert_allclose(shares[0], [10 / 19, 9 / 19])
    np.testing.assert_allclose(shares[1], [5 / 7, 2 / 7])
    assert top[2].tolist() == [-1, -1] and np.isnan(shares[2]).all()  # class without instances
    top, _, _, n = fr.class_top_features(FE, Y, 2, 2, pred=np.array([0, 0, 1, 1, 1]), instances="correct")
    assert n.tolist() == [2, 2] and top[0].tolist() == [0, 1]  # means (5, 2, 2, 0): tie 1/2 -> 1
    with pytest.raises(ValueError, match="predictions"):
        fr.class_top_features(FE, Y, 2, 2, instances="correct")


def test_set_overlap():
    assert fr.set_overlap([0, 2, 5], [5, 0, 7]) == pytest.approx(2 / 3)
    assert fr.set_overlap([1, 2], [3, 4]) == 0.0
    assert np.isnan(fr.set_overlap([-1, -1], [0, 1]))


def test_class_groups():
    assert fr.class_groups([100, 100, 10, 10, 10]).tolist() == ["majority"] * 2 + ["minority"] * 3
    assert fr.class_groups([50, 20, 5]).tolist() == ["majority", "middle", "minority"]


# --- magnitude matching -------------------------------------------------------------------------------------------

def test_magnitude_match_on_known_distributions():
    assert fr.magnitude_sums(FE[:2], [0, 1]).tolist() == [9.0, 5.0]
    m = fr.magnitude_match([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])  # a shift by 1
    assert m["w1"] == pytest.approx(1.0) and m["relative_w1"] == pytest.approx(0.5)
    assert m["mean_ratio"] == pytest.approx(1.5) and m["train_median"] == 2.0 and m["test_sd"] == pytest.approx(
        math.sqrt(2 / 3))
    # point mass at 0 vs half 0, half 4: W1 = 0.5 * 4
    assert fr.magnitude_match([1.0, 1.0], [1.0, 5.0])["w1"] == pytest.approx(2.0)
    assert fr.magnitude_match([2.0, 4.0], [4.0, 2.0])["w1"] == 0.0
    empty = fr.magnitude_match([1.0], [])
    assert np.isnan(empty["w1"]) and empty["train_mean"] == 1.0


def test_recall_per_class():
    r = fr.recall_per_class([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], 3)
    assert r[:2].tolist() == [0.5, 2 / 3] and np.isnan(r[2])


# --- diversity ------------------------------------------------------------------------------------------------------

def test_distinct_sets_and_entropy():
    n, h = fr.set_entropy([[0, 1], [1, 0], [2, 3], [4, 5]])  # {0,1} twice, {2,3}, {4,5}: p = .5, .25, .25
    assert n == 3 and h == pytest.approx(1.5)
    d = fr.distinct_top_k_sets(FE[:3], 2)
    assert d["n"] == 3 and d["distinct_sets"] == 3 and d["entropy_bits"] == pytest.approx(math.log2(3))
    assert d["entropy_norm"] == pytest.approx(1.0) and d["distinct_share"] == 1.0
    same = fr.distinct_top_k_sets(np.tile([3.0, 1.0, 2.0], (4, 1)), 2)
    assert same["distinct_sets"] == 1 and same["entropy_bits"] == 0.0 and same["entropy_norm"] == 0.0
    assert np.isnan(fr.distinct_top_k_sets(FE[:1], 2)["entropy_norm"])


def _line(xs):
    return np.column_stack([np.asarray(xs, float), np.zeros(len(xs))])


def test_archetypes_from_neighbours_on_a_2d_toy():
    # reference: class 0 at x = 1..5, class 1 at x = -1.5 .. -5.5 (no equal distances below)
    ref = _line([1, 2, 3, 4, 5, -1.5, -2.5, -3.5, -4.5, -5.5])
    ref_y = np.array([0] * 5 + [1] * 5)
    queries = _line([10, 1.0, 0, -1.8, -3.2])
    # 5 nearest: x=10: five class 0; x=1: 1,2,3,(-1.5),4 -> 4; x=0: 1,(-1.5),2,(-2.5),3 -> 3;
    # x=-1.8: (-1.5),(-2.5),(-3.5),(-4.5),1 -> 1; x=-3.2: all class 1 -> 0
    same = fr.same_class_neighbours(queries, np.zeros(5, int), 5, ref, ref_y)
    assert same.tolist() == [5, 4, 3, 1, 0]
    kinds = fr.archetypes(same, 5)
    assert [fr.ARCHETYPES[k] for k in kinds] == ["safe", "safe", "borderline", "rare", "outlier"]
    assert fr.archetypes([0, 1, 2, 3, 4, 5], 5).tolist() == [3, 2, 1, 1, 0, 0]
    # within one set the row itself is left out: x=1 -> 2, 3, (-1.5), 4, (-2.5) = 3; x=5 -> 4, 3, 2, 1, (-1.5) = 4
    within = fr.same_class_neighbours(ref, ref_y, 5)
    assert within[0] == 3 and within[4] == 4
    # duplicates: a class of three identical points and two far away others
    dup = fr.same_class_neighbours(_line([0, 0, 0, 9, 9.5]), np.array([0, 0, 0, 1, 1]), 3)
    assert dup.tolist() == [2, 2, 2, 1, 1]
    # two instances of different classes at one point: each has the other, not itself, as a neighbour
    mixed = fr.same_class_neighbours(_line([0, 0, 5, 6, 20, 21]), np.array([0, 1, 0, 0, 1, 1]), 3)
    assert mixed[:2].tolist() == [2, 0]
    shares = fr.archetype_shares(kinds, np.array([0, 0, 1, 1, 1]), 3)
    np.testing.assert_allclose(shares[0], [1, 0, 0, 0])
    np.testing.assert_allclose(shares[1], [0, 1 / 3, 1 / 3, 1 / 3])
    assert np.isnan(shares[2]).all()
    with pytest.raises(ValueError, match="n_neighbors >= 3"):
        fr.archetypes([0, 1], 2)
    with pytest.raises(ValueError, match="reference rows"):
        fr.same_class_neighbours(ref[:5], ref_y[:5], 5)


def test_reference_density_share_and_authors():
    ref_top = fr.class_top_features(FE, Y, 2, 2)[0][1]
    assert ref_top.tolist() == [1, 2]
    share = fr.reference_density(FE, Y, 2, ref_top, 1, 2, "share")
    # class 0: feature 1 in 1 of 3 top-2 sets, feature 2 in 2 of 3; class 1: feature 1 in both, 2 in one
    np.testing.assert_allclose(share, [[1 / 3, 2 / 3], [1.0, 0.5]])
    authors = fr.reference_density(FE, Y, 2, ref_top, 1, 2, "authors")
    np.testing.assert_allclose(authors, [[0.5, 2.0], [1.0, 1.0]])  # counts (1, 2) / reference counts (2, 1)


# --- stages on the hand-made cut of test_magnitude_images ---------------------------------------------------------
# Base / DSM / EOS FE: f_c (train 3; test 3, 4, 5 for classes 0, 1, 2) on the class's own feature c, 1 on the 54
# shared features 10..63; train counts 6 / 4 / 2; every instance is classified correctly.

def test_top_features_stage(tmp_path):
    cuts = [make_cut(tmp_path, 0), make_cut(tmp_path, 1)]
    frame = fr.top_features_stage(cuts, str(tmp_path / "t.csv"), str(tmp_path / "t.md"), k=10)
    base = frame[(frame["model"] == "base") & (frame["cut"] == 0) & (frame["class"] == 1)].sort_values("rank")
    assert base["feature"].tolist() == [1] + list(range(10, 19))
    np.testing.assert_allclose(base["share"], [3 / 12] + [1 / 12] * 9)
    assert base["top_share"].iloc[0] == pytest.approx(12 / 57) and base["group"].iloc[0] == "middle"
    eos = frame[frame["model"] == "eos"]
    assert (eos["overlap_base"] == 1.0).all() and (frame["chance"] == 10 / 64).all()
    ros = frame[frame["model"] == "ros"]["overlap_base"]
    assert ((ros >= 0) & (ros <= 1)).all() and len(frame) == 2 * 4 * 3 * 10
    assert len(pd.read_csv(tmp_path / "t.csv")) == len(frame)
    md = (tmp_path / "t.md").read_text()
    assert "| Toy | 0 | Base | 1 | middle | 1 (0.25), 10 (0.08)" in md and "| Toy | EOS | 1.000 ± 0.000 |" in md


def test_top_features_without_base_is_a_one_line_error(tmp_path):
    with pytest.raises(ValueError, match="toy cut 0 has no Base model"):
        fr.top_features_stage([make_cut(tmp_path, 0, with_base=False)], str(tmp_path / "t.csv"), str(tmp_path / "t.md"))


def test_magnitude_match_stage(tmp_path):
    cuts = [make_cut(tmp_path, 0, with_ros=False)]
    frame = fr.magnitude_match_stage(cuts, str(tmp_path / "m.png"), str(tmp_path / "m.csv"), str(tmp_path / "m.md"))
    base = frame[frame["model"] == "Base"].set_index("class")
    # s = f_c + 9: train 12 for every class; test 12, 13, 14 -> W1 0, 1, 2; relative / 12
    np.testing.assert_allclose(base["w1"], [0.0, 1.0, 2.0], atol=1e-9)
    np.testing.assert_allclose(base["relative_w1"], [0.0, 1 / 12, 2 / 12], atol=1e-9)
    np.testing.assert_allclose(base["mean_ratio"], [1.0, 13 / 12, 14 / 12])
    assert base["group"].tolist() == ["majority", "middle", "minority"] and (base["recall"] == 1.0).all()
    assert base["top_features"].iloc[2] == "2 10 11 12 13 14 15 16 17 18"
    assert (tmp_path / "m.png").stat().st_size > 0 and len(pd.read_csv(tmp_path / "m.csv")) == 9
    md = (tmp_path / "m.md").read_text()
    assert "| Toy | Base | n/a | 0.000 | 0.167 | 1.000 | 1.000 | 1 |" in md  # recall constant: rho undefined


def test_magnitude_match_summary_spearman():
    frame = pd.DataFrame({"dataset": "d", "model": "m", "cut": 0, "class": [0, 1, 2],
                          "group": ["majority", "middle", "minority"], "relative_w1": [0.1, 0.2, 0.4],
                          "recall": [0.9, 0.7, 0.2]})
    s = fr.magnitude_match_summary(frame).iloc[0]
    assert s["spearman_mean"] == pytest.approx(-1.0) and s["minority_recall_mean"] == 0.2
    assert s["majority_relative_w1_mean"] == 0.1


@pytest.mark.slow
def test_diversity_stage(tmp_path):
    cuts = [make_cut(tmp_path, 0)]
    frame = fr.diversity_stage(cuts, str(tmp_path / "d.csv"), str(tmp_path / "d.md"))
    base = frame[frame["model"] == "base"]

    def value(split, c, measure, feature=None):
        rows = base[(base["split"] == split) & (base["class"] == c) & (base["measure"] == measure)]
        if feature is not None:
            rows = rows[rows["feature"] == feature]
        assert len(rows) == 1, (split, c, measure, feature)
        return rows["value"].iloc[0]

    # every instance of a class has the same top-10 set {c, 10..18}
    for split in ("train", "test"):
        for c in range(3):
            assert value(split, c, "distinct_sets") == 1 and value(split, c, "entropy_bits") == 0
    # train: identical points per class; 6 / 4 / 2 instances -> 5 / 3 / 1 same-class neighbours
    assert [value("train", c, "safe") for c in range(3)] == [1, 0, 0]
    assert [value("train", c, "borderline") for c in range(3)] == [0, 1, 0]
    assert [value("train", c, "rare") for c in range(3)] == [0, 0, 1]
    assert all(value("test", c, "borderline") == 1 for c in range(3))  # 3 per class: 2 of 5 neighbours
    # reference class 2 (minority): its top-10 = 2, 10..18
    assert value("train", 0, "density", 2) == 0 and value("train", 2, "density", 2) == 1
    assert value("train", 0, "density", 10) == 1
    assert value("train", 0, "ref_density") == pytest.approx(0.9) and value("test", 2, "ref_density") == 1
    assert value("test", 1, "recall") == 1 and (frame["ref_class"] == 2).all()
    csv = pd.read_csv(tmp_path / "d.csv")
    assert len(csv) == len(frame) and "measure" in csv
    md = (tmp_path / "d.md").read_text()
    assert "Latent class diversity (train set)" in md and "| Toy | Base | 2 | minority |" in md

    # test neighbours among the training instances: class 0 safe (5), class 1 safe (4), class 2 borderline (2)
    f2 = fr.diversity_frame(cuts, test_neighbours="train", density="authors")
    b2 = f2[(f2["model"] == "base") & (f2["split"] == "test")]
    got = b2[b2["measure"] == "safe"].sort_values("class")["value"].tolist()
    assert got == [1, 1, 0]
    # authors' density: counts / the reference class's counts; train class 0: feature 2 -> 0 / 2, 10..18 -> 6 / 2
    t2 = f2[(f2["model"] == "base") & (f2["split"] == "train") & (f2["class"] == 0) & (f2["measure"] == "ref_density")]
    assert t2["value"].iloc[0] == pytest.approx(2.7)
