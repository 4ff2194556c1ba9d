"""What the three image studies share (DA images, Magnitude, Fragility): their cut records, the networks they
compare and each network's latents read per cut.

A cut record is the rules' view of one data set and cut: ``{"dataset", "cut", "title", "imbalance",
"train_indices", "test_indices", "models": {model: {...}}}``; for the latent analyses each model names its
latents files ``{"train": parquet, "test": parquet}`` (:mod:`pipeline_lib.core.latents`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import embeddings as emb
from . import latents
from .image_models import LINEAR_HEAD_MODELS
from .measures import check_choice

SPLITS = ("train", "test")


def study(cuts: list[dict]) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """(data sets in order of appearance, {data set: title}, {data set: imbalance type}) of cut records
    that carry ``dataset``, ``title`` and ``imbalance`` (the config's imbalance block)."""
    names = list(dict.fromkeys(c["dataset"] for c in cuts))
    first = {c["dataset"]: c for c in reversed(cuts)}
    return (names, {d: first[d].get("title", d) for d in names},
            {d: first[d].get("imbalance", {}).get("type", "exp") for d in names})


def require_base(models, where: str) -> None:
    if "base" not in models:
        raise ValueError(f"{where} has no Base model (the models setting left it out); this table compares "
                         "every method with Base")


# --- latent features of a cut's models -----------------------------------------------------------------------

@dataclass
class LatentData:
    """FE (float64) and labels of one model on a cut's train and test images, with its linear head."""

    model: str
    train_fe: np.ndarray
    train_y: np.ndarray
    test_fe: np.ndarray
    test_y: np.ndarray
    weight: np.ndarray
    bias: np.ndarray
    source: str  # the latents file of the train split

    @property
    def num_classes(self) -> int:
        return int(self.weight.shape[0])

    def fe(self, split: str) -> np.ndarray:
        check_choice("split", split, SPLITS)
        return self.train_fe if split == "train" else self.test_fe

    def labels(self, split: str) -> np.ndarray:
        check_choice("split", split, SPLITS)
        return self.train_y if split == "train" else self.test_y

    def logits(self, split: str) -> np.ndarray:
        return logits(self.fe(split), self.weight, self.bias)

    def pred(self, split: str) -> np.ndarray:
        return self.logits(split).argmax(1)


def _index(path: str) -> tuple[np.ndarray, np.ndarray]:
    df = pd.read_csv(path, usecols=["sample_id", "label"])
    return df["sample_id"].to_numpy(np.int64), df["label"].to_numpy(np.int64)


def train_counts(cut: dict, num_classes: int) -> np.ndarray:
    """Class counts of the cut's (imbalanced) training set."""
    return np.bincount(_index(cut["train_indices"])[1], minlength=num_classes)


def _latent_fe(path: str, ids: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, dict]:
    df, meta = latents.read(path)
    if not (np.array_equal(df["sample_id"].to_numpy(np.int64), ids)
            and np.array_equal(df["label"].to_numpy(np.int64), labels)):
        raise ValueError(f"{path}: its sample_id / label do not match the cut's index file")
    return emb.features(df).astype(np.float64), meta


def model_latents(cut: dict, models=LINEAR_HEAD_MODELS) -> dict[str, LatentData]:
    """{model: :class:`LatentData`} for the ``models`` present in a cut record (in ``models`` order), read
    from their latents files (see the module notes)."""
    present = [m for m in models if m in cut["models"]]
    te_ids, te_y = _index(cut["test_indices"])
    out = {}
    for m in present:
        record = cut["models"][m]
        tr_ids, tr_y = _index(record.get("train_indices", cut["train_indices"]))
        tr, meta = _latent_fe(record["train"], tr_ids, tr_y)
        te, _ = _latent_fe(record["test"], te_ids, te_y)
        weight, bias = latents.linear_head(meta)
        if max(tr_y.max(initial=0), te_y.max(initial=0)) >= weight.shape[0]:
            raise ValueError(f"{cut['dataset']} cut {cut['cut']} {m}: labels exceed the head's "
                             f"{weight.shape[0]} classes")
        out[m] = LatentData(m, tr, tr_y, te, te_y, weight, bias, record["train"])
    return out


def logits(fe, weight, bias) -> np.ndarray:
    """z = f W^T + b, float64 (n, C)."""
    return np.asarray(fe, np.float64) @ np.asarray(weight, np.float64).T + np.asarray(bias, np.float64)
