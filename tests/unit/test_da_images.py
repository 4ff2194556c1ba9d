"""Hand-computed checks of the image half of "How Data Augmentation Works" (pipeline_lib.studies.da_images):
Table II counts, Table V metrics, Table VIII weight change, Fig. 10 norms, Table XI saliency overlap."""
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn

from pipeline_lib.core import measures
from pipeline_lib.studies import da_images as di
from pipeline_lib.core.heads import save_head
from pipeline_lib.core.models import build_model, reassemble, save_backbone


# --- helpers -----------------------------------------------------------------------------------------------

def _indices(path, labels, ids=None):
    labels = np.asarray(labels)
    ids = np.arange(len(labels)) if ids is None else np.asarray(ids)
    pd.DataFrame({"sample_id": ids, "label": labels, "class_name": [f"c{v}" for v in labels]}).to_csv(path, index=False)
    return str(path)


def _backbone(path, num_classes=3, weight=None, normed_head=False, seed=0):
    torch.manual_seed(seed)
    model = build_model("resnet20", num_classes, in_channels=1, normed_head=normed_head)
    if weight is not None:
        with torch.no_grad():
            model.head.weight.copy_(torch.as_tensor(np.asarray(weight), dtype=torch.float32))
    save_backbone(str(path), model, arch="resnet20", num_classes=num_classes, in_channels=1, normed_head=normed_head,
                  mean=[0.5], std=[0.25], class_names=[f"c{c}" for c in range(num_classes)])
    return str(path), model.eval()


def _head(path, weight):
    weight = torch.as_tensor(np.asarray(weight), dtype=torch.float32)
    head = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        head.weight.copy_(weight)
        head.bias.fill_(0.25)
    save_head(str(path), head)
    return str(path), head.eval()


class LinearNet(nn.Module):
    """logit_c = sum(W_c * x_normalised) + b_c: the input gradient of logit_c is W_c (/ std in [0, 1] units)."""

    def __init__(self, weight, bias):
        super().__init__()
        self.register_buffer("weight", torch.as_tensor(np.asarray(weight), dtype=torch.float32))
        self.register_buffer("bias", torch.as_tensor(np.asarray(bias), dtype=torch.float32))

    def forward(self, x):
        return x.flatten(1) @ self.weight.flatten(1).T + self.bias


# --- networks and heads -----------------------------------------------------------------------------------

@pytest.mark.slow
def test_load_network_of_a_dsm_record_is_base_extractor_with_the_head(tmp_path):
    net, base = _backbone(tmp_path / "b.pt")
    w = np.arange(3 * 64, dtype=np.float64).reshape(3, 64) / 100.0
    head_path, head = _head(tmp_path / "h.pt", w)
    record = {"network": net, "head": head_path}
    model = di.load_network(record)
    assert not model.training
    x = torch.rand(2, 1, 8, 8)
    with torch.no_grad():
        np.testing.assert_allclose(model(x).numpy(), reassemble(base, head).eval()(x).numpy(), rtol=1e-6)
        assert not np.allclose(model(x).numpy(), base(x).numpy())
    np.testing.assert_allclose(di.head_weight(record), w, rtol=1e-6)
    assert di.head_weight(record).dtype == np.float64
    np.testing.assert_array_equal(di.head_weight({"network": net}), base.head.weight.detach().double().numpy())


def test_head_weight_transposes_the_ldam_cosine_head(tmp_path):
    net, model = _backbone(tmp_path / "ldam.pt", normed_head=True)
    w = di.head_weight({"network": net})
    assert w.shape == (3, 64)
    np.testing.assert_array_equal(w, model.head.weight.detach().double().numpy().T)


# --- Table VIII --------------------------------------------------------------------------------------------

def test_paper_and_guarded_weight_change_on_2x2():
    wb, wm = [[1.0, -2.0], [4.0, 0.5]], [[2.0, -1.0], [2.0, 1.0]]
    # 1/1, 1/2, 2/4, 0.5/0.5
    assert di.paper_weight_change(wb, wm) == (pytest.approx(0.75), 0)
    assert measures.relative_weight_change(wb, wm) == (pytest.approx(0.75), 0)
    wb0, wm0 = [[1.0, -2.0], [0.0, 4.0]], [[2.0, -1.0], [3.0, 2.0]]
    value, zeros = di.paper_weight_change(wb0, wm0)
    assert value == np.inf and zeros == 1
    guarded, left_out = measures.relative_weight_change(wb0, wm0)
    assert guarded == pytest.approx((1 + 0.5 + 0.5) / 3) and left_out == 1
    value, zeros = di.paper_weight_change([[0.0, 1.0]], [[0.0, 2.0]])  # 0 / 0: nan, like the authors' numpy
    assert np.isnan(value) and zeros == 1


def _weight_cuts(tmp_path):
    cuts = []
    for cut, zero in ((0, False), (1, True)):
        wb = np.ones((2, 64))
        if zero:
            wb[1, 5] = 0.0
        base, _ = _backbone(tmp_path / f"base{cut}.pt", 2, wb)
        ros, _ = _backbone(tmp_path / f"ros{cut}.pt", 2, np.full((2, 64), 3.0 if cut == 0 else 5.0))
        head, _ = _head(tmp_path / f"dsm{cut}.pt", np.full((2, 64), 0.5))
        cuts.append({"dataset": "toy", "cut": cut,
                     "models": {"base": {"network": base}, "ros": {"network": ros},
                                "dsm": {"network": base, "head": head}}})
    return cuts


def test_table8_pairs_cuts_reports_inf_and_the_guarded_measure(tmp_path):
    cuts = _weight_cuts(tmp_path)
    t = di.table8_stage(cuts, ["toy"], str(tmp_path / "t8.csv"), str(tmp_path / "t8.md"), {"toy": "Toy"})
    st = t.set_index(["method", "measure"])
    # cut 0: ros |3-1|/1 = 2, dsm 0.5; cut 1: ros 4 and dsm 0.5 on the 127 non-zero entries, inf on W_base = 0
    assert st.loc[("ros", "paper"), "mean"] == np.inf
    assert st.loc[("ros", "guarded"), "mean"] == pytest.approx(3.0)
    assert st.loc[("ros", "guarded"), "sd"] == pytest.approx(np.sqrt(2.0))
    assert st.loc[("dsm", "guarded"), "mean"] == pytest.approx(0.5)
    assert st.loc[("dsm", "guarded"), "sd"] == pytest.approx(0.0)
    assert st.loc[("dsm", "paper"), "mean"] == np.inf
    assert (t["n_flagged"] == 1).all() and (t["n_cuts"] == 2).all()
    assert set(t["method"]) == {"ros", "dsm"}  # remix, eos not in the records: left out
    csv = pd.read_csv(tmp_path / "t8.csv")
    assert list(csv.columns) == ["dataset", "method", "measure", "mean", "sd", "n_cuts", "n_flagged"]
    md = (tmp_path / "t8.md").read_text()
    assert "| Toy | guarded | 3.000 ± 1.414 | 0.500 ± 0.000 | 1 |" in md and "inf" in md


def test_table8_without_base_is_a_one_line_error(tmp_path):
    cuts = _weight_cuts(tmp_path)
    del cuts[0]["models"]["base"]
    with pytest.raises(ValueError, match="toy cut 0 has no Base model"):
        di.weight_changes(cuts)


# --- Fig. 10 -----------------------------------------------------------------------------------------------

def test_majority_minority_exp_and_step():
    maj, mino = di.majority_minority([50, 20, 5, 5], "exp")
    assert maj.tolist() == [0] and mino == 3  # tie of the smallest: last index
    maj, mino = di.majority_minority([7, 7, 2], "exp")
    assert maj.tolist() == [0] and mino == 2  # tie of the largest: first index
    maj, mino = di.majority_minority([100, 100, 10, 10, 10], "step")
    assert maj.tolist() == [0, 1] and mino == 4


def test_group_norms_pool_the_step_majority():
    w = np.zeros((3, 4))
    w[0, :2] = [3, 4]   # norm 5
    w[1, :2] = [6, 8]   # norm 10
    w[2, 0] = -1        # norm 1
    assert di.group_norms(w, [4, 4, 1], "step") == {"majority": pytest.approx(7.5), "minority": pytest.approx(1.0)}
    assert di.group_norms(w, [4, 4, 1], "exp") == {"majority": pytest.approx(5.0), "minority": pytest.approx(1.0)}


@pytest.mark.slow
def test_fig10_stage_writes_every_cut(tmp_path):
    cuts = []
    for cut, scale in ((0, 1.0), (1, 2.0)):
        w = np.zeros((3, 64))
        w[0, :2], w[1, :2], w[2, 0] = [3, 4], [6, 8], 1
        base, _ = _backbone(tmp_path / f"b{cut}.pt", 3, w * scale)
        tr = _indices(tmp_path / f"tr{cut}.csv", [0] * 4 + [1] * 4 + [2])
        te = _indices(tmp_path / f"te{cut}.csv", [0, 1, 2])
        cuts.append({"dataset": "toy", "cut": cut, "train_indices": tr, "test_indices": te,
                     "models": {"base": {"network": base}}})
    frame = di.fig10_stage(cuts, {"toy": "step"}, str(tmp_path / "f.png"), str(tmp_path / "f.csv"))
    assert (tmp_path / "f.png").stat().st_size > 0
    csv = pd.read_csv(tmp_path / "f.csv")
    assert len(csv) == 4 and set(csv["model"]) == {"Base"}
    got = csv.set_index(["cut", "group"])["norm"]
    assert got[(0, "majority")] == pytest.approx(7.5) and got[(1, "majority")] == pytest.approx(15.0)
    assert got[(0, "minority")] == pytest.approx(1.0) and got[(1, "minority")] == pytest.approx(2.0)
    assert csv.set_index(["cut", "group"])["classes"][(0, "majority")] == "0 1"
    assert len(frame) == 4


# --- Table II ----------------------------------------------------------------------------------------------

def test_table2_counts_from_index_files(tmp_path):
    step = {"name": "toy", "title": "Toy", "imbalance_type": "step", "cuts": {
        0: {"train_indices": _indices(tmp_path / "a0.csv", [0] * 4 + [1] * 4 + [2]),
            "test_indices": _indices(tmp_path / "b0.csv", [0, 0, 1, 1, 2, 2])},
        1: {"train_indices": _indices(tmp_path / "a1.csv", [0] * 4 + [1] * 4 + [2], ids=np.arange(9) + 20),
            "test_indices": _indices(tmp_path / "b1.csv", [0, 0, 1, 1, 2])}}}
    exp = {"name": "lt", "title": "LT", "imbalance_type": "exp", "cuts": {
        0: {"train_indices": _indices(tmp_path / "c0.csv", [0] * 8 + [1] * 4 + [2] * 2 + [3]),
            "test_indices": _indices(tmp_path / "d0.csv", [0, 1, 2, 3])}}}
    t = di.table2_stage([step, exp], str(tmp_path / "t2.csv"), str(tmp_path / "t2.md")).set_index("dataset")
    r = t.loc["toy"]
    assert r["classes"] == 3 and r["imbalance_level"] == 4.0
    assert (r["train_majority"], r["train_minority"]) == (4.0, 1.0)
    assert (r["test_majority"], r["test_minority"]) == (2.0, 1.5)  # class 2: 2 and 1 test images
    assert r["train_counts"] == "4 4 1" and r["test_counts"] == "2 2 1.5"
    assert not r["train_counts_vary"] and r["test_counts_vary"]
    r = t.loc["lt"]
    assert r["classes"] == 4 and r["imbalance_level"] == 8.0 and r["train_counts"] == "8 4 2 1"
    md = (tmp_path / "t2.md").read_text()
    assert "| Toy | 3 | Step | 4:1 | 4 | 1 | 2 | 1.5 |" in md and "| LT | 4 | Expon. | 8:1 |" in md
    assert "Toy (test)" in md


# --- Table V -----------------------------------------------------------------------------------------------

def _pred(path, labels, pred, ids=None):
    ids = np.arange(len(labels)) if ids is None else ids
    pd.DataFrame({"sample_id": ids, "label": labels, "pred": pred}).to_parquet(path, index=False)
    return str(path)


def test_table5_mean_sd_over_cuts(tmp_path):
    tr = _indices(tmp_path / "tr.csv", [0, 0, 0, 1])
    te = _indices(tmp_path / "te.csv", [0, 0, 1, 1])
    cut0 = {"dataset": "toy", "cut": 0, "train_indices": tr, "test_indices": te, "models": {
        # row 4 is not a test image of the cut: dropped
        "base": {"predictions": _pred(tmp_path / "b0.parquet", [0, 0, 1, 1, 1], [0, 0, 1, 0, 0])},
        "ros": {"predictions": _pred(tmp_path / "r0.parquet", [0, 0, 1, 1], [1, 1, 1, 1])}}}
    cut1 = {"dataset": "toy", "cut": 1, "train_indices": tr, "test_indices": te, "models": {
        "base": {"predictions": _pred(tmp_path / "b1.parquet", [0, 0, 1, 1], [0, 0, 1, 1])}}}
    t = di.table5_stage([cut0, cut1], ["toy"], str(tmp_path / "t5.csv"), str(tmp_path / "t5.md"), {"toy": "Toy"})
    assert t["model"].tolist() == ["base", "base", "ros", "ros"]  # paper order, absent models left out
    st = t.set_index(["model", "metric"])
    # cut 0 base: recalls 1 and 1/2 -> BAC .75; F1 = 2*2/(3+2) = .8 and 2*1/(1+2) = 2/3; cut 1: all 1
    assert st.loc[("base", "bac"), "mean"] == pytest.approx(0.875)
    assert st.loc[("base", "bac"), "sd"] == pytest.approx(0.25 / np.sqrt(2))
    assert st.loc[("base", "fm_authors"), "mean"] == pytest.approx((0.8 + 2 / 3) / 2 / 2 + 0.5)
    assert st.loc[("base", "fm_authors"), "sd"] == pytest.approx((1 - (0.8 + 2 / 3) / 2) / np.sqrt(2))
    # ros: class 0 never predicted: F1 0 (2tp + fp + fn > 0, zero_division does not apply); class 1 4/6
    assert st.loc[("ros", "bac"), "mean"] == pytest.approx(0.5) and np.isnan(st.loc[("ros", "bac"), "sd"])
    assert st.loc[("ros", "fm_authors"), "mean"] == pytest.approx(1 / 3)
    assert st.loc[("ros", "bac"), "n_cuts"] == 1 and st.loc[("base", "bac"), "n_cuts"] == 2
    md = (tmp_path / "t5.md").read_text()
    assert "| Base | 0.8750 ± 0.1768 |" in md and "| ROS | 0.5000 | 0.3333 |" in md


def test_table5_many_medium_few_columns(tmp_path):
    """Shot groups from the cut's training counts (class 0: 5 images, many; 1: 3, medium; 2: 1, few with
    many_above 4, few_below 2); each group's accuracy is its classes' test recall."""
    tr = _indices(tmp_path / "tr.csv", [0] * 5 + [1] * 3 + [2])
    te = _indices(tmp_path / "te.csv", [0, 0, 1, 1, 2, 2])
    cut = {"dataset": "toy", "cut": 0, "train_indices": tr, "test_indices": te, "models": {
        "base": {"predictions": _pred(tmp_path / "b.parquet", [0, 0, 1, 1, 2, 2], [0, 0, 1, 0, 2, 0])}}}
    t = di.table5_stage([cut], ["toy"], str(tmp_path / "t5.csv"), str(tmp_path / "t5.md"), {"toy": "Toy"},
                        shots={"many_above": 4, "few_below": 2})
    st = t.set_index("metric")["mean"]
    assert t["metric"].tolist() == ["bac", "fm_authors", "many", "medium", "few"]
    assert (st["many"], st["medium"], st["few"]) == (1.0, 0.5, 0.5)
    md = (tmp_path / "t5.md").read_text()
    assert "| Method | Toy BAC | Toy FM | Toy Many | Toy Medium | Toy Few |" in md
    assert "| Base | 0.6667 | " in md and "| 1.0000 | 0.5000 | 0.5000 |" in md


def test_table5_needs_every_test_image(tmp_path):
    tr = _indices(tmp_path / "tr.csv", [0, 1])
    te = _indices(tmp_path / "te.csv", [0, 1, 1])
    cut = {"dataset": "toy", "cut": 0, "train_indices": tr, "test_indices": te,
           "models": {"base": {"predictions": _pred(tmp_path / "b.parquet", [0, 1], [0, 1])}}}
    with pytest.raises(ValueError, match="1 test images"):
        di.model_metrics([cut])


# --- Table XI ----------------------------------------------------------------------------------------------

# H = 2, W = 5, one channel, pixel index h * 5 + w; x in [0, 1] with mean 0, std 1 (x normalised = x)
A = LinearNet([[5, -9, 1, 0, 0, 0, 0, 0, 0, 7], [0, 0, 0, 0, 4, 30, 30, 30, 30, 2]], [50, 0])
B = LinearNet([[-8, 0, 0, 3, 0, 0, 0, 0, 0, -6], [0, 0, 0, 0, 0, 0, 0, 9, 8, 7]], [10, 0])
IMAGES = np.stack([np.zeros((2, 5, 1), np.uint8), np.full((2, 5, 1), 255, np.uint8)])


def test_top_k_count_rounds_half_up():
    assert di.top_k_count(0.1, 32, 32) == 102
    assert di.top_k_count(0.25, 2, 5) == 3
    assert di.top_k_count(0.3, 2, 5) == 3
    assert di.top_k_count(0.01, 2, 5) == 1
    with pytest.raises(ValueError):
        di.top_k_count(0.0, 2, 5)


def test_saliency_of_linear_networks_and_their_overlap():
    # A: black image -> logits (50, 0), class 0, |w_0| top 3: pixels 1 (9), 9 (7), 0 (5);
    #    white image -> (54, 126), class 1, |w_1| = 30 at pixels 5..8: ties -> 5, 6, 7
    maps, pred = di.saliency(A, IMAGES, [0.0], [1.0], batch_size=2)
    assert pred.tolist() == [0, 1]
    np.testing.assert_allclose(maps[0].ravel(), [5, 9, 1, 0, 0, 0, 0, 0, 0, 7])
    top_a = di.top_pixels(A, IMAGES, [0.0], [1.0], 0.3, batch_size=1)
    assert top_a.tolist() == [[1, 9, 0], [5, 6, 7]]
    # B: black -> (10, 0), class 0: pixels 0 (8), 9 (6), 3 (3); white -> (-1, 24), class 1: 7, 8, 9
    top_b = di.top_pixels(B, IMAGES, [0.0], [1.0], 0.3, batch_size=2)
    assert top_b.tolist() == [[0, 9, 3], [7, 8, 9]]
    np.testing.assert_allclose(di.pixel_overlap(top_a, top_b), [2 / 3, 1 / 3])


def test_saliency_chains_through_the_normalisation_and_takes_the_channel_max():
    # one class, 2 channels, 1 x 2 image; d logit / d x = w / std: channel 0 (|-1|, 4), channel 1 (3, 1) / 0.5
    net = LinearNet([[[[-1, 4]], [[3, 1]]]], [0])
    img = np.full((1, 1, 2, 2), 100, np.uint8)
    maps, _ = di.saliency(net, img, [0.3, 0.7], [1.0, 0.5], batch_size=4)
    np.testing.assert_allclose(maps.ravel(), [6, 4])
    assert di.top_pixels(net, img, [0.3, 0.7], [1.0, 0.5], 0.5, batch_size=4).tolist() == [[0]]


@pytest.mark.parametrize("holdout", [False, True])
@pytest.mark.slow
def test_saliency_stage_matches_top_pixels_on_the_cut_test_images(tmp_path, holdout):
    """Also with one pool (test_split: train): the test images are then rows of the train pool."""
    from pipeline_lib.core.datasets import ImageArrays

    net, _ = _backbone(tmp_path / "b.pt")
    rng = np.random.default_rng(0)
    test_x = rng.integers(0, 256, size=(6, 8, 8, 1), dtype=np.uint8)
    other = rng.integers(0, 256, size=(6, 8, 8, 1), dtype=np.uint8)
    y = np.zeros(6, np.int64)
    arrays = ImageArrays(test_x, y, test_x, y, ["a"], holdout=True) if holdout else ImageArrays(other, y, test_x, y, ["a"])
    arrays.save(str(tmp_path / "images.npz"))
    te = _indices(tmp_path / "te.csv", [0, 0, 0], ids=[4, 1, 2])
    record = {"network": net, "images": str(tmp_path / "images.npz"), "test_indices": te}
    di.saliency_stage(record, str(tmp_path / "s.npz"), 0.1, 2, "cpu")
    z = di.load_top_pixels(str(tmp_path / "s.npz"))
    assert z["top"].shape == (3, 6) and z["sample_id"].tolist() == [4, 1, 2]  # k = round(6.4) = 6
    assert (int(z["height"]), int(z["width"]), float(z["fraction"])) == (8, 8, 0.1)
    model = di.load_network(record)
    np.testing.assert_array_equal(z["top"], di.top_pixels(model, test_x[[4, 1, 2]], [0.5], [0.25], 0.1, 3))
    from pipeline_lib.core.devices import to_tensor
    with torch.no_grad():
        assert z["pred"].tolist() == model(to_tensor(test_x[[4, 1, 2]], [0.5], [0.25], "cpu")).argmax(1).tolist()


def _sal(tmp_path, name, top, ids):
    path = str(tmp_path / f"{name}.npz")
    di.save_top_pixels(path, np.asarray(top), np.zeros(len(top)), np.asarray(ids), 0.3, 2, 5)
    return path


def test_table11_mean_sd_over_cuts_and_average(tmp_path):
    cuts = [{"dataset": "toy", "cut": 0, "saliency": {
                "base": _sal(tmp_path, "b0", [[0, 1, 2], [3, 4, 5]], [0, 1]),
                "dsm": _sal(tmp_path, "d0", [[2, 1, 9], [6, 7, 8]], [0, 1]),     # 2/3 and 0
                "ldam": _sal(tmp_path, "l0", [[2, 1, 0], [5, 4, 3]], [0, 1])}},  # 1 and 1
            {"dataset": "toy", "cut": 1, "saliency": {
                "base": _sal(tmp_path, "b1", [[0, 1, 2]], [7]),
                "dsm": _sal(tmp_path, "d1", [[0, 1, 2]], [7])}}]
    t = di.table11_stage(cuts, ["toy"], str(tmp_path / "t11.csv"), str(tmp_path / "t11.md"), {"toy": "Toy"})
    st = t.set_index(["dataset", "method"])
    assert st.loc[("toy", "dsm"), "mean"] == pytest.approx((1 / 3 + 1) / 2)
    assert st.loc[("toy", "dsm"), "sd"] == pytest.approx((2 / 3) / np.sqrt(2))
    assert st.loc[("toy", "ldam"), "mean"] == pytest.approx(1.0) and st.loc[("toy", "ldam"), "n_cuts"] == 1
    assert st.loc[("Average", "dsm"), "mean"] == pytest.approx(2 / 3)
    md = (tmp_path / "t11.md").read_text()
    assert "top-30 %" in md and "| Toy | 1.0000 | 0.6667 ± 0.4714 | 3 |" in md
    assert "ros" not in set(t["method"])


def test_table11_errors_without_base_or_on_different_images(tmp_path):
    base, dsm = _sal(tmp_path, "b", [[0, 1, 2]], [0]), _sal(tmp_path, "d", [[0, 1, 2]], [1])
    with pytest.raises(ValueError, match="has no Base model"):
        di.saliency_overlaps([{"dataset": "toy", "cut": 0, "saliency": {"dsm": dsm}}])
    with pytest.raises(ValueError, match="different test images"):
        di.saliency_overlaps([{"dataset": "toy", "cut": 0, "saliency": {"base": base, "dsm": dsm}}])
