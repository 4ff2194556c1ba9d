"""Hand-computed checks of the CNN analyses of "The Hidden Influence of Latent Feature Magnitude"
(pipeline_lib.studies.magnitude_images): the multi-class greedy CE count (Fig. 1), class-mean magnitudes (Fig. 5),
top-k share and frequency-vs-magnitude correlation, and the loader of a cut's latent features."""
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn

from pipeline_lib.core import measures
from pipeline_lib.core import embeddings as emb
from pipeline_lib.core import latents
from pipeline_lib.studies import da_images as di
from pipeline_lib.studies import magnitude_images as mi
from pipeline_lib.core.datasets import ImageArrays
from pipeline_lib.core.heads import save_head
from pipeline_lib.core.models import build_model, save_backbone
from pipeline_lib.core.devices import to_tensor

D = 64


# --- hand-made cut: a head where one feature alone decides each class ----------------------------------------

def decisive_head(C=3):
    """W[c, c] = 2 and a shared weight 0.1 on features 10..63 for every class; bias 0."""
    w = np.zeros((C, D))
    for c in range(C):
        w[c, c] = 2.0
    w[:, 10:] = 0.1
    return w, np.zeros(C)


def decisive_fe(labels, level):
    """FE of instances: f_c = level[c] for the instance's class c, 1 on the 54 shared features, 0 elsewhere."""
    f = np.zeros((len(labels), D), np.float32)
    f[:, 10:] = 1.0
    f[np.arange(len(labels)), labels] = np.asarray(level, np.float32)[labels]
    return f


TRAIN_Y = np.array([0] * 6 + [1] * 4 + [2] * 2)     # imbalanced: class 2 is the minority
TEST_Y = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
TRAIN_LEVEL = [3.0, 3.0, 3.0]
TEST_LEVEL = [3.0, 4.0, 5.0]                      # test magnitudes shifted by 0, 1, 2


def _backbone(path, C=3, weight=None, bias=None, seed=0, normed_head=False):
    torch.manual_seed(seed)
    model = build_model("resnet20", C, in_channels=1, normed_head=normed_head)
    if weight is not None:
        with torch.no_grad():
            model.head.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
            model.head.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
    save_backbone(str(path), model, arch="resnet20", num_classes=C, in_channels=1, normed_head=normed_head,
                  mean=[0.5], std=[0.25], class_names=[f"c{c}" for c in range(C)])
    return str(path), model.eval()


def _head(path, weight, bias):
    head = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        head.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
    save_head(str(path), head)
    return str(path)


def _indices(path, ids, labels):
    pd.DataFrame({"sample_id": ids, "label": labels, "class_name": [f"c{v}" for v in labels]}).to_csv(path, index=False)
    return str(path)


def _latents(d, name, **kw):
    """The latents files of one model, made by the latents stages (``images`` in kw: a forward pass)."""
    out = {"train": str(d / f"{name}_train.parquet"), "test": str(d / f"{name}_test.parquet")}
    if "images" in kw:
        latents.from_network_stage(kw.pop("images"), kw.pop("train_indices"), kw.pop("test_indices"), kw.pop("network"),
                                   out["train"], out["test"], dataset="toy", cut=0, model=name, device="cpu")
    else:
        latents.from_embeddings_stage(str(d / "train.parquet"), str(d / "test.parquet"), out["train"], out["test"],
                                      model=name, **kw)
    return out


def make_cut(tmp_path, cut=0, with_ros=True, with_base=True):
    """A cut whose Base / DSM / EOS FE are the hand-made ones (embedding Parquet files of Base's backbone, their
    latents made from them) and, with ``with_ros``, a ROS model with its own (random) network whose latents
    are a forward pass over the images."""
    d = tmp_path / f"cut{cut}"
    d.mkdir()
    rng = np.random.default_rng(cut)
    pool_y = np.array([0, 1, 2] * 8)
    images = ImageArrays(rng.integers(0, 256, (24, 8, 8, 1), dtype=np.uint8), pool_y,
                         rng.integers(0, 256, (12, 8, 8, 1), dtype=np.uint8), np.array([0, 1, 2] * 4),
                         ["c0", "c1", "c2"])
    images.save(str(d / "images.npz"))
    train_ids = np.concatenate([np.flatnonzero(pool_y == c)[:n] for c, n in ((0, 6), (1, 4), (2, 2))])
    test_ids = np.concatenate([np.flatnonzero(images.test_y == c)[:3] for c in range(3)])
    w, b = decisive_head()
    base, _ = _backbone(d / "base.pt", weight=w, bias=b)
    sha = emb.file_sha256(base)
    for split, ids, y, level in (("train", train_ids, TRAIN_Y, TRAIN_LEVEL), ("test", test_ids, TEST_Y, TEST_LEVEL)):
        emb.write(str(d / f"{split}.parquet"), emb.make_frame(ids, y, np.full(len(y), -1), decisive_fe(y, level)),
                  {"backbone_sha256": sha, "split": split, "class_names": ["c0", "c1", "c2"]})
    files = {"images": str(d / "images.npz"), "train_indices": _indices(d / "train.csv", train_ids, TRAIN_Y),
             "test_indices": _indices(d / "test.csv", test_ids, TEST_Y)}
    models = {"dsm": _latents(d, "dsm", network=base, head=_head(d / "dsm.pt", w, b)),
              "eos": _latents(d, "eos", network=base, head=_head(d / "eos.pt", w, b))}
    if with_base:
        models["base"] = _latents(d, "base", network=base)
    if with_ros:
        models["ros"] = _latents(d, "ros", network=_backbone(d / "ros.pt", seed=1 + cut)[0], **files)
    return {"dataset": "toy", "cut": cut, "title": "Toy", "imbalance": {"type": "exp", "ratio": 3}, **files,
            "models": models}


# --- the greedy count ------------------------------------------------------------------------------------------

def test_one_decisive_feature_needs_exactly_one_ce():
    w, b = decisive_head()
    y = np.array([0, 1, 2, 2])
    counts, used, p, q = mi.ce_needed_multiclass(decisive_fe(y, [3.0, 3.0, 3.0]), w, b)
    # z_c = 2 * 3 + 54 * 0.1 = 11.4, runner-up 5.4: the largest CE (6) alone reaches 5.4
    assert counts.tolist() == [1, 1, 1, 1]
    assert [u.tolist() for u in used] == [[0], [1], [2], [2]]
    assert p.tolist() == y.tolist() and q.tolist() == [1, 0, 0, 0]  # runner-up ties -> lower index


def _toy():
    w = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 1, -1]], float)
    f = np.array([[3, 0, 0, 1, 0, 0],       # z = (3, 1, 0): CE (3, 0, ...) -> 1
                  [1, 1, 1, 2.5, 0, 0],     # z = (3, 2.5, 0): CE 1, 1, 1 -> 3 (2 < 2.5 <= 3)
                  [0, 0, 0, 0, 4, 1],       # z = (0, 0, 3 + b2): CE 4 and -1
                  [2.5, 0, 0, 1.5, 0, 0]], float)  # z = (2.5, 1.5, b2): p = 0
    return w, f


def test_greedy_count_counts_negatives_and_can_be_zero():
    w, f = _toy()
    counts, used, p, q = mi.ce_needed_multiclass(f, w, np.zeros(3))
    # instance 3: CE 4, -1 and runner-up 0 (classes 0 and 1 tie at 0 -> class 0): -1 + 4 >= 0 -> 1
    assert counts.tolist() == [1, 3, 1, 1] and p.tolist() == [0, 0, 2, 0] and q.tolist() == [1, 1, 0, 1]
    assert sorted(used[1].tolist()) == [0, 1, 2] and used[2].tolist() == [4]
    # bias 2 on class 2: instance 3 reaches its runner-up (0) with the bias and the negative CE alone
    # (2 - 1 >= 0) -> 0; instance 4's runner-up becomes class 2 (z = 2): 2.5 >= 2 -> 1
    counts, used, p, q = mi.ce_needed_multiclass(f, w, np.array([0.0, 0.0, 2.0]))
    assert counts.tolist() == [1, 3, 0, 1] and used[2].size == 0


def test_authors_true_class_bias_on_a_misclassified_instance():
    w, f = _toy()
    b = np.array([0.0, -5.0, 2.0])
    y = np.array([0, 0, 2, 1])  # instance 4 (label 1) is predicted 0
    clean, *_ = mi.ce_needed_multiclass(f, w, b, y, "predicted")
    authors, *_ = mi.ce_needed_multiclass(f, w, b, y, "true")
    # instance 4: z = (2.5, -3.5, 2); b[p] = 0: 2.5 >= 2 -> 1; b[y] = -5 never reaches 2 -> capped at d = 6
    assert clean[3] == 1 and authors[3] == 6
    assert clean[:3].tolist() == authors[:3].tolist()  # correct instances: b[y] = b[p]
    with pytest.raises(ValueError, match="true labels"):
        mi.ce_needed_multiclass(f, w, b, None, "true")
    with pytest.raises(ValueError, match="not allowed"):
        mi.ce_needed_multiclass(f, w, b, y, "target")


def test_class_mean_counts_correct_vs_all():
    counts = np.array([1, 3, 5, 2, 0])
    y = np.array([0, 0, 0, 1, 1])
    pred = np.array([0, 0, 1, 1, 0])
    means, n = mi.class_mean_counts(counts, y, pred, 3, "correct")
    assert means[:2].tolist() == [2.0, 2.0] and np.isnan(means[2]) and n.tolist() == [2, 1, 0]
    means, n = mi.class_mean_counts(counts, y, pred, 3, "all")
    assert means[:2].tolist() == [3.0, 1.0] and n.tolist() == [3, 2, 0]


# --- magnitudes, top-k share and frequency -----------------------------------------------------------------------

def test_minority_class_and_sorted_magnitudes():
    assert mi.minority_class([50, 20, 5, 5]) == 3
    assert mi.minority_class([5, 20, 50]) == 0
    values, order = mi.sorted_magnitudes([1.0, 3.0, -2.0, 3.0])
    assert values.tolist() == [3.0, 3.0, 1.0, -2.0] and order.tolist() == [1, 3, 0, 2]


def test_class_means_with_fallback():
    v = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 4.0], [7.0, 8.0]])
    y, pred = np.array([0, 0, 1, 1]), np.array([0, 0, 0, 0])
    means, n, flags = mi.class_means(v, y, pred, 2, "correct")
    assert means[0].tolist() == [2.0, 1.0] and np.isnan(means[1]).all() and n.tolist() == [2, 0]
    means, n, flags = mi.class_means(v, y, pred, 2, "correct", fallback=True)
    assert means[1].tolist() == [6.0, 6.0] and flags.tolist() == [False, True] and n.tolist() == [2, 2]


def test_defined_stats_leave_out_undefined_cuts():
    assert measures.mean_sd_n([1.0, np.nan, 3.0], skip_nan=True) == (2.0, pytest.approx(np.sqrt(2.0)), 2)
    mean, sd, n = measures.mean_sd_n([np.nan, 4.0], skip_nan=True)
    assert mean == 4.0 and np.isnan(sd) and n == 1
    assert np.isnan(measures.mean_sd_n([np.nan], skip_nan=True)[0]) and measures.mean_sd_n([np.nan], skip_nan=True)[2] == 0


def test_top_k_share_reg_and_pos():
    m = [5.0, 3.0, 1.0, 1.0, -2.0]  # sum 8, positive sum 10
    assert mi.top_k_share(m, 1) == (pytest.approx(5 / 8), pytest.approx(0.5))
    assert mi.top_k_share(m, 3) == (pytest.approx(9 / 8), pytest.approx(0.9))
    share, share_pos = mi.top_k_share([1.0, -2.0], 1)
    assert np.isnan(share) and share_pos == 1.0  # a non-positive total is no share
    with pytest.raises(ValueError, match="k must be"):
        mi.top_k_share(m, 6)


def test_top_k_frequency_on_hand_made_rows():
    v = np.array([[3.0, 2.0, 1.0], [1.0, 3.0, 2.0], [3.0, 1.0, 2.0]])
    np.testing.assert_allclose(mi.top_k_frequency(v, 1), [2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(mi.top_k_frequency(v, 2), [2 / 3, 2 / 3, 2 / 3])
    np.testing.assert_array_equal(mi.top_k_indices([[1.0, 1.0, 0.0]], 1), [[0]])  # tie -> lower index


def test_frequency_magnitude_correlation_constructed():
    # features with larger mean CE are more often an instance's top-1: rho = 1
    rows = np.array([[4, 2, 1, 0.5]] * 6 + [[1, 3, 0.5, 0.4]] * 3 + [[0.1, 0.2, 1.5, 0.3]])
    freq, mag = mi.top_k_frequency(rows, 1), rows.mean(0)
    np.testing.assert_allclose(freq, [0.6, 0.3, 0.1, 0.0])
    assert mag.argsort().tolist() == [3, 2, 1, 0]
    assert mi.frequency_magnitude_correlation(freq, mag) == pytest.approx(1.0)
    assert mi.frequency_magnitude_correlation([0.9, 0.5, 0.1, 0.0], [0.5, 1, 2, 4]) == pytest.approx(-1.0)
    assert np.isnan(mi.frequency_magnitude_correlation([0.2, 0.2, 0.2], [1, 2, 3]))


# --- the loader --------------------------------------------------------------------------------------------------

def test_latents_files_and_model_latents(tmp_path):
    cut = make_cut(tmp_path)
    d = tmp_path / "cut0"
    ldam = _backbone(tmp_path / "ldam.pt", normed_head=True)[0]
    cut["models"]["ldam"] = _latents(d, "ldam", network=ldam, images=cut["images"],
                                     train_indices=cut["train_indices"], test_indices=cut["test_indices"])
    lats = mi.model_latents(cut)
    assert list(lats) == ["base", "ros", "dsm", "eos"]  # ldam is not in these analyses
    for m in ("base", "dsm", "eos"):  # Base's one extraction, unchanged, with each model's own head
        np.testing.assert_array_equal(lats[m].test_fe, decisive_fe(TEST_Y, TEST_LEVEL))
        np.testing.assert_array_equal(lats[m].train_y, TRAIN_Y)
        np.testing.assert_array_equal(lats[m].weight, decisive_head()[0].astype(np.float32))
        df, meta = latents.read(cut["models"][m]["test"])
        assert meta["model"] == m and meta["class_names"] == ["c0", "c1", "c2"] and meta["feature_dim"] == D
        np.testing.assert_allclose(latents.logits(df), decisive_fe(TEST_Y, TEST_LEVEL) @ decisive_head()[0].T,
                                   rtol=1e-6)
        assert df["pred"].tolist() == TEST_Y.tolist()
    # ROS: one forward pass of its own network, the features and logits of embeddings.extract
    ros = lats["ros"]
    net, _ = di.load_network_meta({"network": str(d / "ros.pt")})
    images = ImageArrays.load(cut["images"])
    ids = pd.read_csv(cut["train_indices"])["sample_id"].to_numpy()
    expected, pred, z = emb.extract(net, to_tensor(images.train_x[ids], [0.5], [0.25], "cpu"), with_logits=True)
    np.testing.assert_array_equal(ros.train_fe, expected.astype(np.float64))
    np.testing.assert_array_equal(ros.pred("train"), pred)
    df, meta = latents.read(cut["models"]["ros"]["train"])
    np.testing.assert_array_equal(latents.logits(df), z)
    assert df["sample_id"].tolist() == ids.tolist() and meta["backbone_sha256"] == emb.file_sha256(str(d / "ros.pt"))
    # LDAM's cosine head: in the latents files, not in the CE analyses
    with pytest.raises(ValueError, match="nn.Linear"):
        latents.linear_head(latents.read(cut["models"]["ldam"]["test"])[1])
    with pytest.raises(ValueError, match="not a latents file"):
        latents.read(str(d / "test.parquet"))


def test_a_model_with_its_own_training_images(tmp_path):
    cut = make_cut(tmp_path, with_ros=False)
    ids, labels = np.array([0, 1, 2, 3, 4, 5]), np.array([0, 1, 2, 0, 1, 2])
    own = _indices(tmp_path / "balanced.csv", ids, labels)
    cut["models"]["balanced"] = {**_latents(tmp_path / "cut0", "balanced", network=str(tmp_path / "cut0" / "base.pt"),
                                            images=cut["images"], train_indices=own,
                                            test_indices=cut["test_indices"]), "train_indices": own}
    lat = mi.model_latents(cut, ("balanced",))["balanced"]
    # the same network as Base, but other training images: the latents of those images
    assert lat.train_y.tolist() == labels.tolist() and lat.train_fe.shape == (6, 64)
    assert lat.test_fe.shape == (9, 64)


def test_table_topk_leaves_out_undefined_cuts():
    per_cut = pd.DataFrame({"dataset": "d", "cut": [0, 1], "model": "base", "class": 0, "k": 1,
                            "n_instances": [4, 0], "share": [0.5, np.nan], "share_pos": [0.25, np.nan],
                            "spearman": [0.1, np.nan], "spearman_needed": [0.2, np.nan]})
    row = mi.table_topk(per_cut).iloc[0]
    assert row["share_mean"] == 0.5 and row["n_cuts"] == 1 and row["n_instances_mean"] == 2.0


def test_model_latents_rejects_latents_of_other_images(tmp_path):
    cut = make_cut(tmp_path, with_ros=False)
    path = cut["models"]["eos"]["test"]
    df, meta = latents.read(path)
    df["sample_id"] = df["sample_id"][::-1].to_numpy()
    latents.write(path, df, meta)
    with pytest.raises(ValueError, match="do not match"):
        mi.model_latents(cut)


# --- stages --------------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_fig1_stage_on_hand_made_embeddings(tmp_path):
    cuts = [make_cut(tmp_path, 0), make_cut(tmp_path, 1)]
    frame = mi.fig1_stage(cuts, str(tmp_path / "fig1.png"), str(tmp_path / "fig1.csv"))
    assert (tmp_path / "fig1.png").stat().st_size > 0
    csv = pd.read_csv(tmp_path / "fig1.csv")
    assert len(csv) == len(frame) == 2 * 4 * 3  # cuts x (Base, ROS, DSM, EOS) x classes
    known = csv[csv["model"].isin(["Base", "DSM", "EOS"])]
    assert (known["mean_count"] == 1).all() and np.allclose(known["pct"], 100 / 64)
    assert known["n_instances"].tolist() == [3] * len(known)
    assert known.loc[known["class"] == 2, "train_count"].eq(2).all()
    ros = csv[csv["model"] == "ROS"]["pct"].dropna()
    assert ((ros >= 0) & (ros <= 100)).all()
    assert list(dict.fromkeys(csv["model"])) == ["Base", "ROS", "DSM", "EOS"]


@pytest.mark.slow
def test_fig5_stage_sorted_minority_magnitudes(tmp_path):
    cuts = [make_cut(tmp_path, 0)]
    frame = mi.fig5_stage(cuts, str(tmp_path / "fig5.png"), str(tmp_path / "fig5.csv"))
    base = frame[frame["model"] == "Base"].sort_values("rank")
    # minority class 2, test f_2 = 5: CE_2 = 2 * 5 = 10, 54 shared CE of 0.1, 9 zeros
    assert (base["class"] == 2).all() and len(base) == 64
    np.testing.assert_allclose(base["magnitude"], [10.0] + [0.1] * 54 + [0.0] * 9, rtol=1e-6)
    assert base["feature"].tolist()[:3] == [2, 10, 11]
    fe = mi.fig5_stage(cuts, str(tmp_path / "f.png"), str(tmp_path / "f.csv"), value="fe", split="train")
    b = fe[fe["model"] == "Base"].sort_values("rank")
    np.testing.assert_allclose(b["magnitude"], [3.0] + [1.0] * 54 + [0.0] * 9)
    assert pd.read_csv(tmp_path / "fig5.csv").shape[0] == len(frame) == 4 * 64


def test_fig5_without_base_is_a_one_line_error(tmp_path):
    cuts = [make_cut(tmp_path, 0, with_base=False)]
    with pytest.raises(ValueError, match="toy cut 0 has no Base model"):
        mi.fig5_stage(cuts, str(tmp_path / "f.png"), str(tmp_path / "f.csv"))


def test_table_topk_stage_on_hand_made_embeddings(tmp_path):
    cuts = [make_cut(tmp_path, 0, with_ros=False), make_cut(tmp_path, 1, with_ros=False)]
    t = mi.table_topk_stage(cuts, str(tmp_path / "t.csv"), str(tmp_path / "t.md"), ks=(1, 3))
    st = t.set_index(["model", "class", "k"])
    # class 1: test f_1 = 4, CE: 8 and 54 x 0.1 (sum 13.4); top-1 = 8, top-3 = 8.2
    assert st.loc[("base", 1, 1), "share_mean"] == pytest.approx(8 / 13.4)
    assert st.loc[("base", 1, 3), "share_mean"] == pytest.approx(8.2 / 13.4)
    assert st.loc[("base", 1, 3), "share_pos_mean"] == pytest.approx(8.2 / 13.4)
    assert st.loc[("base", 1, 1), "share_sd"] == pytest.approx(0.0) and (t["n_cuts"] == 2).all()
    # top-1 is always the class's own feature: frequency (0, 1, 0, ..) vs magnitude (0, 8, 0, .., 0.1 ...)
    assert st.loc[("eos", 1, 1), "spearman_mean"] > 0
    assert st.loc[("eos", 1, 1), "spearman_needed_mean"] == st.loc[("eos", 1, 1), "spearman_mean"]
    md = (tmp_path / "t.md").read_text()
    assert "top-1 share" in md and "| Toy | EOS | 1 | 0.597 ± 0.000 |" in md
    assert list(pd.read_csv(tmp_path / "t.csv").columns)[:6] == ["dataset", "model", "class", "k", "share_mean",
                                                                 "share_sd"]
