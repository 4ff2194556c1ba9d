"""pipeline_lib.studies.eos.tables: metrics of prediction files, label-conflict share, the study tables."""
import numpy as np
import pandas as pd
import pytest

from pipeline_lib.core import embeddings as emb
from pipeline_lib.studies.eos import tables as es


def predictions(path, label, pred, classes=("a", "b", "c")):
    df = pd.DataFrame({"sample_id": np.arange(len(label)), "label": label, "pred": pred})
    df.attrs = {"class_names": list(classes)}
    df.to_parquet(path, index=False)
    return str(path)


def test_prediction_metrics_perfect_and_chance(tmp_path):
    y = np.repeat([0, 1, 2], 4)
    assert es.prediction_metrics(predictions(tmp_path / "p.parquet", y, y))["bac"] == 1.0
    assert es.prediction_metrics(predictions(tmp_path / "q.parquet", y, np.zeros_like(y)))["bac"] == pytest.approx(1 / 3)


def test_label_conflict_share_counts_synthetic_rows_nearest_to_another_class(tmp_path):
    X = np.array([[0.0, 0], [0.1, 0], [5, 5], [5.1, 5],   # originals: class 0 near (0,0), class 1 near (5,5)
                  [0.05, 0], [4.9, 5], [5, 4.9]], np.float32)  # synthetic class 1: one inside class 0, two at home
    y = np.array([0, 0, 1, 1, 1, 1, 1])
    syn = np.array([False] * 4 + [True] * 3)
    path = tmp_path / "ov.parquet"
    emb.write(str(path), emb.make_frame(np.r_[np.arange(4), -np.ones(3)], y, np.r_[y[:4], -np.ones(3)], X, syn),
              {"class_names": ["a", "b"]})
    assert es.label_conflict_share(str(path)) == pytest.approx(1 / 3)
    emb.write(str(path), emb.make_frame(np.arange(4), y[:4], y[:4], X[:4]), {"class_names": ["a", "b"]})
    assert np.isnan(es.label_conflict_share(str(path)))


def test_table4_summarises_cuts_and_renders_k_rows(tmp_path):
    y = np.repeat([0, 1, 2], 4)
    right, wrong = y.copy(), y.copy()
    wrong[:4] = 1  # class 0 all wrong: BAC 2/3
    recs = [{"dataset": "digits", "cut": c, "k": k,
             "predictions": predictions(tmp_path / f"{k}_{c}.parquet", y, right if (k == 10 or c == 0) else wrong)}
            for k in (10, 50) for c in (0, 1)]
    out = es.table4_stage(recs, str(tmp_path / "t4.csv"), str(tmp_path / "t4.md"), titles={"digits": "Digits"},
                          table2_k=10)
    bac = out[out["metric"] == "bac"].set_index("k")
    assert bac.loc[10, "mean"] == 1.0 and bac.loc[10, "sd"] == 0
    assert bac.loc[50, "mean"] == pytest.approx((1 + 2 / 3) / 2) and bac.loc[50, "n_cuts"] == 2
    md = (tmp_path / "t4.md").read_text()
    # one block per metric, K as rows, the best K of each data set (column) in bold
    assert md.count("| K | Digits |") == 3 and "## BAC\n\n| K | Digits |" in md
    assert "\n| 10 | **1.0000 ± 0.0000** |" in md and "\n| 50 | 0.8333 ± 0.2357 |" in md
    assert pd.read_csv(tmp_path / "t4.csv").columns.tolist() == ["dataset", "loss", "method", "k", "metric", "mean", "sd",
                                                                 "n_cuts"]


def test_variants_keep_cuts_and_add_conflict(tmp_path):
    y = np.repeat([0, 1], 3)
    X = np.array([[0.0], [0.1], [0.2], [5], [5.1], [5.2], [0.15]], np.float32)
    ov = tmp_path / "ov.parquet"
    emb.write(str(ov), emb.make_frame(np.r_[np.arange(6), -1], np.r_[y, 1], np.r_[y, -1], X,
                                      np.r_[np.zeros(6, bool), True]), {"class_names": ["a", "b"]})
    recs = [{"dataset": "d", "loss": "ce", "cut": c, "method": m,
             "predictions": predictions(tmp_path / f"{m}{c}.parquet", y, y, ("a", "b")), "oversampled": str(ov)}
            for m in ("smote", "eos_text") for c in (0, 1)]
    tidy = es.variants_stage(recs, str(tmp_path / "v.csv"), str(tmp_path / "v.md"), titles={}, k=10)
    assert len(tidy) == 2 * 2 * 4 and set(tidy["cut"]) == {0, 1}
    assert (tidy[tidy["metric"] == "label_conflict"]["value"] == 1.0).all()
    md = (tmp_path / "v.md").read_text()
    assert "## Conflict\n\n| Dataset | Loss | SMOTE | EOS text |" in md and "## BAC\n" in md
    assert "**" not in md  # BAC ties throughout, and the conflict share is never marked
