"""Importing trained networks: published state dicts in the LDAM-DRW layout -> the project's files.

The authors (LDAM-DRW, EOS, Hidden_Influence) publish CIFAR ResNets as ``torch.save`` of either a bare
``state_dict`` or LDAM-DRW's ``{'epoch', 'arch', 'state_dict', 'best_acc1', 'optimizer'}``; keys are
``conv1.*``, ``bn1.*``, ``layer1.*``-``layer3.*`` and ``linear.*`` (``module.``-prefixed when the network
was wrapped in ``DataParallel``).  The option-A shortcut has no parameters, so apart from the classifier's
name (``linear`` there, ``head`` here) the layout is that of :class:`pipeline_lib.core.models.ResNetCifar`,
cosine head included (LDAM-DRW's ``NormedLinear`` stores its weight as (in, out) = (64, C), no bias).

    read_state_dict        any of those files -> {key: tensor} with ``module.`` stripped
    to_project_layout      ``linear.*`` -> ``head.*``;  :func:`to_ldam_layout` the reverse (export)
    check_network          keys / shapes / head type against ``models.build_model`` -> project-layout dict
    import_network         a checked file -> a backbone file (``models.save_backbone``) with trained-backbone meta
    import_head            a whole dsm/eos network sharing the Base extractor -> its ``linear`` layer as a head
    check_plan_checkpoints every file of ``datasets.<name>.checkpoints`` before any job runs

Every error is a :class:`CheckpointError` with a one-line message naming the file and the first
mismatching key or shape.  Files are read with ``torch.load(weights_only=True)`` and an explicit list of extra globals
(:func:`allowed_globals`: numpy's scalar reconstructor, ``np.dtype`` and the numeric dtype classes, which old
checkpoints' ``best_acc1`` needs); any other pickled object is refused (it could run code).
"""
from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping

import torch

from .image_models import BASE_MODEL, MODELS, NORMED_HEAD_MODELS, WHOLE_NETWORK_MODELS

SELECT_ON_IMPORTED = "imported"

_WRAPPER_KEYS = ("state_dict", "model")
_MODULE_PREFIX = "module."
_LDAM_HEAD, _PROJECT_HEAD = "linear.", "head."


class CheckpointError(ValueError):
    """A checkpoint file that cannot be imported; the message is one line."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


def _reason(exc: BaseException, limit: int = 160) -> str:
    """The cause in one short line: torch's weights-only failures carry it after 'WeightsUnpickler error:'."""
    text = str(exc)
    if "WeightsUnpickler error:" in text:
        text = text.split("WeightsUnpickler error:", 1)[1].split("Check the documentation", 1)[0]
    text = " ".join(text.split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _shape(t) -> str:
    s = tuple(int(d) for d in t.shape)
    return "(" + ", ".join(map(str, s)) + ("," if len(s) == 1 else "") + ")"


def _label(path, where: str | None) -> str:
    return f"checkpoint {path}" + (f" ({where})" if where else "")


# ---------------------------------------------------------------------------------------------- reading


# The only globals a checkpoint may name: numpy's scalar reconstructor (old LDAM-DRW checkpoints pickle
# ``best_acc1`` as a numpy scalar; numpy < 2 writes it as numpy.core.*, numpy >= 2 as numpy._core.*), np.dtype
# and the numeric dtype classes (a pickled dtype is built as one of these).  Listed one by one, never by
# module prefix: any other numpy callable (numpy.testing's runstring, for one) would run code while loading.
_NUMERIC_DTYPES = ("BoolDType", "Int8DType", "Int16DType", "Int32DType", "Int64DType", "UInt8DType",
                   "UInt16DType", "UInt32DType", "UInt64DType", "Float16DType", "Float32DType", "Float64DType",
                   "LongDoubleDType", "Complex64DType", "Complex128DType", "CLongDoubleDType",
                   "ByteDType", "UByteDType", "ShortDType", "UShortDType", "IntDType", "UIntDType", "LongDType",
                   "ULongDType", "LongLongDType", "ULongLongDType")
_SCALAR_NAMES = ("numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar")


def allowed_globals() -> list:
    """The objects (and the names a pickle may give them) that a checkpoint may name: see above."""
    import numpy as np

    try:
        from numpy._core.multiarray import scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import scalar
    dtypes = getattr(np, "dtypes", None)
    classes = {getattr(dtypes, n) for n in _NUMERIC_DTYPES if dtypes is not None and hasattr(dtypes, n)}
    return [(scalar, name) for name in _SCALAR_NAMES] + [np.dtype] + sorted(classes, key=lambda c: c.__name__)


_REFUSED_GLOBAL = re.compile(r"GLOBAL (\S+?)(?: was not an allowed global| whose module)")


def _load(path, label: str):
    import warnings

    try:
        with warnings.catch_warnings(), torch.serialization.safe_globals(allowed_globals()):
            warnings.simplefilter("ignore")  # torch's notes on legacy (non-zip) files: the message says it
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line naming the file
        refused = _REFUSED_GLOBAL.search(str(exc))
        if refused or "Can only build" in str(exc) or "reduce for unrecognized" in str(exc):
            what = f" (e.g. {refused.group(1)!r})" if refused else ""
            raise CheckpointError(f"{label}: pickles Python objects{what}, which this loader refuses (they could "
                                  "run code); expected a state dict of tensors (save model.state_dict(), not the "
                                  "model); allowed besides tensors: numpy scalars") from None
        raise CheckpointError(f"{label}: not a readable PyTorch file ({_reason(exc)})") from None


def _state_dict_of(obj, label: str) -> dict:
    if isinstance(obj, Mapping):
        for key in _WRAPPER_KEYS:
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{label}: holds a value of type {type(obj).__name__}, not a state dict; expected "
                              "a dict of tensors or a dict with 'state_dict' or 'model'")
    if not obj:
        raise CheckpointError(f"{label}: holds an empty dict, not a state dict")
    out = {}
    for key, value in obj.items():
        if not isinstance(key, str) or not torch.is_tensor(value):
            raise CheckpointError(
                f"{label}: entry {key!r} holds a value of type {type(value).__name__}, not a tensor; expected a "
                "state dict (parameter name -> tensor) or a dict with 'state_dict' or 'model'")
        name = key[len(_MODULE_PREFIX):] if key.startswith(_MODULE_PREFIX) else key
        if name in out:
            raise CheckpointError(f"{label}: key {name!r} appears both with and without the 'module.' prefix")
        out[name] = value
    return out


def read_state_dict(path, *, where: str | None = None) -> dict[str, torch.Tensor]:
    """The state dict in ``path``: a bare state dict, or a dict holding it under 'state_dict' or 'model'
    (LDAM-DRW's checkpoints, this project's backbone files).  A leading ``module.`` is stripped from every
    key.  ``where`` (e.g. the config key) is added to error messages after the path."""
    label = _label(path, where)
    if not os.path.exists(path):
        raise CheckpointError(f"{label} does not exist")
    if not os.path.isfile(path):
        raise CheckpointError(f"{label} is not a file")
    return _state_dict_of(_load(path, label), label)


def _renamed(sd: Mapping, old: str, new: str) -> dict:
    return {(new + k[len(old):] if k.startswith(old) else k): v for k, v in sd.items()}


def to_project_layout(sd: Mapping) -> dict:
    """LDAM-DRW keys -> this project's: ``linear.*`` becomes ``head.*``, every other key is kept."""
    return _renamed(sd, _LDAM_HEAD, _PROJECT_HEAD)


def to_ldam_layout(sd: Mapping) -> dict:
    """This project's keys -> LDAM-DRW's (``head.*`` becomes ``linear.*``), e.g. to publish a trained
    backbone: ``torch.save(to_ldam_layout(model.state_dict()), "resnet32.pth")``."""
    return _renamed(sd, _PROJECT_HEAD, _LDAM_HEAD)


# --------------------------------------------------------------------------------------------- checking


def _describe(arch: str, num_classes: int, in_channels: int) -> str:
    return f"{arch} with {in_channels} input channel(s) and {num_classes} classes"


def _file_depth_hint(file_keys, arch: str) -> str:
    blocks = {int(m.group(1)) for k in file_keys if (m := re.match(r"layer1\.(\d+)\.", k))}
    if not blocks:
        return ""
    depth = 6 * (max(blocks) + 1) + 2
    return "" if f"resnet{depth}" == arch else f" (the file's network looks like a resnet{depth})"


def _check(raw: dict, label: str, *, arch: str, num_classes: int, in_channels: int,
           normed_head: bool) -> tuple[dict, list[str]]:
    """(project-layout state dict in the model's key order, keys filled from the model)."""
    from .models import build_model

    expected = build_model(arch, int(num_classes), int(in_channels), bool(normed_head)).state_dict()
    what = _describe(arch, num_classes, in_channels)
    ldam_names = not any(k.startswith(_PROJECT_HEAD) for k in raw)
    head_prefix = _LDAM_HEAD if ldam_names else _PROJECT_HEAD

    def shown(key: str) -> str:  # the key as the file names it
        return _LDAM_HEAD + key[len(_PROJECT_HEAD):] if ldam_names and key.startswith(_PROJECT_HEAD) else key

    sd = to_project_layout(raw)
    if len(sd) != len(raw):
        clash = next(k for k in raw if k.startswith(_LDAM_HEAD) and _PROJECT_HEAD + k[len(_LDAM_HEAD):] in raw)
        raise CheckpointError(f"{label}: has both {clash!r} and "
                              f"{_PROJECT_HEAD + clash[len(_LDAM_HEAD):]!r}; expected one classifier")
    out, filled, head_seen = {}, [], False
    for key, ref in expected.items():
        if key.startswith(_PROJECT_HEAD) and not head_seen:  # the head keys come last in the model's order
            _check_head_kind(sd, label, what, head_prefix, normed_head, num_classes, arch)
            head_seen = True
        if key not in sd:
            if key.endswith("num_batches_tracked"):  # written by torch >= 0.4.1 only
                out[key] = ref.clone()
                filled.append(key)
                continue
            raise CheckpointError(f"{label}: missing key {shown(key)!r} expected for {what}"
                                  f"{_file_depth_hint(raw, arch)}")
        value = sd[key]
        if tuple(value.shape) != tuple(ref.shape):
            raise CheckpointError(f"{label}: key {shown(key)!r} has shape {_shape(value)}, expected {_shape(ref)} "
                                  f"for {what}{_shape_hint(key, value, normed_head)}")
        if ref.is_floating_point():
            if not value.is_floating_point():
                raise CheckpointError(f"{label}: key {shown(key)!r} has dtype {value.dtype}, expected a "
                                      f"floating-point tensor")
            if not bool(torch.isfinite(value).all()):
                raise CheckpointError(f"{label}: key {shown(key)!r} holds non-finite values (nan or inf)")
        out[key] = value.detach().to(ref.dtype).contiguous()
    for key in sd:
        if key not in expected:
            raise CheckpointError(f"{label}: unexpected key {shown(key)!r}, not part of {what}"
                                  f"{_file_depth_hint(raw, arch)}")
    return out, filled


def _shape_hint(key: str, value, normed_head: bool) -> str:
    if key == "conv1.weight" and value.dim() == 4:
        return f" (the file's network takes {int(value.shape[1])} input channel(s))"
    if key == _PROJECT_HEAD + "weight" and value.dim() == 2:
        return f" (the file's head has {int(value.shape[1] if normed_head else value.shape[0])} classes)"
    if key == _PROJECT_HEAD + "bias" and value.dim() == 1:
        return f" (the file's head has {int(value.shape[0])} classes)"
    return ""


def _check_head_kind(sd: dict, label: str, what: str, prefix: str, normed_head: bool, num_classes: int,
                     arch: str) -> None:
    """Say it when the file's classifier is the other kind (cosine vs linear), read from its keys/shapes."""
    weight, has_bias = sd.get(_PROJECT_HEAD + "weight"), (_PROJECT_HEAD + "bias") in sd
    from .arch_names import feature_dim

    d = feature_dim(arch)  # the architecture's own feature width (64 for the resnets only)
    linear_expected = f"{prefix}weight of shape ({num_classes}, {d}) and {prefix}bias of shape ({num_classes},)"
    cosine_expected = f"{prefix}weight of shape ({d}, {num_classes}) and no bias"
    if normed_head and has_bias:
        shape = "" if weight is None else f"{prefix}weight of shape {_shape(weight)} and "
        raise CheckpointError(f"{label}: has a linear classifier head ({shape}a {prefix}bias), expected "
                              f"a cosine (NormedLinear) head ({cosine_expected}) for {what}")
    if (not normed_head and not has_bias and weight is not None and weight.dim() == 2
            and int(weight.shape[0]) == d and tuple(weight.shape) != (num_classes, d)):
        raise CheckpointError(f"{label}: has a cosine (NormedLinear) classifier head ({prefix}weight of shape "
                              f"{_shape(weight)}, no bias), expected a linear head ({linear_expected}) for {what}")


def check_network(path, *, arch: str, num_classes: int, in_channels: int, normed_head: bool,
                  where: str | None = None) -> dict[str, torch.Tensor]:
    """Check the network in ``path`` against ``models.build_model(arch, num_classes, in_channels,
    normed_head)``: every key present (``num_batches_tracked`` may be missing, as in files from old torch:
    it is filled from the model), no extra key, every shape equal, floating tensors finite.  Returns the
    state dict in the project's layout and the model's key order (loadable with ``load_state_dict``)."""
    sd, _ = _check(read_state_dict(path, where=where), _label(path, where), arch=arch, num_classes=num_classes,
                   in_channels=in_channels, normed_head=normed_head)
    return sd


def _compare_extractor(sd: dict, base: dict, label: str, base_name, *, tolerance: float,
                       skip=()) -> None:
    """Every non-head tensor of ``sd`` equals ``base``'s (max |difference| <= tolerance)."""
    for key, value in sd.items():
        if key.startswith(_PROJECT_HEAD) or key in skip:
            continue
        if key not in base or tuple(base[key].shape) != tuple(value.shape):
            have = "is missing" if key not in base else f"has shape {_shape(base[key])}"
            raise CheckpointError(f"{label}: extractor key {key!r} {have} in the base backbone {base_name}, "
                                  f"expected shape {_shape(value)}")
        diff = (value.double() - base[key].double()).abs().max().item() if value.numel() else 0.0
        if not diff <= tolerance:
            raise CheckpointError(
                f"{label}: extractor key {key!r} differs from the base backbone {base_name} by up to {diff:.6g} "
                f"(tolerance {tolerance:g}); a dsm/eos network must keep the Base extractor and retrain only "
                "'linear'")


# -------------------------------------------------------------------------------------------- importing


def _check_meta(arch, num_classes, in_channels, loss, mean, std, class_names, normed_head) -> None:
    from .losses import uses_normed_head

    if len(class_names) != num_classes:
        raise ValueError(f"class_names has {len(class_names)} names, expected num_classes = {num_classes}")
    for name, values in (("mean", mean), ("std", std)):
        if len(values) != in_channels:
            raise ValueError(f"{name} {list(values)} has {len(values)} value(s), expected one per input channel "
                             f"({in_channels})")
    if not all(math.isfinite(float(s)) and float(s) > 0 for s in std):
        raise ValueError(f"std {list(std)} must be positive and finite")
    if bool(normed_head) != uses_normed_head(loss):  # also rejects an unknown loss name
        raise ValueError(f"normed_head={bool(normed_head)} does not fit loss {loss!r} (the cosine head is used "
                         f"exactly with the ldam losses)")


def import_network(path, out_path, *, arch: str, num_classes: int, in_channels: int, normed_head: bool, loss: str,
                   mean, std, class_names) -> dict:
    """Check the network in ``path`` and write it as a backbone file (``models.save_backbone``) that
    ``models.load_backbone`` and every later stage read like a trained one.  Returns the meta written: the
    trained backbone's (arch, num_classes, in_channels, normed_head, loss, mean, std, class_names, select_on,
    epochs) with ``select_on="imported"`` and ``epochs=None``, plus ``imported_from`` (``path``) and
    ``sha256`` (of the source file)."""
    from .embeddings import file_sha256
    from .models import build_model, save_backbone

    num_classes, in_channels = int(num_classes), int(in_channels)
    _check_meta(arch, num_classes, in_channels, loss, mean, std, class_names, normed_head)
    sd = check_network(path, arch=arch, num_classes=num_classes, in_channels=in_channels,
                       normed_head=bool(normed_head))
    model = build_model(arch, num_classes, in_channels, bool(normed_head))
    model.load_state_dict(sd)
    meta = {"arch": arch, "num_classes": num_classes, "in_channels": in_channels, "normed_head": bool(normed_head),
            "loss": loss, "mean": [float(v) for v in mean], "std": [float(v) for v in std],
            "class_names": [str(c) for c in class_names], "select_on": SELECT_ON_IMPORTED, "epochs": None,
            "imported_from": str(path), "sha256": file_sha256(path)}
    if os.path.dirname(str(out_path)):
        os.makedirs(os.path.dirname(str(out_path)), exist_ok=True)
    save_backbone(str(out_path), model.eval(), **meta)
    return meta


def import_head(path, base_backbone_path, out_head, *, tolerance: float = 0.0, sampler: str | None = None) -> dict:
    """A dsm/eos network file -> its retrained head.  The file is a whole network: it is checked as one with
    the base backbone's arch, classes and channels (linear head); every extractor tensor (all keys but the
    head) must equal the base backbone's (a project backbone file, trained or imported) within ``tolerance``;
    then its ``linear`` layer is written with ``heads.save_head``.  Returns the meta written: what
    ``retrain_head`` writes (in_features, num_classes, loss of the base, ``sampler``, backbone_sha256 of
    ``base_backbone_path``) plus ``imported_from`` and ``sha256`` of the source file."""
    import torch.nn as nn

    from .embeddings import file_sha256
    from .heads import save_head
    from .models import load_backbone

    if not tolerance >= 0:
        raise ValueError(f"tolerance {tolerance!r} must be >= 0")
    label = _label(path, None)
    base_model, base_meta = load_backbone(str(base_backbone_path))
    raw = read_state_dict(path)
    sd, filled = _check(raw, label, arch=base_meta["arch"], num_classes=base_meta["num_classes"],
                        in_channels=base_meta["in_channels"], normed_head=False)
    _compare_extractor(sd, base_model.state_dict(), label, base_backbone_path, tolerance=float(tolerance),
                       skip=filled)
    head = nn.Linear(base_model.feature_dim, int(base_meta["num_classes"]))
    head.load_state_dict({"weight": sd[_PROJECT_HEAD + "weight"], "bias": sd[_PROJECT_HEAD + "bias"]})
    meta = {"loss": base_meta["loss"], "sampler": sampler, "backbone_sha256": file_sha256(base_backbone_path),
            "imported_from": str(path), "sha256": file_sha256(path)}
    if os.path.dirname(str(out_head)):
        os.makedirs(os.path.dirname(str(out_head)), exist_ok=True)
    save_head(str(out_head), head.eval(), **meta)
    return {"in_features": head.in_features, "num_classes": head.out_features, **meta}


# ------------------------------------------------------------------------------------------- plan check


def check_plan_checkpoints(checkpoints: Mapping, *, arch: str, num_classes: int, in_channels: int,
                           dataset: str | None = None, tolerance: float = 0.0) -> None:
    """Check every file of a dataset's ``checkpoints: {model: {cut: path}}`` before any job runs; raises
    :class:`CheckpointError` for the first bad one (files in the dict's order).  ``ldam`` files need a
    cosine head, the others a linear one.  dsm/eos files are checked as networks; their extractor is
    compared with the Base extractor here when ``base`` of the same cut is itself a file of this dict
    (otherwise the import job compares it with the trained Base)."""
    prefix = f"datasets.{dataset}.checkpoints" if dataset else "checkpoints"
    if not isinstance(checkpoints, Mapping):
        raise CheckpointError(f"{prefix} must map a model to {{cut: path}}, got {type(checkpoints).__name__}")
    for model, by_cut in checkpoints.items():
        if model not in MODELS:
            raise CheckpointError(f"{prefix}: unknown model {model!r}; allowed: {', '.join(MODELS)}")
        if not isinstance(by_cut, Mapping):
            raise CheckpointError(f"{prefix}.{model} must map a cut to a file path, got {by_cut!r}")
        for cut, path in by_cut.items():
            if not isinstance(path, (str, os.PathLike)) or not str(path):
                raise CheckpointError(f"{prefix}.{model}.{cut} must be a file path, got {path!r}")
    checked: dict[tuple, tuple[dict, list]] = {}

    def network(model, cut):
        if (model, cut) not in checked:
            path, where = checkpoints[model][cut], f"{prefix}.{model}.{cut}"
            checked[model, cut] = _check(read_state_dict(path, where=where), _label(path, where), arch=arch,
                                         num_classes=num_classes, in_channels=in_channels,
                                         normed_head=model in NORMED_HEAD_MODELS)
        return checked[model, cut]

    base_cuts = {str(c): c for c in checkpoints.get(BASE_MODEL, {})}  # YAML may key cuts as int or str
    for model, by_cut in checkpoints.items():
        for cut in by_cut:
            sd, filled = network(model, cut)
            if model in WHOLE_NETWORK_MODELS and str(cut) in base_cuts:
                base_cut = base_cuts[str(cut)]
                base, base_filled = network(BASE_MODEL, base_cut)
                _compare_extractor(sd, base, _label(by_cut[cut], f"{prefix}.{model}.{cut}"),
                                   checkpoints[BASE_MODEL][base_cut], tolerance=float(tolerance),
                                   skip=set(filled) | set(base_filled))


# --- the import rules (workflow/rules/da_images.smk): files in, the files a training rule would write ---

def _history(out_history: str, path, what: str) -> None:
    import pandas as pd

    from .embeddings import file_sha256

    pd.DataFrame([{"imported_from": str(path), "sha256": file_sha256(path), "what": what}]).to_csv(out_history, index=False)


def import_network_stage(path, images_npz: str, test_indices_csv: str, out_model: str, out_history: str, *,
                         arch: str, loss: str, normalize: dict | None = None, out_predictions: str | None = None,
                         log=print) -> dict:
    """Rules ``import_backbone``, ``import_pixel_backbone``, ``import_balanced_backbone``: a checked
    network file -> the backbone file a training rule writes (classes, channels and normalisation from
    the data set's ``images.npz``; the config's ``normalize`` when set), a one-row 'training log' naming
    the source, and (pixel / balanced models) the network's predictions on the cut's test images."""
    import numpy as np
    import pandas as pd

    from .datasets import ImageArrays
    from .embeddings import INFERENCE_BATCH
    from .losses import uses_normed_head
    from .models import load_backbone
    from .training import predict
    from .devices import to_tensor

    data = ImageArrays.load(images_npz)
    mean, std = (normalize["mean"], normalize["std"]) if normalize else data.channel_stats()
    meta = import_network(path, out_model, arch=arch, num_classes=data.num_classes,
                          in_channels=int(data.train_x.shape[-1]), normed_head=uses_normed_head(loss), loss=loss,
                          mean=[float(v) for v in mean], std=[float(v) for v in std], class_names=data.class_names)
    _history(out_history, path, f"{arch} network, loss {loss}")
    log(f"imported {path} ({arch}, {data.num_classes} classes) -> {out_model}; inputs normalised with "
        f"{'the config' if normalize else 'the data set'}'s mean {[round(float(v), 4) for v in mean]} "
        f"and std {[round(float(v), 4) for v in std]}")
    if out_predictions:
        test = pd.read_csv(test_indices_csv)["sample_id"].to_numpy()
        model, _ = load_backbone(out_model)
        pred = predict(model, to_tensor(data.test_x[test], mean, std, "cpu"), INFERENCE_BATCH).numpy()
        out = pd.DataFrame({"sample_id": test, "label": data.test_y[test], "pred": pred.astype(np.int64)})
        out.attrs = {"class_names": list(data.class_names), "loss": loss, "imported_from": str(path)}
        out.to_parquet(out_predictions, index=False)
    return meta


def import_head_stage(path, base_backbone: str, test_parquet: str, out_head: str, out_predictions: str,
                      out_history: str, *, sampler: str, tolerance: float = 0.0, log=print) -> dict:
    """Rule ``import_head``: a whole dsm / eos network -> the head file, test predictions (on the Base
    test embeddings, as ``retrain_head`` writes them) and a one-row 'training log' naming the source."""
    import numpy as np
    import pandas as pd

    from . import embeddings as emb
    from .heads import load_head

    meta = import_head(path, base_backbone, out_head, tolerance=tolerance, sampler=sampler)
    head, _ = load_head(out_head)
    test, test_meta = emb.read(test_parquet)
    with torch.inference_mode():
        pred = head(torch.as_tensor(emb.features(test))).argmax(1).numpy()
    out = pd.DataFrame({"sample_id": test["sample_id"].to_numpy(), "label": test["label"].to_numpy(),
                        "pred": pred.astype(np.int64)})
    out.attrs = {k: test_meta[k] for k in ("dataset", "cut", "loss", "class_names", "backbone_sha256") if k in test_meta}
    out.attrs.update(sampler=sampler, imported_from=str(path))
    out.to_parquet(out_predictions, index=False)
    _history(out_history, path, f"head of a whole {sampler} network")
    log(f"imported the head of {path} -> {out_head}")
    return meta
