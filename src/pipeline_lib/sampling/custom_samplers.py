"""Bring your own oversampler: config entries that name a sampler class by import path or a smote-variants
oversampler, wherever a sampler is chosen (``samplers``: embedding space; ``pixel_oversampling.methods``:
pixel space).

A sampler entry is either a built-in name (``smote``, ``eos``, ...: :data:`pipeline_lib.sampling.samplers.SAMPLERS`,
unchanged run names and outputs) or a mapping

    {name: my_adasyn, class: imblearn.over_sampling.ADASYN, params: {n_neighbors: 5}}
    {name: polyfit, smote_variants: polynom_fit_SMOTE_star, params: {topology: star}}

``class``: any class with imbalanced-learn's ``fit_resample(X, y) -> (X_res, y_res)`` that returns the
original rows first, unchanged (every imbalanced-learn over-sampler does); built as ``cls(**params)``, with
``random_state`` = the config's seed added when the constructor takes one and ``params`` does not set it.
``smote_variants``: an oversampler of the smote-variants package (``pip install .[variants]``), run through
:class:`SmoteVariantsSampler` (binary: the oversampler's own ``sample``; more classes: smote-variants'
``MulticlassOversampling``).  ``name`` is the run name (the file / folder of its outputs and the column of
its reports); it must not be a built-in's name nor start with ``eos``.

:func:`check_entries` validates every entry at plan time (the class imports, the params are accepted by its
constructor and by its own parameter validation where it has one, it has ``fit_resample``), one line per
failure.  :func:`describe` gives what the outputs record: the user's name, the class, its package (the
distribution) and version; the version is part of the rule's params, so upgrading the package reruns the
runs it produced.
"""
from __future__ import annotations

import functools
import importlib
import inspect
import re

import numpy as np

from .samplers import SAMPLERS

__all__ = ["SmoteVariantsSampler", "build", "check_entries", "describe", "entry_name", "is_custom", "load_class"]

RESERVED = set(SAMPLERS) | {"baseline", "crt", "tau_norm", "logit_adj", "remix"}  # run and method names in use
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def is_custom(entry) -> bool:
    return isinstance(entry, dict)


def entry_name(entry) -> str:
    """The run name of a sampler entry: the built-in's name, or the custom entry's ``name``."""
    return entry["name"] if is_custom(entry) else entry


def class_path(entry) -> str:
    return f"smote_variants.{entry['smote_variants']}" if "smote_variants" in entry else entry["class"]


def load_class(path: str):
    """The class at a dotted import path; one-line ValueError when the module or the attribute is missing."""
    module, _, attr = path.rpartition(".")
    if not module:
        raise ValueError(f"class {path!r} is not a dotted import path (package.module.Class)")
    try:
        mod = importlib.import_module(module)
    except ImportError as err:
        hint = " (pip install .[variants])" if module.split(".")[0] == "smote_variants" else ""
        raise ValueError(f"cannot import module {module!r} of class {path!r}: {err}{hint}") from None
    if not hasattr(mod, attr):
        raise ValueError(f"module {module!r} has no {attr!r} (class {path!r})")
    return getattr(mod, attr)


def _package(path: str) -> tuple[str, str]:
    """(distribution name, version) of the top-level package of a dotted path ('' where unknown)."""
    return _top_package(path.split(".")[0])


@functools.lru_cache(maxsize=None)
def _top_package(top: str) -> tuple[str, str]:
    from importlib import metadata

    dists = metadata.packages_distributions().get(top) or [top]
    for dist in dists:
        try:
            return dist, metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return top, str(getattr(importlib.import_module(top), "__version__", ""))


def describe(entry) -> dict:
    """What the outputs and reports record of a custom entry: name, class (import path), package, version
    and params."""
    path = class_path(entry)
    package, version = _package(path)
    return {"name": entry["name"], "class": path, "package": package, "version": version,
            "params": dict(entry.get("params") or {})}


def label(entry) -> str:
    """One line for a report: ``name: class (package version), params {...}``."""
    d = describe(entry) if is_custom(entry) else entry
    params = ", ".join(f"{k}={v!r}" for k, v in sorted(d["params"].items()))
    return f"{d['name']}: {d['class']} ({d['package']} {d['version']})" + (f", params {params}" if params else "")


class SmoteVariantsSampler:
    """An imbalanced-learn-style ``fit_resample`` around a smote-variants oversampler.

    Binary ``y``: ``getattr(smote_variants, oversampler)(**params, random_state=...).sample(X, y)``; more
    classes: ``smote_variants.MulticlassOversampling`` with that oversampler (its default strategy, every
    class up to the majority count one after the other).  The output is reordered to the pipeline's
    contract: the original rows first, unchanged and in order, then the new rows (sorted by class, stable).
    """

    def __init__(self, oversampler: str, params: dict | None = None, random_state=None):
        self.oversampler = oversampler
        self.params = dict(params or {})
        self.random_state = random_state

    def get_params(self, deep=False) -> dict:
        return {"oversampler": self.oversampler, **self.params, "random_state": self.random_state}

    def _instance(self):
        cls = load_class(f"smote_variants.{self.oversampler}")
        return cls(**self.params, random_state=self.random_state)

    def fit_resample(self, X, y):
        import logging

        import smote_variants as sv

        logging.getLogger("smote_variants").setLevel(logging.WARNING)
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
        self._instance()  # bad params fail here, before any work
        if len(np.unique(y)) <= 2:
            X_s, y_s = self._instance().sample(X, y)
        else:
            mc = sv.MulticlassOversampling(oversampler=self.oversampler,
                                           oversampler_params={**self.params, "random_state": self.random_state})
            X_s, y_s = mc.sample(X, y)
        return originals_first(X, y, np.asarray(X_s), np.asarray(y_s))


def originals_first(X, y, X_res, y_res):
    """``(X_res, y_res)`` reordered so that the rows of ``(X, y)`` come first, in order, then the others (new
    rows) stable-sorted by class.  Rows are matched exactly (features and label); ValueError if an original
    row is missing from the output."""
    n = len(X)
    if len(X_res) >= n and np.array_equal(X_res[:n], X) and np.array_equal(y_res[:n], y):
        return X_res, y_res
    keys = {}
    for i, (row, label) in enumerate(zip(X_res, y_res)):
        keys.setdefault((row.tobytes(), label.item()), []).append(i)
    taken = []
    for row, label in zip(X, y):
        rows = keys.get((np.asarray(row, X_res.dtype).tobytes(), label.item()))
        if not rows:
            raise ValueError("the sampler's output lacks an original row (it must keep every original row)")
        taken.append(rows.pop(0))
    rest = np.setdiff1d(np.arange(len(X_res)), taken)
    rest = rest[np.argsort(y_res[rest], kind="stable")]
    order = np.r_[np.array(taken, dtype=np.int64), rest]
    return X_res[order], y_res[order]


def build(entry: dict, random_state):
    """The sampler of a custom entry, seeded with ``random_state`` (unless its params set one)."""
    params = dict(entry.get("params") or {})
    if "smote_variants" in entry:
        seed = params.pop("random_state", random_state)
        return SmoteVariantsSampler(entry["smote_variants"], params, seed)
    cls = load_class(entry["class"])
    if not inspect.isclass(cls):
        raise ValueError(f"{entry['class']!r} is not a class")
    try:
        takes_seed = "random_state" in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        takes_seed = False
    if takes_seed and "random_state" not in params:
        params["random_state"] = random_state
    return cls(**params)


def _check_one(entry: dict) -> None:
    """ValueError (one line) when the entry's class does not import, rejects its params or has no
    ``fit_resample``."""
    path = class_path(entry)
    cls = load_class(path)
    if "smote_variants" in entry:
        import smote_variants as sv

        if not (inspect.isclass(cls) and issubclass(cls, sv.base.OverSampling)):
            raise ValueError(f"{path!r} is not a smote-variants oversampler")
    elif not inspect.isclass(cls):
        raise ValueError(f"{path!r} is not a class")
    elif not callable(getattr(cls, "fit_resample", None)):
        raise ValueError(f"{path} has no fit_resample (not an imbalanced-learn-compatible sampler)")
    params = dict(entry.get("params") or {})
    if "smote_variants" in entry:  # their constructors swallow unknown keywords (**_kwargs): name them here
        known = [p.name for p in inspect.signature(cls.__init__).parameters.values()
                 if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"]
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ValueError(f"params {unknown} not accepted by {path}; allowed: {', '.join(known)}")
    try:
        obj = cls(**params) if "smote_variants" in entry else build(entry, 0)
    except TypeError as err:
        raise ValueError(f"params {params} not accepted by {path}: {err}") from None
    except ValueError as err:
        raise ValueError(f"params {params} rejected by {path}: {err}") from None
    validate = getattr(obj, "_validate_params", None)  # scikit-learn / imbalanced-learn parameter constraints
    if callable(validate) and "smote_variants" not in entry:
        try:
            validate()
        except (TypeError, ValueError) as err:
            raise ValueError(f"params {params} rejected by {path}: {str(err).splitlines()[0]}") from None


def check_entries(entries, where: str) -> None:
    """Plan-time check of the sampler entries of one config list (``where``: its key); ValueError naming
    the entry and what is wrong, in one line."""
    seen = set()
    for entry in entries:
        if not is_custom(entry):
            continue
        name = entry["name"]
        if not _NAME.match(name) or name in RESERVED or name.startswith("eos") or name.startswith("pre_"):
            raise ValueError(f"{where}: sampler name {name!r} must match [A-Za-z][A-Za-z0-9_]*, not start with "
                             f"'eos' or 'pre_' and not be one of {', '.join(sorted(RESERVED))}")
        if name in seen:
            raise ValueError(f"{where}: sampler name {name!r} is used twice")
        seen.add(name)
        if ("class" in entry) == ("smote_variants" in entry):
            raise ValueError(f"{where}: sampler {name!r} needs exactly one of 'class' and 'smote_variants'")
        try:
            _check_one(entry)
        except ValueError as err:
            raise ValueError(f"{where}: sampler {name!r}: {err}") from None
