"""Training of the tabular study's MLP (:class:`pipeline_lib.core.mlp.TabularMLP`) on the CPU.

The paper gives no optimiser or schedule; these are ours, documented in the README: Adam, constant
learning rate, L2 weight decay ("all models use L2 weight regularization"), shuffled mini-batches.  Model
selection (``select_on``): ``"validation"`` evaluates the balanced accuracy of a held-out validation set
after every epoch and keeps the weights of the best epoch (the earliest on ties); ``"final"`` keeps the
last epoch.  The test set is never used.  Its settings come from the config (``tabular.nn``, whose
defaults live in the config schema); the validation rows are carved out by the caller
(:func:`pipeline_lib.studies.tabular.runs.validation_split`).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch

import torch.nn as nn

from .remix import remix_batch


@dataclass(kw_only=True)
class MLPConfig:
    """Settings of :func:`train_mlp`.  ``epochs``, ``batch_size``, ``lr``, ``weight_decay``,
    ``select_on`` and ``validation_fraction`` are the config's ``tabular.nn`` block (defaults in the
    schema), ``seed`` the run's seed; ``class_weight`` and ``remix_alpha`` follow from the method being
    trained.  ``validation_fraction`` is used by the caller that carves the validation rows
    (:func:`pipeline_lib.studies.tabular.runs.train_nn_stage`), not by :func:`train_mlp`."""
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    seed: int
    select_on: str  # "validation": the best validation-BAC epoch; "final": the last epoch
    validation_fraction: float  # share of the training split held out for "validation"
    class_weight: str | None = None  # "balanced": CE weighted n / (C n_c), the NN's cost-sensitive method
    remix_alpha: float | None = None  # REMIX (Bellinger et al.): balance each batch, then mixup

    def __post_init__(self):
        if self.select_on not in SELECT_ON:
            raise ValueError(f"select_on {self.select_on!r} not allowed; allowed: {', '.join(SELECT_ON)}")
        if self.select_on == "validation" and not 0 < self.validation_fraction < 1:
            raise ValueError(f"select_on 'validation' needs 0 < validation_fraction < 1, got {self.validation_fraction}")


SELECT_ON = ("validation", "final")


def balanced_class_weight(y, num_classes: int) -> np.ndarray:
    """scikit-learn's ``class_weight="balanced"``: n / (C * n_c)."""
    counts = np.bincount(np.asarray(y), minlength=num_classes).astype(np.float64)
    if (counts == 0).any():
        raise ValueError(f"class_weight='balanced' needs every class in the training data; counts {counts.tolist()}")
    return counts.sum() / (num_classes * counts)


def _bac(model, x: torch.Tensor, y: np.ndarray, num_classes: int) -> float:
    """Balanced accuracy (mean per-class recall over the classes present) of ``model`` on ``x``."""
    with torch.inference_mode():
        pred = model(x).argmax(1).numpy()
    recalls = [(pred[y == c] == c).mean() for c in range(num_classes) if (y == c).any()]
    return float(np.mean(recalls))


def train_mlp(X: np.ndarray, y: np.ndarray, cfg: MLPConfig, *, X_val: np.ndarray | None = None,
              y_val: np.ndarray | None = None, num_classes: int = 2, log=print):
    """Train :class:`~pipeline_lib.core.mlp.TabularMLP` on the CPU; returns ``(model, history)``.

    Each epoch draws its own generator from (seed, epoch), as the backbone loop does.  With
    ``remix_alpha`` every mini-batch is balanced and then mixed (:func:`pipeline_lib.core.remix.remix_batch`)
    with one lambda ~ Beta(alpha, alpha) and a random partner permutation; the loss is the cross-entropy
    on the mixed one-hot labels, i.e. ``lam * CE(y) + (1 - lam) * CE(y_partner)``.

    With ``cfg.select_on == "validation"`` (``X_val`` / ``y_val`` required, every class present) the
    validation BAC is computed after every epoch (``val_bac`` in the history) and the returned model has
    the weights of the epoch with the highest one, the earliest on ties (``selected`` marks it).  The
    evaluation draws no random numbers, so the training trajectory is the one of ``"final"``."""
    
    validate = cfg.select_on == "validation"
    if validate:
        if X_val is None or y_val is None or len(y_val) == 0:
            raise ValueError("select_on 'validation' needs validation rows (X_val, y_val)")
        y_val = np.asarray(y_val, np.int64)
        missing = [c for c in range(num_classes) if not (y_val == c).any()]
        if missing:
            raise ValueError(f"the validation rows lack class(es) {missing}: raise validation_fraction")
        xv = torch.as_tensor(np.array(X_val, np.float32))

    torch.manual_seed(cfg.seed)
    model = TabularMLP(X.shape[1], num_classes)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    weight = None
    if cfg.class_weight == "balanced":
        weight = torch.as_tensor(balanced_class_weight(y, num_classes), dtype=torch.float32)
    elif cfg.class_weight is not None:
        raise ValueError(f"class_weight {cfg.class_weight!r} not allowed; allowed: balanced, None")
    criterion = torch.nn.CrossEntropyLoss(weight=weight)
    x = torch.as_tensor(np.array(X, np.float32))  # copies: Parquet-backed arrays are read-only
    t = torch.as_tensor(np.array(y, np.int64))
    n, history = len(t), []
    best = None  # (val_bac, epoch, state_dict) of the best epoch so far
    for epoch in range(cfg.epochs):
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)
        model.train()
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for i in range(0, n, cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            if cfg.remix_alpha:
                idx, lam, mate = remix_batch(idx, t, cfg.remix_alpha, gen)
                out = model(lam * x[idx] + (1 - lam) * x[mate])
                loss = lam * criterion(out, t[idx]) + (1 - lam) * criterion(out, t[mate])
            else:
                loss = criterion(model(x[idx]), t[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        row = {"epoch": epoch + 1, "train_loss": total / n}
        if not math.isfinite(row["train_loss"]):
            raise FloatingPointError(f"training diverged at epoch {epoch + 1}: loss {row['train_loss']}")
        if validate:
            model.eval()
            row["val_bac"] = _bac(model, xv, y_val, num_classes)
            if best is None or row["val_bac"] > best[0]:  # strictly better: the earliest epoch wins ties
                best = (row["val_bac"], epoch + 1, copy.deepcopy(model.state_dict()))
        history.append(row)
    if validate and best is not None:
        model.load_state_dict(best[2])
        for row in history:
            row["selected"] = row["epoch"] == best[1]
        log(f"trained {cfg.epochs} epochs on {n} rows; final train loss {history[-1]['train_loss']:.4g}; "
            f"selected epoch {best[1]} of {cfg.epochs} (validation BAC {best[0]:.4f} on {len(y_val)} rows)")
    else:
        log(f"trained {cfg.epochs} epochs on {n} rows; final train loss {history[-1]['train_loss']:.4g}; "
            "last epoch kept" if history else "0 epochs")
    return model.eval(), history


def selection(history: list[dict]) -> dict:
    """``{"selected_epoch", "val_bac"}`` of a :func:`train_mlp` history (the last epoch and None when it
    was trained with ``select_on="final"``)."""
    chosen = [r for r in history if r.get("selected")]
    if chosen:
        return {"selected_epoch": int(chosen[0]["epoch"]), "val_bac": float(chosen[0]["val_bac"])}
    return {"selected_epoch": int(history[-1]["epoch"]) if history else 0, "val_bac": None}


class TabularMLP(nn.Module):
    """The dense 4-layer network of "How Data Augmentation Works with Imbalanced Data" (§IV-A):
    d -> 100 -> 50 -> d//2 -> C with ReLU after each hidden layer (PyTorch default initialisation).

    Split like :class:`ResNetCifar`: ``features(x)`` is the d//2-dimensional penultimate layer (after
    its ReLU) that the latent-space samplers (EOS, DSM) work on, ``head`` the classification layer."""

    def __init__(self, in_features: int, num_classes: int = 2):
        super().__init__()
        self.in_features, self.num_classes = int(in_features), int(num_classes)
        hidden = max(1, self.in_features // 2)
        self.encoder = nn.Sequential(nn.Linear(self.in_features, 100), nn.ReLU(), nn.Linear(100, 50), nn.ReLU(),
                                     nn.Linear(50, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, self.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))


def save_mlp(path: str, model: TabularMLP, **meta) -> None:
    torch.save({"state_dict": model.state_dict(), "in_features": model.in_features,
                "num_classes": model.num_classes, **meta}, path)


def load_mlp(path: str) -> tuple[TabularMLP, dict]:
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    model = TabularMLP(ckpt["in_features"], ckpt["num_classes"])
    model.load_state_dict(ckpt["state_dict"])
    return model.eval(), {k: v for k, v in ckpt.items() if k != "state_dict"}
