"""REMIX (Bellinger et al.) mini-batch draws, shared by the backbone loop (:mod:`pipeline_lib.core.training`),
the tabular MLP (:mod:`pipeline_lib.core.mlp`) and the hard-label sampler
(:class:`pipeline_lib.sampling.samplers.Remix`).

Every draw comes from the caller's ``torch.Generator`` (the per-epoch generator of the loops), so runs
are reproducible and resumable.
"""
from __future__ import annotations

import numpy as np
import torch


def remix_positions(labels: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """REMIX batch balancing (Bellinger et al.): every class present in the batch is randomly
    oversampled (with replacement) to the batch's largest class count, then the pooled positions are
    randomly subsampled back to the batch size.  Returns positions into the batch (CPU, int64)."""
    labels = labels.cpu()
    classes, counts = labels.unique(return_counts=True)
    top = int(counts.max())
    pools = []
    for c, n in zip(classes.tolist(), counts.tolist()):
        members = (labels == c).nonzero().flatten()
        extra = members[torch.randint(0, n, (top - n,), generator=gen)]
        pools.append(torch.cat([members, extra]))
    pool = torch.cat(pools)
    return pool[torch.randperm(len(pool), generator=gen)[:len(labels)]]


def remix_lambda(alpha: float, gen: torch.Generator) -> float:
    """lambda ~ Beta(alpha, alpha), drawn from the epoch generator (reproducible, resumable)."""
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
    return float(np.random.default_rng(seed).beta(alpha, alpha))


def remix_batch(idx: torch.Tensor, labels: torch.Tensor, alpha: float, gen: torch.Generator):
    """The REMIX draws of one mini-batch of rows ``idx`` (CPU) of a data set labelled ``labels``, in this
    order: the balanced batch (:func:`remix_positions`), lambda (:func:`remix_lambda`) and each row's
    mixup partner (a random permutation of the balanced batch).  Returns ``(rows, lam, partners)``."""
    idx = idx[remix_positions(labels[idx], gen)]
    lam = remix_lambda(alpha, gen)
    return idx, lam, idx[torch.randperm(len(idx), generator=gen)]
