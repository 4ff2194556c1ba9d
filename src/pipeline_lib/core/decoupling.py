"""Decoupling baselines of Kang et al., "Decoupling Representation and Classifier for Long-Tailed
Recognition" (ICLR 2020), beside the EOS paper's Table II.

cRT (classifier re-training)
    A freshly initialised linear head retrained on the fixed phase-1 features with class-balanced
    sampling.  In this pipeline that is exactly the ``ros`` sampler (imbalanced-learn's
    RandomOverSampler: every class duplicated up to the largest class's count, in embedding space)
    followed by ``retrain_head`` (pipeline_lib.core.heads: new ``nn.Linear``, the run's loss, the
    ``head_training`` schedule), so nothing of it lives here.

tau-normalisation
    The phase-1 head itself, with each class's weight vector rescaled:
    ``w_c <- w_c / ||w_c||^tau`` (L2 norm; tau = 0 leaves the head as it is, tau = 1 gives every class a
    unit-norm vector) and the logits ``W f`` WITHOUT the bias: the paper drops it, and the authors'
    ``tau_norm.py`` scores with a plain dot product.  Their grid is ``np.linspace(0, 2, 21)``; they
    picked tau on a validation set.  Here tau is chosen by balanced accuracy on a stratified, seeded
    held-out share of the cut's TRAINING embeddings (:func:`stratified_holdout`, :func:`choose_tau`);
    the test embeddings are only predicted with the chosen head.  Ties go to the smallest tau (the least
    change to the trained head).  The held-out rows were seen by phase 1 (the backbone was trained on the
    whole cut): they are held out from the tau search only, not from the network.

    LDAM's phase-1 head is the cosine ``NormedLinear`` (pipeline_lib.core.models): its logits use the
    unit-normalised class vectors, so every ``||w_c||`` is already 1 and tau-normalisation is the
    identity for every tau.  The saved head then holds the unit vectors and predicts exactly what the
    phase-1 network predicted (argmax of ``W f`` equals argmax of ``W f / ||f||``).

Post-hoc logit adjustment (Menon et al., "Long-tail learning via logit adjustment", ICLR 2021), beside them
    The phase-1 network's own logits (``W f + b``; LDAM's cosine head: ``s cos``) minus ``tau * log pi``,
    ``pi`` the cut's training class frequencies: ``argmax_c f_c(x) - tau log pi_c``.  The paper's default
    is tau = 1; here tau is chosen from the same grid, on the same held-out share of the training embeddings
    and by the same rule (BAC, ties to the smallest tau) as tau-normalisation (:func:`logit_adjust_stage`),
    never on the test set.  No head is trained: only the decision rule changes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import balanced_accuracy


def tau_normalise(weight: np.ndarray, tau: float) -> np.ndarray:
    """``weight`` (classes x features) with row c divided by ``||w_c||^tau``; a zero row stays zero."""
    w = np.asarray(weight, dtype=np.float64)
    norms = np.linalg.norm(w, axis=1, keepdims=True)
    scale = np.where(norms > 0, norms, 1.0) ** float(tau)
    return w / scale


def predict_bias_free(weight: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Class of the largest logit ``W f`` (no bias; the first class on ties), computed by the float32
    ``nn.Linear`` that :func:`bias_free_linear` builds and the rule saves, so the search, the test predictions
    and a reloaded head agree exactly."""
    import torch

    with torch.inference_mode():
        logits = bias_free_linear(weight)(torch.from_numpy(np.array(X, dtype=np.float32)))
    return logits.argmax(1).numpy().astype(np.int64)


def stratified_holdout(y: np.ndarray, share: float, seed: int) -> np.ndarray:
    """Sorted row indices of a held-out share of every class: ``round(share * n_c)`` rows of class c, at
    least one and at most n_c, drawn without replacement (``numpy.random.RandomState(seed)``, classes in
    ascending order)."""
    if not 0 < share <= 1:
        raise ValueError(f"held-out share must be in (0, 1], got {share}")
    y = np.asarray(y)
    rng = np.random.RandomState(seed)
    keep = []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        n = min(len(rows), max(1, int(round(share * len(rows)))))
        keep.append(rng.choice(rows, n, replace=False))
    return np.sort(np.concatenate(keep))


def choose_tau(weight: np.ndarray, X: np.ndarray, y: np.ndarray, taus) -> tuple[float, pd.DataFrame]:
    """The tau of ``taus`` whose normalised head has the highest balanced accuracy on ``(X, y)`` (ties:
    the smallest tau), and the search as a frame (tau, bac) in ascending tau."""
    taus = sorted(float(t) for t in taus)
    if not taus:
        raise ValueError("choose_tau needs at least one tau")
    bac = [balanced_accuracy(y, predict_bias_free(tau_normalise(weight, t), X)) for t in taus]
    best = taus[int(np.argmax(bac))]  # argmax: first (smallest) tau of the maximum
    return best, pd.DataFrame({"tau": taus, "bac": bac})


def phase1_weights(backbone_path: str) -> tuple[np.ndarray, bool]:
    """(class weight vectors (classes x features), whether the head is LDAM's cosine head) of a phase-1
    backbone file; the cosine head's vectors are unit-normalised as its forward pass uses them, the
    linear head's bias is left out (tau-normalisation drops it)."""
    import torch

    from .models import class_weight_rows

    ckpt = torch.load(backbone_path, map_location="cpu", weights_only=False)
    w = ckpt["state_dict"]["head.weight"].double().numpy()
    normed = bool(ckpt.get("normed_head"))
    if normed:  # NormedLinear stores (features, classes) and normalises each class column
        w = class_weight_rows(w, normed)
        w = w / np.maximum(np.linalg.norm(w, axis=1, keepdims=True), 1e-12)
    return w, normed


def bias_free_linear(weight: np.ndarray):
    """An ``nn.Linear`` with ``weight`` and a zero bias (the head tau-normalisation yields)."""
    import torch
    import torch.nn as nn

    w = torch.as_tensor(np.asarray(weight, dtype=np.float32))
    head = nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        head.weight.copy_(w)
        head.bias.zero_()
    return head.eval()


def tau_norm_stage(backbone: str, train_parquet: str, test_parquet: str, out_head: str, out_predictions: str,
                   out_search: str, *, taus, holdout: float, seed: int) -> float:
    """The ``tau_normalise`` rule: choose tau on a held-out share of the train embeddings, write the
    tau-normalised head (``nn.Linear``, zero bias; pipeline_lib.core.heads.load_head reads it), its test
    predictions (Parquet, like retrain_head's) and the search (CSV: tau, held-out BAC, test BAC, chosen).
    The test BAC column is written after the choice, for inspection; the choice never reads it.
    Returns the chosen tau."""
    from . import embeddings as emb
    from .heads import save_head

    train, meta, test, test_meta, digest = _phase1_embeddings(backbone, train_parquet, test_parquet)
    weight, normed = phase1_weights(backbone)
    X, y = emb.features(train), train["label"].to_numpy()
    rows = stratified_holdout(y, holdout, seed)
    tau, search = choose_tau(weight, X[rows], y[rows], taus)
    Xt, yt = emb.features(test), test["label"].to_numpy()
    _write_search(search, tau, len(rows), [balanced_accuracy(yt, predict_bias_free(tau_normalise(weight, t), Xt))
                                           for t in search["tau"]], out_search)

    head = bias_free_linear(tau_normalise(weight, tau))
    save_head(out_head, head, loss=test_meta.get("loss"), sampler="tau_norm", tau=tau, normed_phase1_head=normed,
              heldout_sample_ids=train["sample_id"].to_numpy()[rows].tolist(), backbone_sha256=digest)
    _write_predictions(test, test_meta, predict_bias_free(head.weight.detach().numpy(), Xt), out_predictions,
                       sampler="tau_norm", tau=tau)
    return tau


def _phase1_embeddings(backbone: str, train_parquet: str, test_parquet: str):
    """(train, its meta, test, its meta, backbone sha256) of embeddings that must come from ``backbone``."""
    from . import embeddings as emb

    train, meta = emb.read(train_parquet)
    test, test_meta = emb.read(test_parquet)
    digest = emb.file_sha256(backbone)
    for path, m in ((train_parquet, meta), (test_parquet, test_meta)):
        if m["backbone_sha256"] != digest:
            raise ValueError(f"{path} was not exported from {backbone} (backbone checksums differ)")
    return train, meta, test, test_meta, digest


def _write_search(search: pd.DataFrame, tau: float, n_heldout: int, test_bac, out_csv: str) -> None:
    """The tau search as CSV: tau, n_heldout, heldout_bac, test_bac (written after the choice), chosen."""
    search = search.rename(columns={"bac": "heldout_bac"})
    search["test_bac"] = test_bac
    search["chosen"] = search["tau"] == tau
    search.insert(1, "n_heldout", n_heldout)
    search.to_csv(out_csv, index=False, float_format="%.6f")


def _write_predictions(test: pd.DataFrame, test_meta: dict, pred, out_parquet: str, **attrs) -> None:
    """Test predictions (sample_id, label, pred) as retrain_head writes them, the run's metadata and ``attrs``."""
    out = pd.DataFrame({"sample_id": test["sample_id"].to_numpy(), "label": test["label"].to_numpy(), "pred": pred})
    out.attrs = {k: test_meta[k] for k in ("dataset", "cut", "run", "loss", "class_names", "backbone_sha256")
                 if k in test_meta}
    out.attrs.update(attrs)
    out.to_parquet(out_parquet, index=False)


# --- post-hoc logit adjustment (Menon et al., "Long-tail learning via logit adjustment", ICLR 2021) ----------


def phase1_logits(backbone_path: str, X: np.ndarray, cosine_scale: float) -> np.ndarray:
    """The phase-1 head's logits of embeddings ``X`` (float64): ``W f + b`` for a linear head, ``s cos(w_c, f)``
    for LDAM's cosine head (``s = cosine_scale``, the scale its loss trained the logits with)."""
    import torch

    ckpt = torch.load(backbone_path, map_location="cpu", weights_only=False)
    sd = ckpt["state_dict"]
    X = np.asarray(X, dtype=np.float64)
    if ckpt.get("normed_head"):
        w, _ = phase1_weights(backbone_path)
        f = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
        return float(cosine_scale) * f @ w.T
    w = sd["head.weight"].double().numpy()
    b = sd["head.bias"].double().numpy() if "head.bias" in sd else 0.0
    return X @ w.T + b


def log_prior(y_train, num_classes: int) -> np.ndarray:
    """log of the training class frequencies (a class without a training row gets log(1/(n+1)), below all others)."""
    counts = np.bincount(np.asarray(y_train, np.int64), minlength=num_classes).astype(np.float64)
    n = counts.sum()
    return np.log(np.where(counts > 0, counts, n / (n + 1)) / n)


def logit_adjusted(logits: np.ndarray, prior_log: np.ndarray, tau: float) -> np.ndarray:
    """Class of the largest ``logits - tau * log prior`` (the first class on ties)."""
    return np.argmax(np.asarray(logits) - float(tau) * np.asarray(prior_log)[None, :], axis=1).astype(np.int64)


def choose_adjustment(logits: np.ndarray, y: np.ndarray, prior_log: np.ndarray, taus) -> tuple[float, pd.DataFrame]:
    """The tau of ``taus`` with the highest balanced accuracy of :func:`logit_adjusted` on ``(logits, y)``
    (ties: the smallest tau, the least change), and the search as a frame (tau, bac)."""
    taus = sorted(float(t) for t in taus)
    if not taus:
        raise ValueError("choose_adjustment needs at least one tau")
    bac = [balanced_accuracy(y, logit_adjusted(logits, prior_log, t)) for t in taus]
    return taus[int(np.argmax(bac))], pd.DataFrame({"tau": taus, "bac": bac})


def logit_adjust_stage(backbone: str, train_parquet: str, test_parquet: str, out_predictions: str, out_search: str,
                       *, taus, holdout: float, seed: int, cosine_scale: float) -> float:
    """The ``logit_adjust`` rule: the phase-1 network's logits minus ``tau * log prior`` (prior: the cut's
    training class frequencies), tau chosen by BAC on the same stratified held-out share of the training
    embeddings as tau-norm (:func:`stratified_holdout`, same share and seed); the test embeddings are only
    predicted with the chosen tau.  Writes the test predictions (Parquet, like retrain_head's) and the
    search (CSV: tau, n_heldout, held-out BAC, test BAC written after the choice for inspection, chosen)."""
    from . import embeddings as emb

    train, meta, test, test_meta, _ = _phase1_embeddings(backbone, train_parquet, test_parquet)
    y = train["label"].to_numpy()
    prior = log_prior(y, len(meta["class_names"]))
    rows = stratified_holdout(y, holdout, seed)
    logits = phase1_logits(backbone, emb.features(train)[rows], cosine_scale)
    tau, search = choose_adjustment(logits, y[rows], prior, taus)
    test_logits = phase1_logits(backbone, emb.features(test), cosine_scale)
    yt = test["label"].to_numpy()
    _write_search(search, tau, len(rows), [balanced_accuracy(yt, logit_adjusted(test_logits, prior, t))
                                           for t in search["tau"]], out_search)
    _write_predictions(test, test_meta, logit_adjusted(test_logits, prior, tau), out_predictions,
                       sampler="logit_adj", tau=tau, log_prior=prior.tolist())
    return tau
