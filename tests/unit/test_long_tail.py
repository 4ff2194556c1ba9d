"""Long-tail reporting: many / medium / few-shot accuracy (pipeline_lib.core.long_tail), post-hoc logit adjustment
(pipeline_lib.core.decoupling) and the readable Markdown tables (pipeline_lib.render.tables.markdown_block), on
hand-made predictions."""
import numpy as np
import pandas as pd
import pytest
import torch

from pipeline_lib.core import decoupling as dc
from pipeline_lib.core import embeddings as emb
from pipeline_lib.core import long_tail as lt
from pipeline_lib.render import names
from pipeline_lib.studies.eos import shots
from pipeline_lib.studies.eos import table2 as reports
from pipeline_lib.core.models import build_model, save_backbone
from test_decoupling import _pad


def test_shot_groups_follow_the_thresholds():
    counts = [150, 101, 100, 20, 19, 5]
    assert lt.shot_groups(counts).tolist() == ["many", "many", "medium", "medium", "few", "few"]
    assert lt.shot_groups(counts, many_above=10, few_below=6).tolist() == ["many"] * 5 + ["few"]
    with pytest.raises(ValueError, match="few_below"):
        lt.shot_groups(counts, many_above=10, few_below=30)


def test_shot_accuracy_is_the_mean_recall_of_each_group():
    acc = lt.shot_accuracy([1.0, 0.8, 0.5, 0.3, 0.0], [500, 200, 50, 10, 3])
    assert acc["many"] == pytest.approx(0.9) and acc["medium"] == pytest.approx(0.5)
    assert acc["few"] == pytest.approx(0.15)
    assert np.isnan(lt.shot_accuracy([1.0, 0.5], [500, 200])["few"])  # no few-shot class: no value


def _run(tmp_path, cut, recalls, labels):
    """A run's evaluate_run CSV (recall_<c> rows and a bac row per method) and its train embeddings."""
    rows = [dict(dataset="d", cut=cut, loss="ce", method=m, metric=f"recall_{c}", value=r)
            for m, rs in recalls.items() for c, r in enumerate(rs)]
    rows += [dict(dataset="d", cut=cut, loss="ce", method=m, metric="bac", value=float(np.mean(rs)))
             for m, rs in recalls.items()]
    pd.DataFrame(rows).to_csv(tmp_path / f"m{cut}.csv", index=False)
    n = len(labels)
    emb.write(str(tmp_path / f"train{cut}.parquet"),
              emb.make_frame(np.arange(n), labels, np.zeros(n), np.zeros((n, 2)), np.zeros(n, bool)),
              {"class_names": ["head", "body", "tail"]})
    return str(tmp_path / f"m{cut}.csv"), str(tmp_path / f"train{cut}.parquet")


def test_table2_companion_from_hand_made_recalls(tmp_path):
    labels = np.repeat([0, 1, 2], [120, 40, 5])  # many, medium, few
    f0 = _run(tmp_path, 0, {"baseline": [1.0, 0.5, 0.0], "eos": [0.9, 0.6, 0.4], "logit_adj": [0.8, 0.7, 0.6]}, labels)
    f1 = _run(tmp_path, 1, {"baseline": [0.8, 0.5, 0.2], "eos": [0.9, 0.8, 0.2], "logit_adj": [0.8, 0.7, 0.5]}, labels)
    out = {k: str(tmp_path / f"{k}.{e}") for k, e in (("csv", "csv"), ("per_class", "csv"), ("md", "md"))}
    s = shots.shots_stage([f0[0], f1[0]], [f0[1], f1[1]], [{"dataset": "d", "cut": 0, "loss": "ce"},
                                                          {"dataset": "d", "cut": 1, "loss": "ce"}],
                       out["csv"], out["per_class"], out["md"], datasets=["d"], losses=["ce"],
                       methods=["baseline", "eos"], titles={"d": "Toy"}, many_above=100, few_below=20)
    assert s["method"].unique().tolist() == ["baseline", "eos", "logit_adj"]  # LA after the samplers
    few = s[s["shot"] == "few"].set_index("method")
    assert few.loc["baseline", "mean"] == pytest.approx(0.1) and few.loc["eos", "mean"] == pytest.approx(0.3)
    assert few.loc["logit_adj", "sd"] == pytest.approx(np.std([0.6, 0.5], ddof=1))
    assert (s["n_cuts"] == 2).all() and (s["n_classes"] == 1).all()
    pc = pd.read_csv(out["per_class"])
    assert len(pc) == 2 * 3 * 3 and pc["train_count"].unique().tolist() == [120, 40, 5]
    row = pc[(pc["cut"] == 1) & (pc["method"] == "eos") & (pc["class_name"] == "body")].iloc[0]
    assert row["shot"] == "medium" and row["recall"] == pytest.approx(0.8)
    md = open(out["md"]).read()
    assert "## Toy, CE" in md and "| Method | Many (1 cl.) | Medium (1 cl.) | Few (1 cl.) |" in md
    assert "| LA | 0.8000 ± 0.0000 | **0.7000 ± 0.0000** | **0.5500 ± 0.0707** |" in md
    assert "| Baseline | **0.9000 ± 0.1414** |" in md and "| EOS | **0.9000 ± 0.0000** |" in md  # ties: both


def test_markdown_block_marks_the_best_of_each_row_and_shows_gaps():
    cells = {(0, "a"): (0.5, np.nan), (0, "b"): (0.7, 0.1), (1, "a"): (0.2, np.nan), (1, "b"): (np.nan, np.nan)}
    md = reports.markdown_block("BAC", ["Row", "a", "b"], ["r0", "r1"], ["a", "b"], [0, 1], cells)
    assert "| r0 | 0.5000 | **0.7000 ± 0.1000** |" in md and "| r1 | 0.2000 | — |" in md  # r1: one value only
    md = reports.markdown_block("", ["Row", "a", "b"], ["r0", "r1"], ["a", "b"], [0, 1], cells, best_along="column")
    assert "| r0 | **0.5000** | 0.7000 ± 0.1000 |" in md  # column b has one value: nothing to compare
    assert "**" not in reports.markdown_block("", ["Row", "a", "b"], ["r0", "r1"], ["a", "b"], [0, 1], cells,
                                              best=None)
    ties = {(0, "a"): (0.0, 0.0), (0, "b"): (0.0, 0.0)}  # a row that ties throughout: nothing marked
    assert "**" not in reports.markdown_block("", ["Row", "a", "b"], ["r0"], ["a", "b"], [0], ties)
    assert names.TABLE1_NAMES["pre_my_adasyn"] == "Pre-my_adasyn" and names.TABLE1_NAMES["pre_smote"] == "Pre-SMOTE"


def test_table2_markdown_is_one_block_per_metric(tmp_path):
    rows = [dict(dataset="d", cut=c, loss="ce", method=m, metric=k, value=v + 0.1 * c)
            for c in (0, 1) for m, v in (("baseline", 0.5), ("eos", 0.6), ("my_adasyn", 0.55))
            for k in ("bac", "gm_authors", "fm_authors", "gm")]
    pd.DataFrame(rows).to_csv(tmp_path / "m.csv", index=False)
    t = reports.table2_stage([str(tmp_path / "m.csv")], str(tmp_path / "t.csv"), str(tmp_path / "t.md"),
                             datasets=["d"], losses=["ce"], methods=["baseline", "eos", "my_adasyn"],
                             custom={"my_adasyn": "my_adasyn: imblearn.over_sampling.ADASYN (imbalanced-learn 0.14)"})
    assert "my_adasyn_BAC_mean" in t.columns  # your own sampler under its own name in the tidy CSV
    md = (tmp_path / "t.md").read_text()
    for metric in ("BAC", "GM", "FM", "GMrec"):
        assert f"## {metric}\n" in md
    assert md.count("| Dataset | Loss | Cuts | Baseline | EOS | my_adasyn |") == 4
    assert "| d | CE | 2 | 0.5500 ± 0.0707 | **0.6500 ± 0.0707** | 0.6000 ± 0.0707 |" in md
    assert "- my_adasyn: imblearn.over_sampling.ADASYN (imbalanced-learn 0.14)" in md


# --- post-hoc logit adjustment -----------------------------------------------------------------------------


def test_logit_adjustment_subtracts_tau_log_prior():
    prior = dc.log_prior([0, 0, 0, 1], 2)
    np.testing.assert_allclose(prior, np.log([0.75, 0.25]))
    logits = np.array([[1.0, 0.5], [1.0, 0.0]])
    assert dc.logit_adjusted(logits, prior, 0.0).tolist() == [0, 0]
    # tau 1: [1 + .288, .5 + 1.386] -> 1; [1.288, 1.386] -> 1
    assert dc.logit_adjusted(logits, prior, 1.0).tolist() == [1, 1]
    tau, search = dc.choose_adjustment(logits, np.array([1, 0]), prior, [2.0, 0.5, 1.0])
    # 0.5: [1.144, 1.193] -> 1, [1.144, .693] -> 0: BAC 1 (1.0 and 2.0 give 0.5)
    assert tau == 0.5 and search["tau"].tolist() == [0.5, 1.0, 2.0] and search["bac"].tolist() == [1.0, 0.5, 0.5]


def _linear_backbone(path, weight, bias):
    C = weight.shape[0]
    model = build_model("resnet20", C, in_channels=1)
    with torch.no_grad():
        model.head.weight.copy_(torch.as_tensor(_pad(weight), dtype=torch.float32))
        model.head.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
    save_backbone(str(path), model, arch="resnet20", num_classes=C, in_channels=1, normed_head=False,
                  class_names=["c0", "c1"], mean=[0.0], std=[1.0])


def _emb(path, backbone, ids, y, X):
    meta = {"dataset": "toy", "cut": 0, "loss": "ce", "class_names": ["c0", "c1"],
            "backbone_sha256": emb.file_sha256(str(backbone))}
    emb.write(str(path), emb.make_frame(ids, y, np.full(len(y), -1), _pad(X)), meta)


def test_logit_adjust_stage_chooses_tau_on_held_out_train_rows_only(tmp_path):
    bb = tmp_path / "backbone.pt"
    _linear_backbone(bb, np.eye(2), [0.25, 0.0])
    # train: 6 rows of class 0, 2 of class 1 (prior .75 / .25); logits with the bias: [2.25, .5] and [1.25, .9]
    # tau 0: class 1's rows -> 0 (BAC .5); tau 1: [2.54, 1.89] -> 0, [1.54, 2.29] -> 1 (BAC 1)
    y = np.array([0] * 6 + [1] * 2)
    _emb(tmp_path / "train.parquet", bb, np.arange(100, 108), y, [[2.0, 0.5]] * 6 + [[1.0, 0.9]] * 2)
    # test built so that tau 0 would win there: [1.25, .5] -> 0 at tau 0, 1 at tau 1; [.25, 2] -> 1 at both
    _emb(tmp_path / "test.parquet", bb, np.arange(2), np.array([0, 1]), [[1.0, 0.5], [0.0, 2.0]])
    tau = dc.logit_adjust_stage(str(bb), str(tmp_path / "train.parquet"), str(tmp_path / "test.parquet"),
                                str(tmp_path / "p.parquet"), str(tmp_path / "s.csv"), taus=[0.0, 1.0], holdout=0.5,
                                seed=0, cosine_scale=30.0)
    assert tau == 1.0
    search = pd.read_csv(tmp_path / "s.csv")
    assert search["heldout_bac"].tolist() == [0.5, 1.0] and search["test_bac"].tolist() == [1.0, 0.5]
    assert (search["n_heldout"] == 4).all() and search["chosen"].tolist() == [False, True]
    pred = pd.read_parquet(tmp_path / "p.parquet")
    assert pred["pred"].tolist() == [1, 1] and pred.attrs["sampler"] == "logit_adj"
    np.testing.assert_allclose(pred.attrs["log_prior"], np.log([0.75, 0.25]))


def test_cosine_head_logits_are_scaled_cosines(tmp_path):
    bb = tmp_path / "backbone.pt"
    model = build_model("resnet20", 2, in_channels=1, normed_head=True)
    with torch.no_grad():
        model.head.weight.copy_(torch.as_tensor(_pad(np.array([[3.0, 0.0], [0.0, 0.5]])).T))
    save_backbone(str(bb), model, arch="resnet20", num_classes=2, in_channels=1, normed_head=True,
                  class_names=["a", "b"], mean=[0.0], std=[1.0])
    logits = dc.phase1_logits(str(bb), _pad(np.array([[1.0, 1.0], [2.0, 0.0]])), cosine_scale=30.0)
    np.testing.assert_allclose(logits, 30 * np.array([[0.5 ** 0.5, 0.5 ** 0.5], [1.0, 0.0]]), atol=1e-6)
