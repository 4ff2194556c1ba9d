import numpy as np
import pandas as pd
import pytest
from imblearn.metrics import geometric_mean_score

from pipeline_lib.core import embeddings, metrics
from pipeline_lib.studies.eos import table2 as reports


def _frame(n=6, d=64, synthetic=0):
    rng = np.random.RandomState(0)
    f = rng.rand(n + synthetic, d).astype(np.float32)
    ids = np.r_[np.arange(n), -np.ones(synthetic, int)]
    pred = np.r_[np.arange(n) % 3, -np.ones(synthetic, int)]
    syn = np.r_[np.zeros(n, bool), np.ones(synthetic, bool)]
    return embeddings.make_frame(ids, np.arange(n + synthetic) % 3, pred, f, syn)


def test_parquet_schema_and_metadata_readable_with_plain_pandas(tmp_path):
    path = str(tmp_path / "train.parquet")
    meta = {"dataset": "digits", "split": "train", "cut": 0, "loss": "ce", "backbone_sha256": "ab" * 32,
            "class_names": ["a", "b", "c"]}
    df = _frame(synthetic=2)
    embeddings.write(path, df, meta)
    back = pd.read_parquet(path)
    assert list(back.columns[:4]) == ["sample_id", "label", "pred", "is_synthetic"]
    assert list(back.columns[4:]) == [f"f{i}" for i in range(64)]
    assert all(back[f"f{i}"].dtype == np.float32 for i in range(64))
    assert back["sample_id"].dtype == np.int64 and back["is_synthetic"].dtype == bool
    assert back.attrs["class_names"] == ["a", "b", "c"]
    assert back.attrs["feature_dim"] == 64 and back.attrs["backbone_sha256"] == "ab" * 32
    df2, meta2 = embeddings.read(path)
    pd.testing.assert_frame_equal(df2, df)
    assert meta2["dataset"] == "digits" and meta2["split"] == "train"


def test_schema_rejects_bad_frames(tmp_path):
    df = _frame()
    with pytest.raises(ValueError, match="float32"):
        embeddings.write(str(tmp_path / "x.parquet"), df.astype({"f3": np.float64}), {})
    bad = _frame(synthetic=2).iloc[::-1].reset_index(drop=True)
    with pytest.raises(ValueError, match="synthetic rows must follow"):
        embeddings.write(str(tmp_path / "y.parquet"), bad, {})


def test_writing_twice_gives_same_bytes(tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    embeddings.write(str(a), _frame(), {"dataset": "x"})
    embeddings.write(str(b), _frame(), {"dataset": "x"})
    assert a.read_bytes() == b.read_bytes()


def test_metrics_authors_and_conventional():
    y = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    p = np.array([0, 0, 0, 1, 1, 1, 0, 0])  # class 2 never predicted
    m = metrics.compute(y, p, 3)
    recalls = [0.75, 1.0, 0.0]
    assert m["bac"] == pytest.approx(np.mean(recalls))
    assert [m[f"recall_{c}"] for c in range(3)] == pytest.approx(recalls)
    assert m["gm"] == 0.0  # geometric mean of recalls with a zero recall
    # authors' GM: sqrt(mean TPR x mean TNR)
    tnr = [(4 - 2) / 4, (6 - 1) / 6, 1.0]  # class 0: 2 of 4 negatives predicted 0; class 1: 1 of 6
    assert m["gm_authors"] == pytest.approx(np.sqrt(np.mean(recalls) * np.mean(tnr)))
    assert m["gm_authors"] == pytest.approx(geometric_mean_score(y, p, average="macro"))
    # class 2 has no predictions: precision 0/0 -> 1 (authors) or 0 (conventional)
    f1_0, f1_1 = 2 * 0.6 * 0.75 / (0.6 + 0.75), 2 * (2 / 3) * 1.0 / (2 / 3 + 1)
    assert m["fm"] == pytest.approx((f1_0 + f1_1 + 0) / 3)
    assert m["fm_authors"] == pytest.approx((f1_0 + f1_1 + 0) / 3)  # recall 0 -> F1 0 either way
    assert m["acc"] == pytest.approx(5 / 8)


def test_table2_mean_sd_over_cuts(tmp_path):
    rows = []
    for cut, v in ((0, 0.5), (10, 0.7)):
        for meth in ("baseline", "eos"):
            for met in ("bac", "gm_authors", "fm_authors", "gm"):
                rows.append(dict(dataset="d", cut=cut, loss="ce", method=meth, metric=met,
                                 value=v + (0.1 if meth == "eos" else 0)))
    t = reports.table2(pd.DataFrame(rows), ["d"], ["ce"], ["baseline", "eos"])
    assert t.loc[0, "n_cuts"] == 2 and t.loc[0, "loss"] == "CE"
    assert t.loc[0, "Baseline_BAC_mean"] == pytest.approx(0.6)
    assert t.loc[0, "EOS_FM_mean"] == pytest.approx(0.7)
    assert t.loc[0, "EOS_GM_sd"] == pytest.approx(np.std([0.6, 0.8], ddof=1))
    md = reports.to_markdown(t, ["baseline", "eos"])
    assert "0.6000 ± 0.1414" in md and "| d | CE | 2 |" in md


def test_light_metrics_equal_sklearn():
    from sklearn.metrics import balanced_accuracy_score, f1_score

    rng = np.random.RandomState(1)
    y = rng.randint(0, 5, 300)
    p = np.where(rng.rand(300) < 0.6, y, rng.randint(0, 4, 300))  # class 4 never predicted
    assert metrics.balanced_accuracy(y, p) == pytest.approx(balanced_accuracy_score(y, p))
    assert metrics.macro_f1(y, p, 5) == pytest.approx(f1_score(y, p, average="macro", zero_division=1))
    assert metrics.macro_f1(y, p, 6) == pytest.approx(
        f1_score(y, p, average="macro", zero_division=1, labels=list(range(6))))


def test_table1_rows_pixel_vs_embedding():
    rows = []
    for cut, v in ((0, 0.4), (10, 0.6)):
        for meth, loss in (("pre_smote", "ce"), ("pre_remix", "ce"), ("smote", "ce"), ("smote", "focal")):
            for met in ("bac", "gm_authors", "fm_authors"):
                rows.append(dict(dataset="d", cut=cut, loss=loss, method=meth, metric=met,
                                 value=v + (0.2 if loss == "focal" else 0) + (0.1 if meth == "smote" else 0)))
    t = reports.table1(pd.DataFrame(rows), ["d"], ["pre_smote", "pre_remix", "smote"])
    assert t["method"].tolist() == ["Pre-SMOTE", "REMIX", "Post-SMOTE"]
    assert t["space"].tolist() == ["pixel", "pixel", "embedding"]
    assert t.loc[2, "d_BAC_mean"] == pytest.approx(0.6)  # CE only: the focal rows are ignored
    assert t.loc[0, "d_GM_sd"] == pytest.approx(np.std([0.4, 0.6], ddof=1)) and t.loc[0, "d_n_cuts"] == 2
    assert "| Pre-SMOTE | 0.5000 ± 0.1414" in reports.table1_markdown(t, ["d"])
