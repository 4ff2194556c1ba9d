"""Oversampling stages: the samplers of :mod:`pipeline_lib.sampling.samplers` applied to the pipeline's files.

    resample_embeddings   run a named sampler on (X, y); float32 features, int64 labels, synthetic mask
    resample_file         the ``oversample_embeddings`` rule (train-embedding Parquet -> oversampled Parquet)
    resample_images_file  the ``oversample_pixels`` rule (one cut's images, oversampled in pixel space)
    augment_table         the tabular study's real-space ROS / SMOTE / ADASYN / hard-label REMIX
    fit_neighbours_to_classes  lower SMOTE-type ``k_neighbors`` for classes too small for it

The sampler classes and ``make_sampler`` live in :mod:`pipeline_lib.sampling.samplers`.

What an oversampled file records (Parquet metadata of ``resample_file``; ``sampler_meta`` in the npz of
``resample_images_file``): ``sampler`` (name), ``sampler_options`` (the config's options as used, i.e.
after :func:`fit_neighbours_to_classes`), ``sampler_params`` (every JSON-serialisable ``get_params()``
of the sampler actually run), ``sampler_seed``, ``sampler_k_neighbors`` (the k used, for samplers that
have one) and ``sampler_k_neighbors_requested`` (the k asked for, where it was lowered),
``class_counts_before`` / ``class_counts_after`` (per class index) and ``balanced`` (every class at the
majority count).  A sampler that leaves a class off the majority count (Borderline-SMOTE finding no
borderline "danger" rows, Balanced SVM relabelling synthetic rows into another class) is reported with
one console line naming the sampler and those classes with their counts.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
from imblearn.over_sampling import ADASYN, SMOTE, RandomOverSampler

from ..runtime.console import console
from .samplers import Remix, make_sampler

__all__ = [
    "REAL_SPACE_METHODS",
    "augment_table",
    "fit_neighbours_to_classes",
    "resample_embeddings",
    "resample_file",
    "resample_images_file",
    "sampler_record",
]

REAL_SPACE_METHODS = ("ros", "smote", "adasyn", "remix")


def augment_table(X, y, method: str, random_state, **options):
    """Real-space augmentation of a tabular training set (the tabular study's ROS, SMOTE, ADASYN and
    hard-label REMIX).  Returns ``(X_res, y_res, source, is_synthetic)``: ``source`` is, per row, the
    position in ``X`` of the original row it is (originals), copies (ROS) or is dominated by (REMIX),
    and -1 for SMOTE / ADASYN interpolations; ROS, SMOTE and ADASYN return the originals first."""
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    if method == "remix":
        sampler = Remix(random_state=random_state, **options)
        X_res, y_res = sampler.fit_resample(X, y)
        return X_res, y_res, sampler.sample_indices_, sampler.is_synthetic_
    if method == "ros":
        sampler = RandomOverSampler(random_state=random_state, **options)
    elif method == "smote":
        sampler = SMOTE(random_state=random_state, **fit_neighbours_to_classes("smote", y, {"k_neighbors": 5,
                                                                                              **options}))
    elif method == "adasyn":
        sampler = ADASYN(random_state=random_state, **{"n_neighbors": 5, **options})
    else:
        raise ValueError(f"unknown real-space method {method!r}; allowed: {', '.join(REAL_SPACE_METHODS)}")
    X_res, y_res = _originals_first(sampler, X, y, method)
    source = np.r_[np.arange(n), np.full(len(y_res) - n, -1)].astype(np.int64)
    if method == "ros":  # the appended rows are copies: record which original each one copies
        source = np.asarray(sampler.sample_indices_, np.int64)
    is_synthetic = np.zeros(len(y_res), bool)
    if method != "ros":
        is_synthetic[n:] = True
    return X_res, y_res, source, is_synthetic


_WITHIN_CLASS_K = {"smote": 5, "bsmote": 5, "balsvm": 5}  # samplers whose k-NN are searched within a class


def fit_neighbours_to_classes(name: str, y, options: dict) -> dict:
    """SMOTE-type samplers need ``k_neighbors + 1`` members in every class they oversample.  For a
    smaller minority class, lower ``k_neighbors`` to (smallest such class - 1) with a warning rather
    than fail; a class of one cannot be interpolated and raises a one-line ValueError."""
    if name not in _WITHIN_CLASS_K:
        return dict(options)
    counts = np.unique(np.asarray(y), return_counts=True)[1]
    minority = counts[counts < counts.max()]
    k = options.get("k_neighbors", _WITHIN_CLASS_K[name])
    if len(minority) == 0 or minority.min() > k:
        return dict(options)
    if minority.min() < 2:
        raise ValueError(f"{name}: a class with a single sample cannot be interpolated; use 'ros' or 'eos'")
    warnings.warn(f"{name}: k_neighbors={k} lowered to {minority.min() - 1} (smallest class has "
                  f"{minority.min()} samples)")
    return dict(options, k_neighbors=int(minority.min() - 1))


def _originals_first(sampler, X: np.ndarray, y: np.ndarray, name: str):
    """``sampler.fit_resample(X, y)``, checked to return the ``len(X)`` original rows first, unchanged."""
    n = len(X)
    X_res, y_res = sampler.fit_resample(X, y)
    X_res = np.asarray(X_res)
    y_res = np.asarray(y_res)
    if (
        X_res.ndim != 2
        or X_res.shape[0] != y_res.shape[0]
        or X_res.shape[0] < n
        or X_res.shape[1:] != X.shape[1:]
        or not np.array_equal(X_res[:n], X)
        or not np.array_equal(y_res[:n], y)
    ):
        raise RuntimeError(
            f"sampler {name!r} broke the 'original rows first, unchanged' contract"
        )
    return X_res, y_res


def _resample(X, y, name: str, random_state, options: dict, spec: dict | None = None):
    """:func:`resample_embeddings` that also returns the sampler it ran (fitted) and the options it ran
    with (after :func:`fit_neighbours_to_classes`).  ``spec``: a custom sampler entry
    (:mod:`pipeline_lib.sampling.custom_samplers`) run instead of the built-in ``name``."""
    X = np.asarray(X)
    y = np.asarray(y)
    n = len(X)
    if spec:
        from .custom_samplers import build

        sampler = build(spec, random_state)
    else:
        options = fit_neighbours_to_classes(name, y, options)
        sampler = make_sampler(name, random_state, **options)
    X_res, y_res = _originals_first(sampler, X, y, name)
    is_synthetic = np.zeros(len(X_res), dtype=bool)
    is_synthetic[n:] = True
    return (
        X_res.astype(np.float32, copy=False),
        y_res.astype(np.int64, copy=False),
        is_synthetic,
        sampler,
        options,
    )


def resample_embeddings(X, y, name: str, random_state, **options):
    """Oversample embeddings with the sampler ``name``.

    Returns ``(X_res float32, y_res int64, is_synthetic bool)`` where
    ``is_synthetic`` is True exactly for the rows appended after the
    ``len(X)`` originals.  Raises ``RuntimeError`` if the sampler did not
    return the original rows first and unchanged.
    """
    return _resample(X, y, name, random_state, options)[:3]


def _json_params(sampler) -> dict:
    """The sampler's ``get_params(deep=False)`` that JSON can hold (numpy scalars as Python scalars)."""
    params = sampler.get_params(deep=False) if hasattr(sampler, "get_params") else {}
    out = {}
    for key, value in params.items():
        if isinstance(value, np.generic):
            value = value.item()
        try:
            json.dumps(value, sort_keys=True)
        except (TypeError, ValueError):
            continue
        out[key] = value
    return out


def sampler_record(name: str, sampler, options_requested: dict, options_used: dict, random_state,
                   y_before, y_after, class_names=None, spec: dict | None = None) -> dict:
    """The metadata of one oversampling run (see the module docstring), and the console line when the
    sampler left a class off the majority count.  A custom sampler (``spec``) adds ``sampler_class``,
    ``sampler_package`` and ``sampler_version``."""
    n_classes = max(len(class_names or ()), int(np.max(y_before)) + 1, int(np.max(y_after)) + 1)
    before = np.bincount(np.asarray(y_before, np.int64), minlength=n_classes)
    after = np.bincount(np.asarray(y_after, np.int64), minlength=n_classes)
    params = _json_params(sampler)
    record = {"sampler": name, "sampler_options": dict(options_used), "sampler_params": params,
              "sampler_seed": int(random_state), "class_counts_before": before.tolist(),
              "class_counts_after": after.tolist()}
    if spec:
        from .custom_samplers import describe

        d = describe(spec)
        record.update(sampler_class=d["class"], sampler_package=d["package"], sampler_version=d["version"])
    if "k_neighbors" in params:
        record["sampler_k_neighbors"] = params["k_neighbors"]
        asked = None if spec else _json_params(make_sampler(name, random_state, **options_requested)).get("k_neighbors")
        if not spec and asked != params["k_neighbors"]:
            record["sampler_k_neighbors_requested"] = asked
    target = int(before.max())
    off = [c for c in range(n_classes) if before[c] > 0 and after[c] != target]
    record["balanced"] = not off
    if off and name != "none":  # "none" does not try to balance
        def label(c):
            return f"{c} ({class_names[c]})" if class_names and c < len(class_names) else str(c)
        console(f"WARNING: sampler {name} did not balance the classes to the majority count {target}: "
                       + ", ".join(f"class {label(c)} {before[c]} -> {after[c]}" for c in off))
    return record


def resample_file(in_parquet: str, out_parquet: str, name: str, *, random_state: int, options: dict | None = None,
                  log=print, spec: dict | None = None) -> None:
    """The ``oversample_embeddings`` rule: oversample a train-embedding Parquet file to full balance.

    The output has the same schema; synthetic rows follow the originals with ``sample_id = -1``,
    ``pred = -1`` and ``is_synthetic = True``.  The sampler, its effective settings and the class counts
    before and after go into the metadata (module docstring); a class left unbalanced is reported on
    the console.
    """
    from ..core import embeddings as emb

    df, meta = emb.read(in_parquet)
    y = df["label"].to_numpy()
    requested = dict(options or {})
    X_res, y_res, syn, sampler, options = _resample(emb.features(df), y, name, random_state, requested, spec)
    n = len(df)
    out = emb.make_frame(np.r_[df["sample_id"].to_numpy(), -np.ones(len(y_res) - n, np.int64)], y_res,
                         np.r_[df["pred"].to_numpy(), -np.ones(len(y_res) - n, np.int64)], X_res, syn)
    record = sampler_record(name, sampler, requested, options, random_state, y, y_res, meta.get("class_names"), spec)
    log(f"{name}: {n} rows -> {len(out)} rows; class counts {record['class_counts_after']}")
    emb.write(out_parquet, out, dict(meta, **record))


def resample_images_file(images_npz: str, indices_csv: str, out_npz: str, name: str, *, random_state: int,
                         options: dict | None = None, log=print, spec: dict | None = None) -> None:
    """The ``oversample_pixels`` rule (EOS paper Table I, "pre-processing"): oversample one cut's
    training images in PIXEL space to full balance.  Images are flattened to float vectors, resampled
    with the same samplers as the embeddings, clipped to [0, 255], rounded and reshaped back; ``ros``
    (imbalanced-learn's RandomOverSampler) resamples the row positions and copies the images.
    Writes ``x`` (uint8, N x H x W x C), ``y``, ``is_synthetic`` (synthetic rows after the originals) and
    ``sampler_meta`` (the JSON record of the module docstring, as a 0-d string array)."""
    data, x, y = cut_images(images_npz, indices_csv)
    requested = dict(options or {})
    if name == "ros":  # copies only: resample the row positions, then gather the images (no float copy)
        pos, y_res, syn, sampler, options = _resample(np.arange(len(x))[:, None], y, name, random_state, requested)
        X_res = images = x[pos[:, 0].astype(np.int64)]  # float32 positions: exact below 2**24 rows
    else:
        flat = x.reshape(len(x), -1).astype(np.float32)
        X_res, y_res, syn, sampler, options = _resample(flat, y, name, random_state, requested, spec)
        images = np.clip(np.rint(X_res), 0, 255).astype(np.uint8).reshape((len(X_res),) + x.shape[1:])
    record = sampler_record(name, sampler, requested, options, random_state, y, y_res, data.class_names, spec)
    log(f"pixel {name}: {len(x)} images -> {len(images)}; class counts {record['class_counts_after']}")
    write_balanced_images(out_npz, images, y_res, syn, record)


def cut_images(images_npz: str, indices_csv: str):
    """(ImageArrays, training images, labels) of one cut: the data set's arrays and the cut's train pool rows."""
    import pandas as pd

    from ..core.datasets import ImageArrays

    data = ImageArrays.load(images_npz)
    idx = pd.read_csv(indices_csv)["sample_id"].to_numpy()
    return data, data.train_x[idx], data.train_y[idx]


def write_balanced_images(out_npz: str, x: np.ndarray, y: np.ndarray, is_synthetic: np.ndarray, record: dict) -> None:
    """A balanced training set of images, as every pixel-space balancer writes it (oversample_pixels,
    sample_gan): ``x``, ``y``, ``is_synthetic`` and ``sampler_meta`` (the JSON ``record``, a 0-d string array)."""
    with open(out_npz, "wb") as fh:
        np.savez(fh, x=x, y=y, is_synthetic=is_synthetic, sampler_meta=np.array(json.dumps(record, sort_keys=True)))
