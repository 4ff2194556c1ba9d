"""Latents: every network's train and test features, logits and predictions, computed once, as Parquet.

Every analysis of a network's latent space (the Magnitude and Fragility papers' CNN analyses, and any user
inspecting a model) reads these files, never the network: a forward pass over a cut's images happens once
per network, in the ``latents`` rules, not again in every analysis job.  Only what truly needs the network
(saliency gradients) loads it.

Where (``data/latents/<network folder>/{train,test}.parquet``, the network's own folder under ``data/``)
    ``backbones/<dataset>/cut<c>/<loss>``             a phase-1 backbone (Base = ce, LDAM = ldam; the Table V
                                                      architectures are the derived data sets <dataset>@<arch>)
    ``heads/<dataset>/cut<c>/<loss>/<run>``           a retrained head on that backbone's features (DSM =
                                                      the smote run, EOS = the eos run of ce, cRT, tau-norm)
    ``pixel_backbones/<dataset>/cut<c>/<method>``     a pixel-space backbone (ROS, REMIX, pixel EOS, ...)
    ``balanced_backbones/<dataset>/cut<c>``           the Balanced model (train split: its balanced draw)
    ``gan_backbones/<dataset>/cut<c>/<gan>/<loss>``   a GAN-balanced backbone

    Backbones and heads share ONE extraction: their features are those of the phase-1 backbone's embedding
    files (``data/embeddings/...``, written by export_embeddings), copied unchanged; only the logits are their
    own head's.  Pixel, Balanced and GAN backbones are run once over the images (eval mode, batches of 64,
    ``torch.inference_mode``; :func:`pipeline_lib.core.embeddings.extract`).  Their train split is the cut's
    imbalanced training images (real images only, as the backbones' embedding files), except Balanced's: its
    own balanced draw.

Columns (one row per image, in the order of the split's index file)
    ``sample_id`` (int64, index into the source split), ``label``, ``pred`` (argmax of the logits, ties: the
    lower class), ``is_synthetic`` (always False: the columns of an embedding file, so that
    :func:`pipeline_lib.core.embeddings.features` reads them), ``f0 .. f<d-1>`` (float32 features), ``logit0 ..
    logit<C-1>`` (float32 logits of the network's own head on those features).

Metadata (``pandas.read_parquet(path).attrs``, as an embedding file's): dataset, cut, split, model (the
network folder above), arch, backbone_sha256 (the file the features come from), class_names, feature_dim,
num_classes, loss (backbones, heads, GAN backbones), network_sha256 (the network or head file whose logits
these are) and ``head``: ``{"kind": "linear" | "normed_linear", "weight": C x d, "bias": C or null}``, the
head's parameters as exact float32 values, so that an analysis recomputes logits and classification
embeddings (f * W[c]) without loading the network.

Open one with pandas::

    df = pandas.read_parquet("data/latents/backbones/cifar10/cut0/ce/test.parquet")
    df.attrs["class_names"], df.filter(regex=r"^f\\d+$").to_numpy(), df.filter(regex=r"^logit\\d+$")
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import embeddings as emb

SPLITS = ("train", "test")


def logit_columns(num_classes: int) -> list[str]:
    return [f"logit{c}" for c in range(num_classes)]


def head_record(head) -> dict:
    """The metadata ``head`` of an ``nn.Linear`` or ``NormedLinear`` (weight as C x d)."""
    from .models import NormedLinear, class_weight_rows

    w = head.weight.detach().cpu().numpy().astype(np.float32)
    normed = isinstance(head, NormedLinear)
    bias = getattr(head, "bias", None)
    return {"kind": "normed_linear" if normed else "linear", "weight": class_weight_rows(w, normed).tolist(),
            "bias": None if bias is None else bias.detach().cpu().numpy().astype(np.float32).tolist()}


def frame(sample_id, label, feats, logits) -> pd.DataFrame:
    """A latents frame (columns in the module notes); ``pred`` = argmax of ``logits``."""
    logits = np.asarray(logits, np.float32)
    df = emb.make_frame(sample_id, label, logits.argmax(1), feats)
    return pd.concat([df, pd.DataFrame(logits, columns=logit_columns(logits.shape[1]))], axis=1)


def write(path: str, df: pd.DataFrame, meta: dict) -> None:
    d = sum(1 for c in df.columns if c.startswith("f") and c[1:].isdigit())
    emb.write_frame(path, df, dict(meta, feature_dim=d, num_classes=len(meta["class_names"])))


def read(path: str) -> tuple[pd.DataFrame, dict]:
    """(frame, metadata) of a latents file."""
    df, meta = emb.read(path)
    if "head" not in meta or "logit0" not in df.columns:
        raise ValueError(f"{path} is not a latents file (no logit columns / head metadata)")
    return df, meta


def logits(df: pd.DataFrame) -> np.ndarray:
    return df[[c for c in df.columns if c.startswith("logit")]].to_numpy(np.float32)


def linear_head(meta: dict) -> tuple[np.ndarray, np.ndarray]:
    """(W (C, d), b (C,)) float64 of a latents file's ``nn.Linear`` head; any other head raises."""
    head = meta["head"]
    if head["kind"] != "linear" or head["bias"] is None:
        raise ValueError(f"the CE analyses need an nn.Linear head with bias, got {head['kind']} "
                         "(LDAM's cosine head is not in these analyses)")
    return np.asarray(head["weight"], np.float64), np.asarray(head["bias"], np.float64)


def _head_logits(head, feats: np.ndarray) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return head(torch.from_numpy(np.ascontiguousarray(feats, np.float32))).numpy()


def from_embeddings_stage(train_parquet: str, test_parquet: str, out_train: str, out_test: str, *, network: str,
                          model: str, head: str | None = None) -> None:
    """The latents of a backbone (``head`` None: its own head) or of a retrained ``head`` on its features:
    the backbone's embedding files' features, unchanged, with that head's logits."""
    from .heads import load_head
    from .models import load_backbone

    if head:
        net, source = load_head(head)[0], head
    else:
        net, source = load_backbone(network)[0].head, network
    record, sha = head_record(net), emb.file_sha256(source)
    for src, out in ((train_parquet, out_train), (test_parquet, out_test)):
        df, meta = emb.read(src)
        df = df[~df["is_synthetic"].to_numpy(bool)]
        feats = emb.features(df)
        write(out, frame(df["sample_id"], df["label"], feats, _head_logits(net, feats)),
              dict(meta, model=model, network_sha256=sha, head=record))


def from_network_stage(images_npz: str, train_indices: str, test_indices: str, network: str, out_train: str,
                       out_test: str, *, dataset: str, cut: int, model: str, loss: str | None = None,
                       device: str = "auto") -> None:
    """The latents of a network with its own extractor (pixel-space, Balanced, GAN-balanced backbones): one
    forward pass over the split's images, in the order of its index file."""
    from .datasets import ImageArrays
    from .models import load_backbone
    from .devices import pick_device, to_tensor

    dev = pick_device(device)
    data = ImageArrays.load(images_npz)
    net, meta = load_backbone(network)
    net = net.to(dev)
    sha = emb.file_sha256(network)
    common = {"dataset": dataset, "cut": int(cut), "model": model, "arch": meta["arch"], "backbone_sha256": sha,
              "network_sha256": sha, "class_names": list(meta["class_names"]), "head": head_record(net.head)}
    if loss:
        common["loss"] = loss
    for split, index, x_all, y_all, out in (("train", train_indices, data.train_x, data.train_y, out_train),
                                            ("test", test_indices, data.test_x, data.test_y, out_test)):
        ids = pd.read_csv(index)["sample_id"].to_numpy()
        feats, _, z = emb.extract(net, to_tensor(x_all[ids], meta["mean"], meta["std"], dev), with_logits=True)
        write(out, frame(ids, y_all[ids], feats, z), dict(common, split=split))
