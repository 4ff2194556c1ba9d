"""Kang et al.'s decoupling baselines (pipeline_lib.core.decoupling: tau-normalisation; cRT is the ros sampler's
head) and their Table II / class-count columns (pipeline_lib.studies.eos.table2)."""
import numpy as np
import pandas as pd
import pytest
import torch

from pipeline_lib.core import decoupling as dc
from pipeline_lib.core import embeddings as emb
from pipeline_lib.studies.eos import table2 as reports
from pipeline_lib.core.heads import load_head
from pipeline_lib.core.models import build_model, save_backbone

# a hand-made head: class norms 5, 2, 1 and a zero row
W = np.array([[3.0, 4.0], [0.0, 2.0], [1.0, 0.0], [0.0, 0.0]])


def test_tau_zero_is_the_identity():
    np.testing.assert_array_equal(dc.tau_normalise(W, 0.0), W)


def test_tau_one_gives_unit_norms():
    out = dc.tau_normalise(W, 1.0)
    np.testing.assert_allclose(out[:3], [[0.6, 0.8], [0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(out[3], [0.0, 0.0])  # a zero class vector stays zero, no NaN


def test_tau_half_divides_by_the_square_root_of_the_norm():
    out = dc.tau_normalise(W, 0.5)
    np.testing.assert_allclose(out[:3], [[3 / 5 ** 0.5, 4 / 5 ** 0.5], [0.0, 2 / 2 ** 0.5], [1.0, 0.0]])
    # norms after: ||w||^(1 - tau)
    np.testing.assert_allclose(np.linalg.norm(out[:3], axis=1), [5 ** 0.5, 2 ** 0.5, 1.0])


def test_stratified_holdout_sizes_and_seed():
    y = np.array([0] * 10 + [1] * 5 + [2] * 2)
    rows = dc.stratified_holdout(y, 0.2, seed=3)
    # round(0.2 * n_c), at least one: 2, 1 (1.0), 1 (0.4 -> at least one)
    assert np.bincount(y[rows]).tolist() == [2, 1, 1]
    assert (np.diff(rows) > 0).all()
    np.testing.assert_array_equal(rows, dc.stratified_holdout(y, 0.2, seed=3))
    assert dc.stratified_holdout(y, 1.0, seed=0).tolist() == list(range(17))
    draws = {tuple(dc.stratified_holdout(y, 0.5, seed=s)) for s in range(5)}
    assert len(draws) > 1  # the seed decides which rows
    with pytest.raises(ValueError, match="share"):
        dc.stratified_holdout(y, 0.0, seed=0)


# class 0 has a ten times longer weight vector: the phase-1 head favours it
W2 = np.array([[10.0, 0.0], [0.0, 1.0]])
X_HELD = np.array([[2.0, 0.5], [1.0, 2.0]])  # one row of each class
Y_HELD = np.array([0, 1])


def test_choose_tau_picks_the_constructed_winner():
    # tau=0: logits [20, .5] -> 0 (right), [10, 2] -> 0 (wrong): BAC 0.5
    # tau=0.5: w0 = (3.162, 0): [6.32, .5] -> 0, [3.16, 2] -> 0: BAC 0.5
    # tau=1: w0 = (1, 0): [2, .5] -> 0, [1, 2] -> 1: BAC 1
    # tau=1.5: w0 = (.316, 0): [.632, .5] -> 0, [.316, 2] -> 1: BAC 1
    # tau=2: w0 = (.1, 0): [.2, .5] -> 1 (wrong), [.1, 2] -> 1: BAC 0.5
    tau, search = dc.choose_tau(W2, X_HELD, Y_HELD, [2.0, 0.0, 1.5, 0.5, 1.0])
    assert search["tau"].tolist() == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert search["bac"].tolist() == [0.5, 0.5, 1.0, 1.0, 0.5]
    assert tau == 1.0  # the tie of 1.0 and 1.5 goes to the smaller
    assert dc.choose_tau(W2, X_HELD, Y_HELD, [2.0, 1.5])[0] == 1.5
    assert dc.choose_tau(W2, X_HELD, Y_HELD, [0.0, 0.5])[0] == 0.0


def test_predict_takes_the_first_class_of_ties():
    # logits [10, 10.5] -> 1; [10, 10] and [1, 1] tie -> 0
    assert dc.predict_bias_free(W2, [[1.0, 10.5], [1.0, 10.0], [0.1, 1.0]]).tolist() == [1, 0, 0]
    assert dc.predict_bias_free(np.array([[0.0, 0.0], [0.0, 0.0]]), [[1.0, 1.0]]).tolist() == [0]


# --- the tau_normalise stage on files ---------------------------------------------------------------------


def _pad(X):
    out = np.zeros((len(X), 64), np.float32)
    out[:, :np.asarray(X).shape[1]] = X
    return out


def _backbone(path, weight, normed=False):
    C = weight.shape[0]
    weight = _pad(weight)
    model = build_model("resnet20", C, in_channels=1, normed_head=normed)
    with torch.no_grad():
        if normed:
            model.head.weight.copy_(torch.as_tensor(weight.T, dtype=torch.float32))
        else:
            model.head.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
            # a bias tau-norm must drop: with it class 1 would win every row of the stage test below
            model.head.bias.copy_(torch.arange(C, dtype=torch.float32) * 100)
    save_backbone(str(path), model, arch="resnet20", num_classes=C, in_channels=1, normed_head=normed,
                  class_names=[f"c{i}" for i in range(C)], mean=[0.0], std=[1.0])
    return model


def _embeddings(path, backbone, ids, y, X, split, pred=None):
    meta = {"dataset": "toy", "split": split, "cut": 0, "loss": "ce", "class_names": ["c0", "c1"][:max(y) + 1],
            "backbone_sha256": emb.file_sha256(str(backbone))}
    pred = np.full(len(y), -1) if pred is None else pred
    emb.write(str(path), emb.make_frame(ids, y, pred, _pad(X)), meta)


def test_stage_chooses_tau_on_train_rows_only(tmp_path):
    bb = tmp_path / "backbone.pt"
    _backbone(bb, np.vstack([W2, np.zeros((0, 2))]))
    # train: 4 rows per class, all alike, so every held-out draw says tau=1 (BAC 1) beats tau=0 (BAC 0.5)
    y_tr = np.array([0] * 4 + [1] * 4)
    _embeddings(tmp_path / "train.parquet", bb, np.arange(100, 108), y_tr, [[2.0, 0.5]] * 4 + [[1.0, 2.0]] * 4, "train")
    # test: built so that tau=0 would win there (BAC 1 against 0.5): the stage must not follow it
    # tau=0: [3, .5] -> 0, [10, 20] -> 1; tau=1: [.3, .5] -> 1 (wrong), [1, 20] -> 1
    _embeddings(tmp_path / "test.parquet", bb, np.arange(2), np.array([0, 1]), [[0.3, 0.5], [1.0, 20.0]], "test")
    out = {k: str(tmp_path / f) for k, f in (("head", "head.pt"), ("pred", "pred.parquet"), ("search", "search.csv"))}
    tau = dc.tau_norm_stage(str(bb), str(tmp_path / "train.parquet"), str(tmp_path / "test.parquet"), out["head"],
                            out["pred"], out["search"], taus=[0.0, 1.0], holdout=0.5, seed=0)
    assert tau == 1.0
    search = pd.read_csv(out["search"])
    assert search["tau"].tolist() == [0.0, 1.0] and search["chosen"].tolist() == [False, True]
    assert search["heldout_bac"].tolist() == [0.5, 1.0] and search["test_bac"].tolist() == [1.0, 0.5]
    assert (search["n_heldout"] == 4).all()  # round(0.5 * 4) of each class
    pred = pd.read_parquet(out["pred"])
    assert pred["pred"].tolist() == [1, 1] and pred["label"].tolist() == [0, 1]
    assert pred.attrs["class_names"] == ["c0", "c1"] and pred.attrs["sampler"] == "tau_norm"
    head, meta = load_head(out["head"])
    np.testing.assert_allclose(head.weight.detach().numpy()[:, :2], [[1.0, 0.0], [0.0, 1.0]])
    assert (head.weight.detach().numpy()[:, 2:] == 0).all() and (head.bias.detach().numpy() == 0).all()
    assert meta["tau"] == 1.0 and meta["normed_phase1_head"] is False
    held = meta["heldout_sample_ids"]
    assert len(held) == 4 and set(held) <= set(range(100, 108))  # train rows only (test ids are 0, 1)
    assert np.bincount(np.array(held) >= 104).tolist() == [2, 2]  # 2 of each class


def test_stage_rejects_embeddings_of_another_backbone(tmp_path):
    bb, other = tmp_path / "a.pt", tmp_path / "b.pt"
    _backbone(bb, W2)
    _backbone(other, W2 * 2)
    _embeddings(tmp_path / "train.parquet", other, [0, 1], np.array([0, 1]), X_HELD, "train")
    _embeddings(tmp_path / "test.parquet", bb, [0, 1], np.array([0, 1]), X_HELD, "test")
    with pytest.raises(ValueError, match="checksums differ"):
        dc.tau_norm_stage(str(bb), str(tmp_path / "train.parquet"), str(tmp_path / "test.parquet"),
                          str(tmp_path / "h.pt"), str(tmp_path / "p.parquet"), str(tmp_path / "s.csv"),
                          taus=[0.0], holdout=1.0, seed=0)


def test_cosine_head_is_left_unchanged(tmp_path):
    """LDAM's NormedLinear: class vectors are unit-normalised before use, so every tau gives the phase-1
    predictions."""
    rng = np.random.RandomState(0)
    raw = rng.randn(3, 64) * np.array([[5.0], [0.5], [2.0]])  # stored norms differ; the head ignores them
    bb = tmp_path / "backbone.pt"
    model = _backbone(bb, raw, normed=True)
    X = np.abs(rng.randn(60, 64)).astype(np.float32)
    with torch.no_grad():
        phase1 = model.head(torch.as_tensor(X)).argmax(1).numpy()
    y = rng.randint(0, 3, 60)
    y[:3] = [0, 1, 2]
    for name, rows in (("train", slice(0, 40)), ("test", slice(40, 60))):
        meta = {"dataset": "toy", "split": name, "cut": 0, "loss": "ldam", "class_names": ["a", "b", "c"],
                "backbone_sha256": emb.file_sha256(str(bb))}
        emb.write(str(tmp_path / f"{name}.parquet"),
                  emb.make_frame(np.arange(60)[rows], y[rows], phase1[rows], X[rows]), meta)
    w, normed = dc.phase1_weights(str(bb))
    assert normed and np.allclose(np.linalg.norm(w, axis=1), 1.0)
    tau = dc.tau_norm_stage(str(bb), str(tmp_path / "train.parquet"), str(tmp_path / "test.parquet"),
                            str(tmp_path / "h.pt"), str(tmp_path / "p.parquet"), str(tmp_path / "s.csv"),
                            taus=[0.0, 0.5, 1.0, 2.0], holdout=0.5, seed=1)
    search = pd.read_csv(tmp_path / "s.csv")
    assert search["heldout_bac"].nunique() == 1 and search["test_bac"].nunique() == 1 and tau == 0.0
    assert pd.read_parquet(tmp_path / "p.parquet")["pred"].tolist() == phase1[40:].tolist()


# --- Table II and class counts ---------------------------------------------------------------------------


def _metrics(path, cut, values):
    rows = [dict(dataset="d", cut=cut, loss="ce", method=m, metric=k, value=v + d)
            for m, v in values.items() for k, d in (("bac", 0.0), ("gm_authors", 0.01), ("fm_authors", 0.02),
                                                     ("gm", 0.03))]
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


def test_table2_shows_the_decoupling_baselines_after_eos(tmp_path):
    files = [_metrics(tmp_path / "m0.csv", 0, {"baseline": 0.5, "eos": 0.6, "crt": 0.7, "tau_norm": 0.4}),
             _metrics(tmp_path / "m1.csv", 1, {"baseline": 0.7, "eos": 0.8, "crt": 0.9, "tau_norm": 0.6})]
    t = reports.table2_stage(files, str(tmp_path / "t.csv"), str(tmp_path / "t.md"), datasets=["d"], losses=["ce"],
                             methods=["baseline", "eos"])
    heads = [c for c in t.columns if c.endswith("_BAC_mean")]
    assert heads == ["Baseline_BAC_mean", "EOS_BAC_mean", "cRT_BAC_mean", "tau-norm_BAC_mean"]
    assert t.loc[0, "cRT_BAC_mean"] == pytest.approx(0.8) and t.loc[0, "tau-norm_GM_mean"] == pytest.approx(0.51)
    assert t.loc[0, "tau-norm_FM_sd"] == pytest.approx(np.std([0.42, 0.62], ddof=1))
    csv = pd.read_csv(tmp_path / "t.csv")
    assert list(csv.columns) == list(t.columns) and all(c.isascii() for c in csv.columns)
    md = (tmp_path / "t.md").read_text()
    header = md.split("## BAC\n\n", 1)[1].splitlines()[0]
    assert header == "| Dataset | Loss | Cuts | Baseline | EOS | cRT | tau-norm |"
    assert "0.8000 ± 0.1414" in md and "decoupling baselines cRT and tau-norm" in md and "never on the test set" in md
    # methods that already list them (or metrics without them) are left as they are
    assert reports.table2_methods(["baseline", "crt", "eos"], {"crt", "tau_norm"}) == ["baseline", "crt", "eos",
                                                                                         "tau_norm"]
    assert reports.table2_methods(["baseline", "eos"], {"baseline", "eos"}) == ["baseline", "eos"]


def test_class_counts_of_crt_and_tau_norm(tmp_path):
    def frame(labels, synthetic):
        n = len(labels)
        return emb.make_frame(np.arange(n), labels, np.zeros(n), np.zeros((n, 2)), synthetic)

    meta = {"class_names": ["big", "small"]}
    emb.write(str(tmp_path / "ros.parquet"), frame([0, 0, 0, 1, 1, 1], [False] * 4 + [True] * 2), meta)
    emb.write(str(tmp_path / "train.parquet"), frame([0, 0, 0, 1], [False] * 4), meta)
    runs = [{"dataset": "d", "cut": 0, "loss": "ce",
             "oversampled": {"crt": str(tmp_path / "ros.parquet"), "tau_norm": str(tmp_path / "train.parquet")}}]
    c = reports.class_counts(runs, ["crt", "tau_norm"])
    assert c["method"].tolist() == ["cRT", "cRT", "tau-norm", "tau-norm"]
    assert c["original"].tolist() == [3, 1, 3, 1] and c["total"].tolist() == [3, 3, 3, 1]
    assert c["synthetic"].tolist() == [0, 2, 0, 0] and c["balanced"].tolist() == [True, True, True, False]
