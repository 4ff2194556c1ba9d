"""Losses for imbalanced deep learning.

These are the losses used by Dablain & Chawla's EOS code, which itself builds
on the LDAM-DRW code by Cao et al. (kaidic/LDAM-DRW).  Every loss is a
``torch.nn.Module`` whose ``forward(logits, target)`` returns a scalar (the
mean over the batch).  ``logits`` has shape ``(N, C)``, ``target`` holds class
indices of shape ``(N,)``.  Every loss keeps an optional per-class weight in
``self.weight`` (a float tensor of length C, or None) that can be changed later
with ``set_class_weight(weight)``; deferred re-weighting (DRW) uses this to turn
class weights on part way through training.  All computation is done in
float32 (``logits.float()``), so bf16 logits give a float32 loss.

Notation: z = logits of one sample, y = its target class, C = number of
classes, p = softmax(z), w = per-class weight (1 when not given).

CrossEntropyLoss  (standard)
    loss_i = -w_y * log p_y
    mean = sum_i loss_i / sum_i w_{y_i}   (PyTorch's weighted mean; the plain
    mean when no weight is given).  Same as ``F.cross_entropy``.

FocalLoss  (Lin et al., "Focal Loss for Dense Object Detection", 2017, in the
    form used by kaidic/LDAM-DRW)
    ce_i   = w_y * (-log p_y)            (per-sample, unreduced, weighted CE)
    loss_i = (1 - exp(-ce_i))**gamma * ce_i
    loss   = mean_i loss_i
    Without a weight exp(-ce_i) = p_y and this is the usual focal loss
    -(1 - p_y)**gamma * log p_y.  With a class weight, exp(-ce_i) = p_y**w_y is
    NOT the true probability of the target class; this is the authors'
    behaviour and is kept on purpose.  Note also the plain mean (not divided
    by the sum of weights).  gamma = 0 gives unweighted cross-entropy.

ASLSingleLabel  (Ridnik et al., "Asymmetric Loss For Multi-Label
    Classification", ICCV 2021; the single-label variant "ASLSingleLabel" from
    Alibaba-MIIL's ASL repository)
    log_p = log_softmax(z), p = exp(log_p), t = one_hot(y)
    asymmetric focusing weight (computed with gradient, as in the original):
        a_j = (1 - p_y)**gamma_pos   for j = y
        a_j = p_j**gamma_neg         for j != y
    label-smoothed targets: s_j = t_j * (1 - eps) + eps / C
    loss_i = -sum_j s_j * a_j * log_p_j
    loss   = mean_i loss_i
    With a class weight (an addition here, the original has none):
    loss = sum_i w_{y_i} * loss_i / sum_i w_{y_i}.
    gamma_pos = gamma_neg = eps = 0 gives cross-entropy.

LDAMLoss  (Cao et al., "Learning Imbalanced Datasets with Label-Distribution-
    Aware Margin Loss", NeurIPS 2019)
    margins m_c = 1 / n_c**(1/4), rescaled so that max_c m_c = max_m
    z'_j = z_j - m_y  for j = y,   z'_j = z_j otherwise
    loss = cross_entropy(s * z', y, weight=w)
    The margins are a registered buffer, so ``.to(device)`` moves them.
    LDAM is trained with a cosine-normalised classifier ("NormedLinear"), see
    ``uses_normed_head``.

DRW  (deferred re-weighting, Cao et al. 2019) with class-balanced weights
    (Cui et al., "Class-Balanced Loss Based on Effective Number of Samples",
    CVPR 2019):
    w_c = (1 - beta) / (1 - beta**n_c), normalised so that sum_c w_c = C.
    They are switched on at epoch int(0.8 * epochs) (epoch 160 of 200, the
    LDAM-DRW rule ``epoch // 160`` scaled to the run length); before that the
    loss is unweighted.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    "LOSSES",
    "CrossEntropyLoss",
    "FocalLoss",
    "ASLSingleLabel",
    "LDAMLoss",
    "drw_class_weights",
    "drw_weight_for_epoch",
    "parse_loss_name",
    "make_loss",
    "uses_normed_head",
]

LOSSES = ("ce", "focal", "asl", "ldam")

_DRW_SUFFIX = "-drw"


def _as_weight(weight) -> Optional[torch.Tensor]:
    if weight is None:
        return None
    return torch.as_tensor(weight, dtype=torch.float32).detach().clone()


class _WeightedLoss(nn.Module):
    """Base class holding the optional per-class weight ``self.weight``."""

    def __init__(self, weight=None):
        super().__init__()
        self.weight: Optional[torch.Tensor] = _as_weight(weight)

    def set_class_weight(self, weight) -> None:
        """Set (or clear, with None) the per-class weight, e.g. for DRW."""
        self.weight = _as_weight(weight)

    def _weight_on(self, device: torch.device) -> Optional[torch.Tensor]:
        if self.weight is None:
            return None
        return self.weight.to(device=device, dtype=torch.float32)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy, ``F.cross_entropy(logits, target, weight=weight)``."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logits = logits.float()
        return F.cross_entropy(logits, target, weight=self._weight_on(logits.device))


class FocalLoss(_WeightedLoss):
    """Focal loss in the LDAM-DRW authors' form: mean((1 - exp(-ce))**gamma * ce).

    ``ce`` is the per-sample weighted cross-entropy, so with a class weight
    ``exp(-ce)`` is not the true target probability (authors' behaviour, kept).
    """

    def __init__(self, gamma: float = 2.0, weight=None):
        super().__init__(weight)
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}")
        self.gamma = float(gamma)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logits = logits.float()
        ce = F.cross_entropy(
            logits, target, weight=self._weight_on(logits.device), reduction="none"
        )
        p = torch.exp(-ce)
        loss = (1.0 - p) ** self.gamma * ce
        return loss.mean()


class ASLSingleLabel(_WeightedLoss):
    """Asymmetric loss, single-label form (Ridnik et al. 2021, Alibaba-MIIL).

    loss_i = -sum_j s_j * a_j * log p_j with a_y = (1 - p_y)**gamma_pos,
    a_j = p_j**gamma_neg (j != y), s = one_hot(y) * (1 - eps) + eps / C;
    mean over the batch, or the w_{y_i}-weighted mean when a class weight is set.
    """

    def __init__(self, gamma_pos: float = 0.0, gamma_neg: float = 4.0,
                 eps: float = 0.1, weight=None):
        super().__init__(weight)
        if gamma_pos < 0 or gamma_neg < 0:
            raise ValueError("gamma_pos and gamma_neg must be >= 0")
        if not 0.0 <= eps <= 1.0:
            raise ValueError(f"eps must be in [0, 1], got {eps}")
        self.gamma_pos = float(gamma_pos)
        self.gamma_neg = float(gamma_neg)
        self.eps = float(eps)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logits = logits.float()
        num_classes = logits.size(-1)
        log_p = F.log_softmax(logits, dim=-1)
        p = torch.exp(log_p)
        t = F.one_hot(target, num_classes).to(log_p.dtype)
        # asymmetric focusing weights, with gradient (as in the original)
        w_pos = (1.0 - p) ** self.gamma_pos
        w_neg = p ** self.gamma_neg
        asym = t * w_pos + (1.0 - t) * w_neg
        smoothed = t * (1.0 - self.eps) + self.eps / num_classes
        loss_i = -(smoothed * asym * log_p).sum(dim=-1)
        weight = self._weight_on(logits.device)
        if weight is None:
            return loss_i.mean()
        w_i = weight[target]
        return (loss_i * w_i).sum() / w_i.sum()


class LDAMLoss(_WeightedLoss):
    """Label-distribution-aware margin loss (Cao et al. 2019).

    m_c = n_c**(-1/4) rescaled to max m = max_m; the target logit is reduced by
    m_y and cross_entropy(s * logits_adj, target, weight) is returned.
    """

    def __init__(self, cls_num_list: Sequence[int], max_m: float = 0.5,
                 s: float = 30.0, weight=None):
        super().__init__(weight)
        counts = np.asarray(cls_num_list, dtype=np.float64)
        if counts.ndim != 1 or counts.size == 0 or np.any(counts <= 0):
            raise ValueError("cls_num_list must be a non-empty list of positive counts")
        if max_m <= 0:
            raise ValueError(f"max_m must be > 0, got {max_m}")
        m = 1.0 / counts ** 0.25
        m = m * (max_m / m.max())
        self.register_buffer("m_list", torch.tensor(m, dtype=torch.float32))
        self.max_m = float(max_m)
        self.s = float(s)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logits = logits.float()
        mask = F.one_hot(target, logits.size(-1)).bool()
        margin = self.m_list.to(device=logits.device, dtype=logits.dtype)[target].unsqueeze(1)
        logits_adj = torch.where(mask, logits - margin, logits)
        return F.cross_entropy(
            self.s * logits_adj, target, weight=self._weight_on(logits.device)
        )


def drw_class_weights(cls_num_list: Sequence[int], beta: float = 0.9999) -> torch.Tensor:
    """Class-balanced (effective number) weights, normalised to sum to C."""
    counts = np.asarray(cls_num_list, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0 or np.any(counts <= 0):
        raise ValueError("cls_num_list must be a non-empty list of positive counts")
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be in [0, 1), got {beta}")
    effective = 1.0 - np.power(beta, counts)
    w = (1.0 - beta) / effective
    w = w / w.sum() * counts.size
    return torch.tensor(w, dtype=torch.float32)


def drw_switch_epoch(epochs: int) -> int:
    """First (0-based) epoch at which DRW weights are on: int(0.8 * epochs)."""
    return int(0.8 * epochs)


def drw_weight_for_epoch(cls_num_list: Sequence[int], epoch: int, epochs: int,
                         beta: float = 0.9999) -> Optional[torch.Tensor]:
    """None before epoch int(0.8 * epochs), the DRW weights from it on (0-based)."""
    if epoch < drw_switch_epoch(epochs):
        return None
    return drw_class_weights(cls_num_list, beta)


def _unknown(name) -> ValueError:
    return ValueError(
        f"unknown loss {name!r}; allowed: {', '.join(LOSSES)}, "
        f"optionally with the suffix {_DRW_SUFFIX} (e.g. ldam{_DRW_SUFFIX})"
    )


def parse_loss_name(name: str) -> tuple[str, bool]:
    """Split a loss name into (base, drw), e.g. "ldam-drw" -> ("ldam", True)."""
    if not isinstance(name, str):
        raise _unknown(name)
    base, drw = name, False
    if name.endswith(_DRW_SUFFIX):
        base, drw = name[: -len(_DRW_SUFFIX)], True
    if base not in LOSSES:
        raise _unknown(name)
    return base, drw


_OPTION_KEYS = {
    "ce": (),
    "focal": ("gamma",),
    "asl": ("gamma_pos", "gamma_neg", "eps"),
    "ldam": ("max_m", "s"),
}


def make_loss(name: str, cls_num_list: Sequence[int], options: Optional[dict] = None) -> nn.Module:
    """Build the base loss for ``name`` (a "-drw" suffix is accepted; the caller
    applies DRW weights with ``drw_weight_for_epoch`` + ``set_class_weight``)."""
    base, _ = parse_loss_name(name)
    options = dict(options or {})
    # Keys meant for another loss are ignored (one options dict may serve all
    # losses); keys no loss knows are refused, so typos do not pass silently.
    known = {k for keys in _OPTION_KEYS.values() for k in keys}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(
            f"unknown loss option(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}"
        )
    if base == "ce":
        return CrossEntropyLoss()
    if base == "focal":
        return FocalLoss(gamma=float(options.get("gamma", 2.0)))
    if base == "asl":
        return ASLSingleLabel(
            gamma_pos=float(options.get("gamma_pos", 0.0)),
            gamma_neg=float(options.get("gamma_neg", 4.0)),
            eps=float(options.get("eps", 0.1)),
        )
    return LDAMLoss(
        cls_num_list,
        max_m=float(options.get("max_m", 0.5)),
        s=float(options.get("s", 30.0)),
    )


def uses_normed_head(name: str) -> bool:
    """True for ldam / ldam-drw (LDAM trains with the cosine NormedLinear head)."""
    base, _ = parse_loss_name(name)
    return base == "ldam"
