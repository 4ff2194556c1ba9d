"""Long-tailed ("imbalanced") training subsets, built exactly as LDAM-DRW builds them, and each cut's
test draw and balanced draw.

Counts (``class_counts``)
    exp:  n_c = int(n_max * (1/IR) ** (c / (C - 1)))
    step: the first C // 2 classes keep n_max, the others get int(n_max / IR)
    none: (``imbalance: {type: none}``) the whole train pool, with its natural class sizes
Class 0 is the largest class, class C-1 the smallest; class order is never permuted (with a
``classes`` subset it is the listed order, so the first listed classes are the majority).

Selection (``select_indices``)
    The legacy global numpy RNG is seeded with the cut's seed (``np.random.seed``), then for each
    class in label order 0..C-1 the indices of that class are shuffled with ``np.random.shuffle``
    and the first n_c are kept.  This is the LDAM-DRW / EOS code path, so with the same source
    ordering the same images are chosen.  A private ``RandomState`` is used so that the caller's
    global RNG is not touched; it yields the same stream as ``np.random.seed``.  ``type: none`` keeps
    every image (class by class, in pool order); the cut's seed is not used.

Test draw (``cut_test_table``)
    Without ``test_draw`` the whole test pool is the cut's test set (as for CIFAR-10).  With
    ``test_draw`` (n per class, or a list per class) each cut draws that many images of each class from
    the test pool: the same per-class shuffle with ``RandomState([cut, 1])``, the first n kept, sorted
    by index.  When the test pool is the train pool (``test_split: train``, the authors' Places lists)
    the test images of a class are the *last* t_c of the cut's own training shuffle (null: all images
    beyond the first n_max), so they never meet the training draw nor the balanced draw.

Balanced draw (``balanced_table``)
    Per class as many images as the largest class of the cut's draw (n_max for exp / step): the cut's
    training images of that class, then more from the same class shuffle (the cut's seed), skipping
    the cut's test images when the pools are one.  For exp / step it is LDAM-DRW's selection with every
    count n_max, and a superset of the imbalanced draw.

File lists (``tables_from_lists``): the cut's train and test images named by the authors' CSV lists.
"""
from __future__ import annotations

import numpy as np

IMBALANCE_TYPES = ("exp", "step")
DRAW_TYPES = ("exp", "step", "none")


class DrawError(ValueError):
    """A draw the pool cannot supply (one line: the class, what was asked and what there is)."""


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


def class_permutations(labels: np.ndarray, num_classes: int, seed) -> list[np.ndarray]:
    """Per class 0..C-1, the indices of that class shuffled LDAM-DRW style: one ``RandomState(seed)``,
    ``shuffle`` class by class in label order.  The shuffle of a class does not depend on any count."""
    labels = np.asarray(labels)
    rng = np.random.RandomState(seed)  # same stream as np.random.seed(seed) + np.random.shuffle
    perms = []
    for c in range(num_classes):
        idx = np.where(labels == c)[0]
        rng.shuffle(idx)
        perms.append(idx)
    return perms


def select_indices(labels: np.ndarray, counts: list[int], seed) -> np.ndarray:
    """Indices (into ``labels``) of the imbalanced subset, class by class, LDAM-DRW style.

    Raises ValueError if a class has fewer samples than requested.
    """
    labels = np.asarray(labels)
    for c, n_c in enumerate(counts):
        have = int(np.sum(labels == c))
        if have < n_c:
            raise DrawError(f"class {c} has {have} samples, {n_c} requested")
    perms = class_permutations(labels, len(counts), seed)
    return np.concatenate([p[:n] for p, n in zip(perms, counts)]).astype(np.int64)


def default_n_max(labels: np.ndarray, num_classes: int) -> int:
    """Largest n_max every class can supply: the size of the smallest class in the train split.

    For CIFAR-10/100 (balanced train splits) this is LDAM-DRW's ``len(data) / C``.
    """
    counts = np.bincount(np.asarray(labels), minlength=num_classes)
    return int(counts.min())


def draw_counts(train_labels: np.ndarray, num_classes: int, imbalance: dict) -> list[int]:
    """Per-class sizes of the cut's training draw (``type: none``: the pool's class sizes)."""
    kind = imbalance.get("type", "exp")
    if kind == "none":
        return np.bincount(np.asarray(train_labels), minlength=num_classes).astype(int).tolist()
    if kind not in DRAW_TYPES:
        raise ValueError(f"unknown imbalance type {kind!r}; allowed: {', '.join(DRAW_TYPES)}")
    n_max = imbalance.get("n_max") or default_n_max(train_labels, num_classes)
    return class_counts(n_max, num_classes, imbalance["ratio"], kind)


def indices_frame(idx, labels, class_names):
    """(sample_id, label, class_name) of the pool positions ``idx`` (``labels`` = the pool's labels)."""
    import pandas as pd

    idx = np.asarray(idx, dtype=np.int64)
    lab = np.asarray(labels, dtype=np.int64)[idx]
    return pd.DataFrame({"sample_id": idx, "label": lab, "class_name": np.asarray(class_names, dtype=object)[lab]})


def subset_table(train_labels, class_names: list[str], imbalance: dict, cut: int):
    """The chosen training images of one cut as a frame (sample_id, label, class_name).

    ``imbalance``: {"type": "exp"|"step", "ratio": IR, "n_max": optional} or {"type": "none"};
    ``cut`` seeds the choice (not used by ``none``).
    """
    num_classes = len(class_names)
    labels = np.asarray(train_labels)
    if imbalance.get("type", "exp") == "none":
        idx = np.concatenate([np.where(labels == c)[0] for c in range(num_classes)])
    else:
        idx = select_indices(labels, draw_counts(labels, num_classes, imbalance), cut)
    return indices_frame(idx, labels, class_names)


def _per_class(test_draw, num_classes: int) -> list[int]:
    if isinstance(test_draw, (list, tuple)):
        if len(test_draw) != num_classes:
            raise DrawError(f"test_draw {list(test_draw)} has {len(test_draw)} entries for {num_classes} classes; "
                            "allowed: one count per class, or one count for all")
        return [int(n) for n in test_draw]
    return [int(test_draw)] * num_classes


def cut_test_table(test_labels, class_names: list[str], cut: int, *, test_draw=None, train_table=None):
    """The cut's test images (sample_id into the test pool, label, class_name), sorted by sample_id.

    Separate test pool (``train_table`` None): all of it without ``test_draw``, else ``test_draw`` images a
    class drawn with ``RandomState([cut, 1])``.  One pool (``train_table`` = the cut's training draw, the
    test pool being the train pool): per class the last t_c of the cut's training shuffle (``test_draw``, or
    null: every image beyond the first n_max), never an image of the training draw."""
    num = len(class_names)
    labels = np.asarray(test_labels)
    if train_table is None:
        if test_draw is None:
            return indices_frame(np.arange(len(labels)), labels, class_names)
        want = _per_class(test_draw, num)
        perms = class_permutations(labels, num, [cut, 1])
        for c, (p, n) in enumerate(zip(perms, want)):
            if len(p) < n:
                raise DrawError(f"test draw: class {c} ({class_names[c]!r}) has {len(p)} test images, {n} requested")
        return indices_frame(np.sort(np.concatenate([p[:n] for p, n in zip(perms, want)])), labels, class_names)
    used = np.bincount(train_table["label"].to_numpy(), minlength=num)
    n_max = int(used.max())
    perms = class_permutations(labels, num, cut)
    want = [len(p) - n_max for p in perms] if test_draw is None else _per_class(test_draw, num)
    chosen = set(train_table["sample_id"].tolist())
    out = []
    for c, (p, n) in enumerate(zip(perms, want)):
        tail = p[len(p) - n:] if n > 0 else p[:0]
        if n < 1 or len(p) < n or chosen.intersection(tail.tolist()):
            have = len(p) - int(used[c])
            raise DrawError(f"test draw: class {c} ({class_names[c]!r}) has {len(p)} images in the pool "
                            f"(test_split train), {int(used[c])} of them in the training draw; "
                            f"{max(n, 1) if test_draw is not None else 'at least 1'} test image(s) requested, "
                            f"{max(have, 0)} left")
        out.append(tail)
    return indices_frame(np.sort(np.concatenate(out)), labels, class_names)


def cut_tables(data, imbalance: dict, cut: int, *, test_draw=None, file_lists: dict | None = None):
    """The cut's training draw and test set of an :class:`~pipeline_lib.core.datasets.ImageArrays` ``data``, as
    two frames (sample_id, label, class_name).  ``file_lists``: {"train": csv, "test": csv} of this cut
    (then the lists, not a draw, give both)."""
    if file_lists:
        return tables_from_lists(data, file_lists["train"], file_lists["test"])
    train = subset_table(data.train_y, data.class_names, imbalance, cut)
    test = cut_test_table(data.test_y, data.class_names, cut, test_draw=test_draw,
                      train_table=train if data.holdout else None)
    return train, test


def tables_from_lists(data, train_list: str, test_list: str):
    """The cut's train and test images named by two file lists (see
    :func:`pipeline_lib.core.datasets.read_file_list`), matched to the pools' file names by path suffix."""
    from .datasets import list_indices, read_file_list

    tables = []
    for path, files, labels in ((train_list, data.train_files, data.train_y), (test_list, data.test_files, data.test_y)):
        idx = list_indices(read_file_list(path), files, labels, data.class_names)
        tables.append(indices_frame(idx, labels, data.class_names))
    if data.holdout:
        both = set(tables[0]["sample_id"]) & set(tables[1]["sample_id"])
        if both:
            f = str(data.train_files[min(both)])
            raise DrawError(f"file lists {train_list} and {test_list} both name {f!r} ({len(both)} files in both); "
                            "allowed: disjoint train and test lists")
    return tables[0], tables[1]


def balanced_table(train_labels, class_names: list[str], draw, cut: int, *, exclude=()):
    """The balanced draw of one cut (sample_id, label, class_name): per class as many images as the
    largest class of ``draw`` (the cut's training draw), namely the draw's own images of that class and
    then the next ones of the cut's class shuffle that are not in ``exclude`` (the cut's test images when
    the test pool is the train pool).  One-line :class:`DrawError` for a class with too few images."""
    num = len(class_names)
    labels = np.asarray(train_labels)
    draw_ids = draw["sample_id"].to_numpy()
    draw_labels = labels[draw_ids]
    n_max = int(np.bincount(draw_labels, minlength=num).max())
    perms = class_permutations(labels, num, cut)
    skip = set(int(i) for i in exclude) | set(draw_ids.tolist())
    out = []
    for c in range(num):
        own = draw_ids[draw_labels == c]
        extra = [i for i in perms[c] if int(i) not in skip][:n_max - len(own)]
        if len(own) + len(extra) < n_max:
            usable = len(own) + len([i for i in perms[c] if int(i) not in skip])
            raise DrawError(f"balanced draw: class {c} ({class_names[c]!r}) has {usable} usable training images, "
                            f"{n_max} requested (the largest class of the cut's draw)")
        out.append(np.concatenate([own, np.asarray(extra, dtype=np.int64)]))
    return indices_frame(np.concatenate(out), labels, class_names)
