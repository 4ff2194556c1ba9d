"""Phase 2: penultimate-layer feature embeddings, stored as Parquet.

One row per image (and, after oversampling, per synthetic embedding):

    sample_id     int64    index of the image in the source split (train or test) it came from;
                           -1 for synthetic rows
    label         int64    class index (class names are in the metadata)
    pred          int64    the phase-1 network's prediction for the image; -1 for synthetic rows
    is_synthetic  bool     True for rows made by an oversampler (they follow the originals)
    f0 ... f63    float32  the 64-d global-average-pooled feature (eval mode, no augmentation)

File metadata (``pandas.read_parquet(path).attrs``, also in the Parquet key-value metadata under
``pipeline_lib``): dataset, split, cut, loss, backbone_sha256, class_names, feature_dim, and for
oversampled files the sampler and its settings.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

META_KEY = b"pipeline_lib"
BASE_COLUMNS = ("sample_id", "label", "pred", "is_synthetic")
# Images per forward pass when a network is only evaluated (embeddings, latents, the import check's
# predictions).  Not 1024: a batch of 1024 CIFAR images has 64 MiB activations, above glibc's largest mmap
# threshold (32 MiB), so every batch maps and unmaps fresh memory and the job spends ~40 % of its CPU in the
# kernel (page faults); 64 images' activations stay in the heap and in the caches.  Eval-mode outputs are per
# image: the features were measured bitwise identical at 1024, 256, 128 and 64
# (benchmarks/bench_extract_batch.py; docs/latents.md).  Training's own evaluations
# (core.training.predict) keep their batch of 1024, so that the backbone trainings' code is unchanged.
INFERENCE_BATCH = 64


def extract(model, x, batch_size: int = INFERENCE_BATCH, with_logits: bool = False):
    """(features float32 (N, d), predictions int64 (N,)) of a normalised image tensor, eval mode, in
    batches of ``batch_size`` (:data:`INFERENCE_BATCH`) under ``torch.inference_mode`` (no autograd
    bookkeeping); ``with_logits`` adds the head's logits float32 (N, C) as a third array."""
    import torch  # here, so that reading / writing Parquet does not import torch

    model.eval()
    feats, zs = [], []
    with torch.inference_mode():
        for i in range(0, len(x), batch_size):
            f = model.features(x[i:i + batch_size])
            feats.append(f.float().cpu())
            zs.append(model.head(f).float().cpu())
    z = torch.cat(zs)
    out = torch.cat(feats).numpy().astype(np.float32), z.argmax(1).numpy().astype(np.int64)
    return out + (z.numpy(),) if with_logits else out


def feature_columns(dim: int) -> list[str]:
    return [f"f{i}" for i in range(dim)]


def make_frame(sample_id, label, pred, feats, is_synthetic=None) -> pd.DataFrame:
    feats = np.asarray(feats, dtype=np.float32)
    n = len(feats)
    df = pd.DataFrame({
        "sample_id": np.asarray(sample_id, np.int64),
        "label": np.asarray(label, np.int64),
        "pred": np.asarray(pred, np.int64),
        "is_synthetic": np.zeros(n, bool) if is_synthetic is None else np.asarray(is_synthetic, bool),
    })
    return pd.concat([df, pd.DataFrame(feats, columns=feature_columns(feats.shape[1]))], axis=1)


def write(path: str, df: pd.DataFrame, metadata: dict) -> None:
    """Write an embedding frame with its metadata (readable by plain pandas)."""
    check_schema(df)
    write_frame(path, df, dict(metadata, feature_dim=int(len(df.columns) - len(BASE_COLUMNS))))


def write_frame(path: str, df: pd.DataFrame, meta: dict) -> None:
    """Any frame as Parquet with ``meta`` as JSON key-value metadata that ``pandas.read_parquet``
    restores as ``DataFrame.attrs`` (and :func:`read` returns)."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    blob = json.dumps(meta, sort_keys=True).encode()
    # PANDAS_ATTRS: pandas >= 2.1 restores it as DataFrame.attrs in pandas.read_parquet
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"PANDAS_ATTRS": blob, META_KEY: blob})
    pq.write_table(table, path)


def read(path: str) -> tuple[pd.DataFrame, dict]:
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[META_KEY])
    return table.to_pandas(), meta


def check_schema(df: pd.DataFrame) -> None:
    cols = list(df.columns)
    if tuple(cols[:4]) != BASE_COLUMNS:
        raise ValueError(f"embedding columns must start with {BASE_COLUMNS}, got {cols[:4]}")
    fcols = cols[4:]
    if fcols != feature_columns(len(fcols)):
        raise ValueError("feature columns must be f0..f{d-1} in order")
    bad = [c for c in fcols if df[c].dtype != np.float32]
    if bad:
        raise ValueError(f"feature columns must be float32: {bad[:3]}")
    syn = df["is_synthetic"].to_numpy()
    if syn.any() and not syn[np.argmax(syn):].all():
        raise ValueError("synthetic rows must follow all original rows")


def features(df: pd.DataFrame) -> np.ndarray:
    return df[[c for c in df.columns if c.startswith("f") and c[1:].isdigit()]].to_numpy(np.float32)


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_stage(images_npz: str, indices_csv: str, backbone: str, out_train: str, out_test: str,
                 *, dataset: str, cut: int, loss: str, device: str = "auto",
                 test_indices_csv: str | None = None) -> None:
    """The ``export_embeddings`` rule: features of the cut's (imbalanced) train images and of the
    cut's test set (``test_indices_csv``, sample_id = index into the test pool; None = the whole test
    pool), written as Parquet with their metadata."""
    from .datasets import ImageArrays
    from .models import load_backbone
    from .devices import pick_device, to_tensor

    dev = pick_device(device)
    data = ImageArrays.load(images_npz)
    idx = pd.read_csv(indices_csv)["sample_id"].to_numpy()
    test_ids = (pd.read_csv(test_indices_csv)["sample_id"].to_numpy() if test_indices_csv
                else np.arange(len(data.test_y)))
    model, meta = load_backbone(backbone)
    model = model.to(dev)
    common = {"dataset": dataset, "cut": int(cut), "loss": loss, "backbone_sha256": file_sha256(backbone),
              "class_names": list(meta["class_names"]), "arch": meta["arch"]}
    for split, x, y, ids, path in (("train", data.train_x[idx], data.train_y[idx], idx, out_train),
                                   ("test", data.test_x[test_ids], data.test_y[test_ids], test_ids, out_test)):
        feats, pred = extract(model, to_tensor(x, meta["mean"], meta["std"], dev))
        write(path, make_frame(ids, y, pred, feats), dict(common, split=split))
