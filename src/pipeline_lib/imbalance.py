"""Long-tailed ("imbalanced") training subsets, built exactly as LDAM-DRW builds them.

Counts (``class_counts``)
    exp:  n_c = int(n_max * (1/IR) ** (c / (C - 1)))
    step: the first C // 2 classes keep n_max, the others get int(n_max / IR)
Class 0 is the largest class, class C-1 the smallest; class order is never permuted.

Selection (``select_indices``)
    The legacy global numpy RNG is seeded with the cut's seed (``np.random.seed``), then for each
    class in label order 0..C-1 the indices of that class are shuffled with ``np.random.shuffle``
    and the first n_c are kept.  This is the LDAM-DRW / EOS code path, so with the same source
    ordering the same images are chosen.  A private ``RandomState`` is used so that the caller's
    global RNG is not touched; it yields the same stream as ``np.random.seed``.

The test split is never imbalanced.
"""
from __future__ import annotations

import numpy as np

IMBALANCE_TYPES = ("exp", "step")


def class_counts(n_max: int, num_classes: int, ratio: float, kind: str = "exp") -> list[int]:
    """Per-class training counts for a long-tailed subset (class 0 largest)."""
    if kind not in IMBALANCE_TYPES:
        raise ValueError(f"unknown imbalance type {kind!r}; allowed: {', '.join(IMBALANCE_TYPES)}")
    if ratio < 1:
        raise ValueError(f"imbalance ratio {ratio!r} must be >= 1 (n_max / n_min)")
    if num_classes < 2:
        raise ValueError(f"need at least 2 classes, got {num_classes}")
    factor = 1.0 / ratio
    if kind == "exp":
        return [int(n_max * factor ** (c / (num_classes - 1.0))) for c in range(num_classes)]
    half = num_classes // 2
    return [int(n_max) if c < half else int(n_max * factor) for c in range(num_classes)]


def select_indices(labels: np.ndarray, counts: list[int], seed: int) -> np.ndarray:
    """Indices (into ``labels``) of the imbalanced subset, class by class, LDAM-DRW style.

    Raises ValueError if a class has fewer samples than requested.
    """
    labels = np.asarray(labels)
    rng = np.random.RandomState(seed)  # same stream as np.random.seed(seed) + np.random.shuffle
    chosen = []
    for c, n_c in enumerate(counts):
        idx = np.where(labels == c)[0]
        if len(idx) < n_c:
            raise ValueError(f"class {c} has {len(idx)} samples, {n_c} requested")
        rng.shuffle(idx)
        chosen.append(idx[:n_c])
    return np.concatenate(chosen).astype(np.int64)


def default_n_max(labels: np.ndarray, num_classes: int) -> int:
    """Largest n_max every class can supply: the size of the smallest class in the train split.

    For CIFAR-10/100 (balanced train splits) this is LDAM-DRW's ``len(data) / C``.
    """
    counts = np.bincount(np.asarray(labels), minlength=num_classes)
    return int(counts.min())


def subset_table(train_labels: np.ndarray, class_names: list[str], imbalance: dict, cut: int):
    """The chosen training images of one cut as a frame (sample_id, label, class_name).

    ``imbalance``: {"type": "exp"|"step", "ratio": IR, "n_max": optional}; ``cut`` seeds the choice.
    """
    import pandas as pd

    num_classes = len(class_names)
    n_max = imbalance.get("n_max") or default_n_max(train_labels, num_classes)
    counts = class_counts(n_max, num_classes, imbalance["ratio"], imbalance.get("type", "exp"))
    idx = select_indices(train_labels, counts, cut)
    labels = np.asarray(train_labels)[idx]
    return pd.DataFrame({"sample_id": idx, "label": labels,
                         "class_name": np.asarray(class_names, dtype=object)[labels]})
