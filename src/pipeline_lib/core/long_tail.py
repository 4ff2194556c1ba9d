"""Many / medium / few-shot accuracy, the long-tailed recognition papers' convention (Liu et al., "Large-Scale
Long-Tailed Recognition in an Open World", CVPR 2019; Kang et al., ICLR 2020), beside Table II.

A class is *many-shot* when its TRAINING count (the cut's training images, before any oversampling) is above
``many_above`` (default 100), *few-shot* when below ``few_below`` (default 20), *medium-shot* otherwise
(20-100 with the defaults); the thresholds are config (``long_tail``).  A group's accuracy is the mean test
recall of its classes (so the three groups weigh classes, not images, as BAC does); a group without a
class has no value (NaN, shown as '—').

Table II's companion report is :mod:`pipeline_lib.studies.eos.shots`; the DA image study's Table V uses
:func:`shot_accuracy` too.
"""
from __future__ import annotations

import numpy as np

SHOTS = ("many", "medium", "few")


def shot_groups(train_counts, many_above: int = 100, few_below: int = 20) -> np.ndarray:
    """The shot group ('many', 'medium', 'few') of every class from its training count."""
    n = np.asarray(train_counts)
    if few_below > many_above + 1:
        raise ValueError(f"long_tail: few_below ({few_below}) must not exceed many_above + 1 ({many_above + 1})")
    return np.where(n > many_above, "many", np.where(n < few_below, "few", "medium"))


def shot_accuracy(recalls, train_counts, many_above: int = 100, few_below: int = 20) -> dict[str, float]:
    """{group: mean recall of its classes (NaN without a class)} from per-class recalls and training counts."""
    r = np.asarray(recalls, dtype=np.float64)
    groups = shot_groups(train_counts, many_above, few_below)
    return {g: float(r[groups == g].mean()) if np.any(groups == g) else float("nan") for g in SHOTS}
