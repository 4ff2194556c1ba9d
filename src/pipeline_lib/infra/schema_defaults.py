"""The config schema's defaults, for code that runs outside the workflow (tests, benchmarks).

The dataclass settings (:class:`~pipeline_lib.core.training.TrainConfig`,
:class:`~pipeline_lib.core.heads.HeadConfig`, :class:`~pipeline_lib.core.mlp.MLPConfig`) and the GAN options
(:data:`pipeline_lib.sampling.gans.OPTIONS`) carry no defaults of their own: the workflow passes every value,
filled from ``workflow/schemas/config.schema.yaml`` by :func:`pipeline_lib.infra.config.validate`.  The factories here build them from the same schema defaults (plus
keyword overrides), so a benchmark that wants "the default head" gets exactly the workflow's.  They read
the schema of the source checkout (``<repo>/workflow/schemas``), i.e. need an editable install or
``PYTHONPATH=src``, and pyyaml only (no jsonschema: ``benchmarks/gpu_check.py`` uses them on a bare GPU
machine).
"""
from __future__ import annotations

import os
from functools import lru_cache

SCHEMA_PATH = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, os.pardir, "workflow", "schemas",
                           "config.schema.yaml")


@lru_cache(maxsize=1)
def _schema() -> dict:
    import yaml

    path = os.path.normpath(SCHEMA_PATH)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"config schema not found at {path}: schema defaults need the source checkout")
    with open(path) as fh:
        return yaml.safe_load(fh)


def defaults(*block: str) -> dict:
    """``{key: default}`` of the properties of the schema object at ``block`` (e.g. ``"head_training"``
    or ``"tabular", "nn"``); ``defaults()`` gives the top-level ones (``seed``, ...)."""
    node = _schema()
    for key in block:
        node = node["properties"][key]
    return {k: v["default"] for k, v in node.get("properties", {}).items() if "default" in v}


def train_config(**settings):
    """:class:`~pipeline_lib.core.training.TrainConfig` of the schema's ``backbone_training`` and ``seed``."""
    from ..core.training import TrainConfig

    return TrainConfig(**{"seed": defaults()["seed"], **defaults("backbone_training"), **settings})


def head_config(**settings):
    """:class:`~pipeline_lib.core.heads.HeadConfig` of the schema's ``head_training`` and ``seed``."""
    from ..core.heads import HeadConfig

    return HeadConfig(**{"seed": defaults()["seed"], **defaults("head_training"), **settings})


def mlp_config(**settings):
    """:class:`~pipeline_lib.core.mlp.MLPConfig` of the schema's ``tabular.nn`` and ``seed``."""
    from ..core.mlp import MLPConfig

    return MLPConfig(**{"seed": defaults()["seed"], **defaults("tabular", "nn"), **settings})


def gan_options(name: str, **options) -> dict:
    """The options of GAN ``name`` for :func:`pipeline_lib.sampling.gans.train_gan`: the schema's ``gans.<name>``
    defaults, ``options`` over them."""
    return {**defaults("gans", name), **options}
