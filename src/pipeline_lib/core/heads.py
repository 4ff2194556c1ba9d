"""Phase 3: a fresh linear classifier head trained on (oversampled) embeddings.

As in the authors' ``cifar_train_os.py``: a new ``nn.Linear(64, C)`` with PyTorch's default
initialisation (not warm-started from the phase-1 head), 10 epochs, batch 128, shuffled, SGD lr 0.1,
momentum 0.9, weight decay 2e-4 with the 5-epoch linear warm-up (epoch learning rates 0.02, 0.04,
..., 0.1), trained with the phase-1 loss.  LDAM margins come from the original imbalanced class
counts; DRW is inert here (its switch epoch is never reached in 10 epochs), and for LDAM the head
is a plain Linear on un-normalised features, as in the authors' code.

``select_on="final"`` keeps the last epoch; ``select_on="test"`` reproduces the authors (best test
macro-F1 over the epochs).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from .losses import make_loss
from .metrics import balanced_accuracy, macro_f1
from .training import SGDConfig


@dataclass(kw_only=True)
class HeadConfig(SGDConfig):
    """The SGD settings plus the linear warm-up; every value comes from the config's ``head_training``
    block (defaults in the config schema) and its ``seed``."""
    warmup_epochs: int


def head_lr(epoch: int, cfg: HeadConfig) -> float:
    e = epoch + 1
    return cfg.lr * e / cfg.warmup_epochs if e <= cfg.warmup_epochs else cfg.lr


@torch.inference_mode()
def _pred(head: nn.Module, x: torch.Tensor) -> np.ndarray:
    return head(x).argmax(1).numpy()


def train_head(X: np.ndarray, y: np.ndarray, *, num_classes: int, loss: str, cls_counts: list[int],
               cfg: HeadConfig, X_test: np.ndarray | None = None, y_test: np.ndarray | None = None):
    """Returns ``(head, history)``; history has per-epoch train loss, train BAC and (if test data are
    given) test BAC / macro-F1."""
    torch.manual_seed(cfg.seed)
    head = nn.Linear(X.shape[1], num_classes)
    criterion = make_loss(loss, cls_counts, cfg.loss_options)
    opt = torch.optim.SGD(head.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    x = torch.as_tensor(np.asarray(X, np.float32))
    t = torch.as_tensor(np.asarray(y, np.int64))
    xt = None if X_test is None else torch.as_tensor(np.asarray(X_test, np.float32))
    history, best = [], None
    for epoch in range(cfg.epochs):
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)
        for g in opt.param_groups:
            g["lr"] = head_lr(epoch, cfg)
        perm = torch.randperm(len(t), generator=gen)
        total = 0.0
        for i in range(0, len(t), cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            batch_loss = criterion(head(x[idx]), t[idx])
            opt.zero_grad(set_to_none=True)
            batch_loss.backward()
            opt.step()
            total += float(batch_loss.detach()) * len(idx)
        row = {"epoch": epoch + 1, "lr": head_lr(epoch, cfg), "train_loss": total / len(t),
               "train_bac": balanced_accuracy(y, _pred(head, x))}
        if xt is not None:
            p = _pred(head, xt)
            row["test_bac"] = balanced_accuracy(y_test, p)
            row["test_macro_f1"] = macro_f1(y_test, p, num_classes)
            if cfg.select_on == "test" and (best is None or row["test_macro_f1"] > best[0]):
                best = (row["test_macro_f1"], copy.deepcopy(head.state_dict()))
        history.append(row)
    if cfg.select_on == "test":
        if best is None:
            raise ValueError("select_on='test' needs test embeddings")
        head.load_state_dict(best[1])
    return head.eval(), history


def save_head(path: str, head: nn.Module, **meta) -> None:
    torch.save({"state_dict": head.state_dict(), "in_features": head.in_features,
                "num_classes": head.out_features, **meta}, path)


def load_head(path: str) -> tuple[nn.Linear, dict]:
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    head = nn.Linear(ckpt["in_features"], ckpt["num_classes"])
    head.load_state_dict(ckpt["state_dict"])
    return head.eval(), {k: v for k, v in ckpt.items() if k != "state_dict"}


def fit_from_files(train_parquet: str, test_parquet: str, *, loss: str, training: dict, loss_options: dict,
                   seed: int):
    """Train a head on a (oversampled) train-embedding file, tracking the test file every epoch.
    Returns ``(head, history, meta of the train file, test frame, meta of the test file)``."""
    from . import embeddings as emb

    train, meta = emb.read(train_parquet)
    test, test_meta = emb.read(test_parquet)
    num_classes = len(meta["class_names"])
    originals = train.loc[~train["is_synthetic"], "label"].to_numpy()
    cls_counts = np.bincount(originals, minlength=num_classes).tolist()  # LDAM margins: imbalanced counts
    cfg = HeadConfig(**training, seed=seed, loss_options=loss_options)
    head, history = train_head(emb.features(train), train["label"].to_numpy(), num_classes=num_classes,
                               loss=loss, cls_counts=cls_counts, cfg=cfg, X_test=emb.features(test),
                               y_test=test["label"].to_numpy())
    return head, history, meta, test, test_meta


def retrain_stage(train_parquet: str, test_parquet: str, out_head: str, out_predictions: str, out_history: str,
                  *, loss: str, training: dict, loss_options: dict, seed: int) -> None:
    """The ``retrain_head`` rule: fit a new head on (oversampled) train embeddings, predict the test
    embeddings, write the head, the test predictions (Parquet) and the per-epoch log (CSV)."""
    import pandas as pd

    from . import embeddings as emb

    head, history, meta, test, test_meta = fit_from_files(train_parquet, test_parquet, loss=loss, training=training,
                                                          loss_options=loss_options, seed=seed)
    save_head(out_head, head, loss=loss, sampler=meta.get("sampler"), backbone_sha256=meta["backbone_sha256"])
    pred = _pred(head, torch.as_tensor(emb.features(test)))
    out = pd.DataFrame({"sample_id": test["sample_id"].to_numpy(), "label": test["label"].to_numpy(),
                        "pred": pred.astype(np.int64)})
    out.attrs = {k: test_meta[k] for k in ("dataset", "cut", "run", "loss", "class_names", "backbone_sha256")
                 if k in test_meta}
    out.attrs["sampler"] = meta.get("sampler")
    out.to_parquet(out_predictions, index=False)
    pd.DataFrame(history).to_csv(out_history, index=False)
