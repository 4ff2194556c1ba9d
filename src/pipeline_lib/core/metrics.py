"""Skew-insensitive metrics, as the authors computed them and in their conventional form.

    bac         sklearn ``balanced_accuracy_score`` (mean per-class recall)
    gm_authors  imblearn ``geometric_mean_score(average="macro")``: for more than two classes this
                is sqrt(mean_c TPR_c x mean_c TNR_c), NOT the geometric mean of the recalls.  It is
                what the EOS paper's GM column reports.
    fm_authors  sklearn macro-F1 with ``zero_division=1`` (the paper's FM column)
    gm          conventional multiclass G-mean: geometric mean of per-class recalls
                (imblearn ``average="multiclass"``; 0 as soon as one class has recall 0)
    fm          macro-F1 with ``zero_division=0``
    acc         plain accuracy
    recall_<c>  per-class accuracy (recall) of class c
"""
from __future__ import annotations

import numpy as np
import pandas as pd

SUMMARY_METRICS = ("bac", "gm_authors", "fm_authors", "gm", "fm", "acc")


def compute(y_true, y_pred, num_classes: int) -> dict[str, float]:
    from imblearn.metrics import geometric_mean_score  # heavy imports: only where needed
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, recall_score

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = list(range(num_classes))
    out = {
        "bac": balanced_accuracy_score(y_true, y_pred),
        "gm_authors": geometric_mean_score(y_true, y_pred, average="macro", labels=labels),
        "fm_authors": f1_score(y_true, y_pred, average="macro", zero_division=1, labels=labels),
        "gm": geometric_mean_score(y_true, y_pred, average="multiclass", labels=labels),
        "fm": f1_score(y_true, y_pred, average="macro", zero_division=0, labels=labels),
        "acc": accuracy_score(y_true, y_pred),
    }
    recalls = recall_score(y_true, y_pred, average=None, labels=labels, zero_division=0)
    out.update({f"recall_{c}": r for c, r in zip(labels, recalls)})
    return {k: float(v) for k, v in out.items()}


def balanced_accuracy(y_true, y_pred) -> float:
    """Mean per-class recall over the classes present in ``y_true`` (= sklearn's
    ``balanced_accuracy_score``; computed here to keep sklearn out of the training loops' start-up)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes = np.unique(y_true)
    return float(np.mean([(y_pred[y_true == c] == c).mean() for c in classes]))


def macro_f1(y_true, y_pred, num_classes: int) -> float:
    """Macro-F1 over ``range(num_classes)`` with zero_division=1 (the authors' FM)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    scores = []
    for c in range(num_classes):
        tp = np.sum((y_pred == c) & (y_true == c))
        denom = np.sum(y_pred == c) + np.sum(y_true == c)
        scores.append(1.0 if denom == 0 else 2.0 * tp / denom)
    return float(np.mean(scores))


def tidy(values: dict[str, float], **keys) -> pd.DataFrame:
    """Long-format frame: the ``keys`` columns (dataset, cut, loss, method ...), metric, value."""
    df = pd.DataFrame({"metric": list(values), "value": list(values.values())})
    for i, (k, v) in enumerate(keys.items()):
        df.insert(i, k, v)
    return df


def prediction_metrics(path: str) -> dict[str, float]:
    """:func:`compute` of a file with ``label`` and ``pred`` columns (the test embeddings for a phase-1
    network, a head's or a backbone's test predictions); the classes from its metadata."""
    df = pd.read_parquet(path, columns=["label", "pred"])
    num_classes = len(df.attrs["class_names"])  # file metadata, restored by pandas
    return compute(df["label"].to_numpy(), df["pred"].to_numpy(), num_classes)


def evaluate_run(prediction_files: list[str], methods: list[str], out_csv: str, **keys) -> pd.DataFrame:
    """The ``evaluate_run`` rule: metrics of files with ``label`` and ``pred`` columns (the test
    embeddings for the baseline, head predictions otherwise), one per method, as one tidy CSV with
    columns ``<keys>..., method, metric, value``."""
    frames = [tidy(prediction_metrics(path), **keys, method=method)
              for path, method in zip(prediction_files, methods, strict=True)]
    out = pd.concat(frames, ignore_index=True)
    out.to_csv(out_csv, index=False)
    return out
