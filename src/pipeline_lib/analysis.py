"""Analyses of embeddings and heads for the EOS paper's figures (§III-B, §V).

Generalization gap (EOS paper §III-B, implemented as its text defines it)
    For class c and feature j let [a_cj, b_cj] be the range (min, max) of the class's TRAIN embeddings
    and [m_cj, M_cj] the range of its TEST embeddings.  The part of the test range outside the train
    range, as a Manhattan distance with a zero floor, is

        g_cj = max(0, a_cj - m_cj) + max(0, M_cj - b_cj)

    (0 when the test range lies inside the train range).  The gap of class c is the mean of g_cj over
    features; the dataset's gap is the mean over classes.  Train ranges include the synthetic rows of an
    oversampled file, which is how EOS (expanding ranges toward enemies) changes the gap while SMOTE-type
    interpolation inside a class cannot.  Algorithm 1's last lines (``minimum(FRange_trn - FRange_tst, 0)``)
    mix signs of the min and max entries; the text's definition above is used.

TP / FP gap (Fig. 4)
    For each predicted class c, the test rows predicted c are split into true positives (label c) and
    false positives (label != c); the gap of each subset's range is measured against class c's train
    range.  A dataset's TP (FP) gap is the mean over classes that have TP (FP) rows.

Head weight norms (Fig. 5)
    The L2 norm of each class's row of the classifier weight matrix (C x d).
"""
from __future__ import annotations

import numpy as np


def class_ranges(X: np.ndarray, y: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) of every feature per class, each (C, d); NaN rows for absent classes."""
    X = np.asarray(X, dtype=np.float64)
    lo = np.full((num_classes, X.shape[1]), np.nan)
    hi = np.full((num_classes, X.shape[1]), np.nan)
    for c in range(num_classes):
        rows = X[np.asarray(y) == c]
        if len(rows):
            lo[c], hi[c] = rows.min(0), rows.max(0)
    return lo, hi


def range_gap(train_lo, train_hi, test_lo, test_hi) -> np.ndarray:
    """Per-row mean over features of the part of [test_lo, test_hi] outside [train_lo, train_hi]."""
    outside = np.maximum(0.0, np.asarray(train_lo) - test_lo) + np.maximum(0.0, np.asarray(test_hi) - train_hi)
    return outside.mean(axis=-1)


def generalization_gap(train_X, train_y, test_X, test_y, num_classes: int) -> np.ndarray:
    """Gap per class (C,), NaN for a class missing from train or test."""
    tr = class_ranges(train_X, train_y, num_classes)
    te = class_ranges(test_X, test_y, num_classes)
    return range_gap(*tr, *te)


def tp_fp_gap(train_X, train_y, test_X, test_y, test_pred, num_classes: int) -> dict[str, np.ndarray]:
    """Per predicted class: gap of the true-positive and of the false-positive test rows."""
    test_y, test_pred = np.asarray(test_y), np.asarray(test_pred)
    tr_lo, tr_hi = class_ranges(train_X, train_y, num_classes)
    out = {}
    for name, mask in (("tp", test_pred == test_y), ("fp", test_pred != test_y)):
        lo, hi = class_ranges(np.asarray(test_X)[mask], test_pred[mask], num_classes)
        out[name] = range_gap(tr_lo, tr_hi, lo, hi)
    return out


def weight_norms(weight) -> np.ndarray:
    """L2 norm of each class's weight vector; ``weight`` is (C, d) (nn.Linear) or (d, C) (NormedLinear
    stores its weight transposed: pass ``weight.T``)."""
    return np.linalg.norm(np.asarray(weight, dtype=np.float64), axis=1)
