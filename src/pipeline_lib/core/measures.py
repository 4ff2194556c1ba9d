"""Measures of embeddings and heads shared by the studies (first written for the EOS paper's figures, §III-B, §V).

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

Tabular study ("How Data Augmentation Works", §III-B..D; "Hidden Influence of Latent Feature
Magnitude", Figs 2-4) -- the functions below the EOS ones:

Relative weight change (Tables VI, VII)
    mean over entries of |W_m - W_base| / |W_base|.  An entry with W_base (numerically) 0 has no relative
    change, and it occurs: a feature constant in a train split is 0 after scaling and keeps LG weight 0;
    an MLP unit that died (ReLU never active) gets no gradient, and weight decay shrinks its classification
    weights to ~1e-20, which would make the mean ~1e20.  Entries with |W_base| <= rel_tol * max|W_base|
    (rel_tol = 1e-6) are therefore left out of the mean and counted.  ``eps > 0`` instead divides by
    |W_base| + eps and keeps every entry.  The authors' code has neither (a 0 entry gives inf / nan).

Top-K features of a class (Tables IX, X; Figs 11, 12)
    For class c the rows of test instances of class c that the model predicts correctly (the authors'
    ``topk_LG.py``; all instances of c when the model predicts none of them correctly, flagged) give per
    feature the magnitude |mean over instances| (``how="abs_of_mean"``: the paper's "absolute value of
    each CE feature mean") or mean |value| (``how="mean_of_abs"``: the authors' code).  Values are
    classification embeddings x * w for LG and input gradients for the NN.  The top-K are the K largest
    (ties: lower index first); the overlap of a model with Base is sum_c |top_c(m) & top_c(base)| / (C K).

Support-vector bookkeeping (Figs 2-6)
    ``mode="paper"``: an SV is identified with the original training instance its row is or copies
    (``sample_id``; a hard-label REMIX row with its dominant partner), an interpolated row has no
    identity and is always new; synthetic = ``is_synthetic``.  ``mode="authors"`` (``SV_counts.py``):
    identity = row index, synthetic = index > n_original (their off-by-one; ``>=`` would be right).
    Majority / minority SVs by label; dual-coefficient ratio = -sum(dc_majority) / sum(dc_minority)
    (1 for every SVC with an intercept, by the KKT condition sum_i alpha_i y_i = 0).

CE needed to predict an instance (magnitude paper, Figs 2-4)
    For a binary linear model with decision w.x + b, predicted class p and s = +1 (p = 1) or -1 (p = 0),
    the predicted class's classification embeddings are ce = s (x * w), its bias s b and the competing
    score 0.  The number needed is the smallest k such that the k largest ce plus all negative ce plus the
    bias reach 0 (the authors' greedy loop of ``cif_CE_mag_all.py``, capped at d).  ``bias="true"`` uses
    the true class's bias (their code) instead of the predicted class's.  The class count of Fig. 4 is
    the number of distinct features selected for at least one instance of the class.
"""
from __future__ import annotations

import warnings

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


# --- tabular study -------------------------------------------------------------------------------------

def relative_weight_change(w_base, w_method, eps: float = 0.0, rel_tol: float = 1e-6) -> tuple[float, int]:
    """(mean |W_m - W_b| / |W_b|, number of entries left out because W_b is numerically 0, i.e.
    |W_b| <= rel_tol * max |W_b|); with ``eps > 0`` every entry is kept and divided by |W_b| + eps."""
    wb = np.asarray(w_base, dtype=np.float64).ravel()
    wm = np.asarray(w_method, dtype=np.float64).ravel()
    if wb.shape != wm.shape:
        raise ValueError(f"weight shapes differ: {np.shape(w_base)} vs {np.shape(w_method)}")
    if eps > 0:
        return float(np.mean(np.abs(wm - wb) / (np.abs(wb) + eps))), 0
    keep = np.abs(wb) > rel_tol * np.abs(wb).max(initial=0.0)
    if not keep.any():
        return float("nan"), int(wb.size)
    return float(np.mean(np.abs(wm[keep] - wb[keep]) / np.abs(wb[keep]))), int((~keep).sum())


def linear_contributions(X, w) -> np.ndarray:
    """Classification embeddings of a binary linear model: x * w per instance (n, d)."""
    return np.asarray(X, dtype=np.float64) * np.asarray(w, dtype=np.float64).ravel()


def frobenius_norm(weight) -> float:
    return float(np.linalg.norm(np.asarray(weight, dtype=np.float64)))


MAGNITUDES = ("abs_of_mean", "mean_of_abs")


def class_feature_magnitudes(values, y_true, y_pred, num_classes: int = 2, how: str = "abs_of_mean"):
    """Per class, the feature magnitudes over its correctly predicted instances: ``(mags (C, d),
    fallback (C,) bool)``; ``fallback[c]`` marks a class whose magnitudes come from all its instances
    because none was predicted correctly (NaN row if the class has no instance at all)."""
    if how not in MAGNITUDES:
        raise ValueError(f"how {how!r} not allowed; allowed: {', '.join(MAGNITUDES)}")
    values = np.asarray(values, dtype=np.float64)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    mags = np.full((num_classes, values.shape[1]), np.nan)
    fallback = np.zeros(num_classes, bool)
    for c in range(num_classes):
        rows = (y_true == c) & (y_pred == c)
        if not rows.any():
            rows, fallback[c] = y_true == c, True
        if rows.any():
            v = values[rows]
            mags[c] = np.abs(v.mean(0)) if how == "abs_of_mean" else np.abs(v).mean(0)
    return mags, fallback


def top_k(magnitudes, k: int) -> np.ndarray:
    """Indices of the k largest magnitudes, largest first (ties: lower index first; NaN last)."""
    m = np.nan_to_num(np.asarray(magnitudes, dtype=np.float64), nan=-np.inf)
    return np.argsort(-m, kind="stable")[:k]


def top_k_overlap(base_top, method_top) -> float:
    """sum over classes of |top_c(method) & top_c(base)| / (C K); rows of the two (C, K) arrays are classes."""
    base_top, method_top = np.asarray(base_top), np.asarray(method_top)
    if base_top.shape != method_top.shape:
        raise ValueError(f"top-K shapes differ: {base_top.shape} vs {method_top.shape}")
    hits = sum(len(set(b.tolist()) & set(m.tolist())) for b, m in zip(base_top, method_top))
    return hits / base_top.size


SV_MODES = ("paper", "authors")


def sv_identities(support, train_sample_id, mode: str = "paper") -> np.ndarray:
    """Identity of each support vector: its original instance (paper; -1 for an interpolated row) or its
    row index (authors)."""
    support = np.asarray(support, np.int64)
    if mode == "paper":
        return np.asarray(train_sample_id, np.int64)[support]
    if mode == "authors":
        return support
    raise ValueError(f"mode {mode!r} not allowed; allowed: {', '.join(SV_MODES)}")


def support_vector_stats(support, dual_coef, train_label, train_sample_id, train_is_synthetic, n_original: int,
                         base_ids, mode: str = "paper") -> dict[str, float]:
    """Counts and shares of one SVM's support vectors (see the module notes); ``base_ids`` are the
    identities (:func:`sv_identities`, same mode) of the Base model's support vectors."""
    support = np.asarray(support, np.int64)
    dc = np.asarray(dual_coef, np.float64).ravel()
    labels = np.asarray(train_label)[support]
    ids = sv_identities(support, train_sample_id, mode)
    known = np.isin(ids, np.asarray(list(base_ids), np.int64))
    if mode == "paper":
        new = (ids < 0) | ~known
        synthetic = np.asarray(train_is_synthetic, bool)[support]
    else:
        new = ~known
        synthetic = support > n_original
    n_maj, n_min = int((labels == 0).sum()), int((labels == 1).sum())
    dc_min = dc[labels == 1].sum()
    n = len(support)
    return {
        "n_sv": n, "n_sv_majority": n_maj, "n_sv_minority": n_min,
        "majority_minority_ratio": n_maj / n_min if n_min else float("nan"),
        "dual_coef_ratio": float(-dc[labels == 0].sum() / dc_min) if dc_min else float("nan"),
        "new_share": float(new.mean()) if n else float("nan"),
        "synthetic_share": float(synthetic.mean()) if n else float("nan"),
    }


def ce_needed(ce, bias: float, competing: float = 0.0) -> tuple[int, np.ndarray]:
    """(k, indices of the k CE used): the greedy count of the magnitude paper for one instance."""
    ce = np.asarray(ce, dtype=np.float64)
    order = np.argsort(-ce, kind="stable")
    reached = bias + ce[ce < 0].sum() + np.r_[0.0, np.cumsum(ce[order])] >= competing
    k = int(np.argmax(reached)) if reached.any() else len(ce)
    return k, order[:k]


def ce_counts_binary(X, w, b: float, y_true, y_pred, bias: str = "predicted") -> tuple[np.ndarray, list[np.ndarray]]:
    """Per instance of a binary linear model: the number of CE needed and their indices."""
    if bias not in ("predicted", "true"):
        raise ValueError(f"bias {bias!r} not allowed; allowed: predicted, true")
    X = np.asarray(X, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64).ravel()
    sign = 2 * np.asarray(y_pred) - 1
    bias_sign = sign if bias == "predicted" else 2 * np.asarray(y_true) - 1
    counts, used = np.empty(len(X), np.int64), []
    for i in range(len(X)):
        counts[i], idx = ce_needed(sign[i] * X[i] * w, float(bias_sign[i] * b))
        used.append(idx)
    return counts, used


def input_gradients(model, X) -> np.ndarray:
    """Gradient of each instance's predicted-class logit with respect to its input (Simonyan et al.'s
    saliency), for a torch classifier in eval mode."""
    import torch

    x = torch.as_tensor(np.asarray(X, np.float32)).requires_grad_(True)
    out = model(x)
    out.gather(1, out.argmax(1, keepdim=True)).sum().backward()
    return x.grad.numpy().astype(np.float64)


# --- shared by the studies (choices, mean / sd over cuts, classes, top-k sets) ----------------------------------

INSTANCES = ("correct", "all")


def check_choice(name: str, value, allowed) -> None:
    """One-line ``ValueError`` naming ``value`` and what is allowed, unless ``value`` is in ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} {value!r} not allowed; allowed: {', '.join(map(str, allowed))}")


def mean_sd_n(values, skip_nan: bool = False) -> tuple[float, float, int]:
    """(mean, sample sd, n) of ``values``; sd NaN for fewer than 2 values.  ``skip_nan=False`` (the DA image
    tables): inf / nan propagate (pandas' mean would skip nan); ``skip_nan=True`` (Magnitude, Fragility): the
    NaN values are left out (a class with no instance in one cut is left out of that cut instead of making the
    mean NaN)."""
    v = np.asarray(values, dtype=np.float64)
    if skip_nan:
        v = v[~np.isnan(v)]
    with np.errstate(invalid="ignore"):
        mean = float(np.mean(v)) if v.size else float("nan")
        sd = float(np.std(v, ddof=1)) if v.size > 1 else float("nan")
    return mean, sd, int(v.size)


def minority_class(counts) -> int:
    """The class with the smallest count, ties -> the highest index."""
    counts = np.asarray(counts)
    return int(np.flatnonzero(counts == counts.min())[-1])


def instance_mask(y_true, pred, c: int, instances: str = "correct") -> np.ndarray:
    """Instances of class c: label c and prediction c (``correct``) or label c (``all``)."""
    check_choice("instances", instances, INSTANCES)
    y_true = np.asarray(y_true)
    return (y_true == c) & (np.asarray(pred) == c) if instances == "correct" else y_true == c


def top_k_indices(values, k: int) -> np.ndarray:
    """(n, k) indices of each row's k largest values, largest first, ties -> lower index."""
    v = np.asarray(values, np.float64)
    if not 1 <= k <= v.shape[1]:
        raise ValueError(f"k must be in 1..{v.shape[1]}, got {k}")
    return np.argsort(-v, axis=1, kind="stable")[:, :k]


def membership(index_rows, d: int) -> np.ndarray:
    """(n, d) bool: row i is True at the indices of ``index_rows[i]`` (an (n, k) array or a list of arrays)."""
    mask = np.zeros((len(index_rows), d), bool)
    for i, idx in enumerate(index_rows):
        mask[i, np.asarray(idx, np.int64)] = True
    return mask


def frequency_magnitude_correlation(frequency, magnitude) -> float:
    """Spearman's rho over features between a frequency and a magnitude vector; NaN when either is
    constant or has a NaN."""
    from scipy.stats import spearmanr

    f, m = np.asarray(frequency, np.float64), np.asarray(magnitude, np.float64)
    if np.isnan(f).any() or np.isnan(m).any() or np.ptp(f) == 0 or np.ptp(m) == 0:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(spearmanr(f, m).statistic)
