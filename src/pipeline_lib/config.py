"""Configuration checking: JSON-schema validation with defaults, then the checks a schema cannot
express (local folders exist).  Errors are one line naming the bad value and what is allowed."""
from __future__ import annotations

import copy
import os

import jsonschema
import yaml

TRAINING_DEFAULTS = {"epochs": 200, "batch_size": 128, "lr": 0.1, "momentum": 0.9, "weight_decay": 2e-4,
                     "crop_padding": 4, "flip": True, "select_on": "final", "device": "auto"}


class ConfigError(ValueError):
    """A configuration value that is not allowed."""


def _with_defaults(validator_cls):
    validate_props = validator_cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for prop, sub in properties.items():
                if "default" in sub and prop not in instance:
                    instance[prop] = copy.deepcopy(sub["default"])
        yield from validate_props(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_cls, {"properties": set_defaults})


def _describe(err: jsonschema.ValidationError) -> str:
    where = ".".join(str(p) for p in err.absolute_path) or "<top level>"
    if err.validator == "enum":
        return f"{where} = {err.instance!r} is not allowed; allowed: {', '.join(map(str, err.validator_value))}"
    if err.validator == "additionalProperties":
        return f"{where}: {err.message}"
    if err.validator in ("minimum", "exclusiveMinimum", "maximum"):
        return f"{where} = {err.instance!r}: {err.message}"
    if err.validator == "pattern" and str(err.absolute_path[-1] if err.absolute_path else "").isdigit():
        return f"{where} = {err.instance!r} is not allowed; allowed: ce, focal, asl, ldam (optionally with -drw)"
    return f"{where}: {err.message}"


def load_schema(path: str) -> dict:
    with open(path) as fh:
        return yaml.safe_load(fh)


def validate(config: dict, schema: dict) -> dict:
    """Validate ``config`` in place (filling defaults) and return it; raise :class:`ConfigError`."""
    cls = _with_defaults(jsonschema.validators.validator_for(schema))
    errors = sorted(cls(schema).iter_errors(config), key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise ConfigError(_describe(best))
    for name, ds in config["datasets"].items():
        if ds["source"] == "imagefolder":
            path = ds.get("path")
            if not path:
                raise ConfigError(f"datasets.{name}: source imagefolder needs a 'path'")
            for split in ("train", "test"):
                if not os.path.isdir(os.path.join(path, split)):
                    raise ConfigError(f"datasets.{name}.path = {path!r}: folder {os.path.join(path, split)!r} "
                                      "does not exist (expected <path>/train/<class>/* and <path>/test/<class>/*)")
    check_tabular_names(config.get("tabular", {}))
    return config


def check_tabular_names(tab: dict) -> None:
    """Tabular data set names must be imbalanced-learn's; the figure data set one of them."""
    if not tab:
        return
    from .datasets import imblearn_names

    known = imblearn_names()
    for name in tab.get("datasets", []):
        if name not in known:
            raise ConfigError(f"tabular.datasets: {name!r} is not an imbalanced-learn dataset; allowed: {', '.join(known)}")
    fig = tab.get("analysis", {}).get("figure_dataset")
    if fig is not None and fig not in tab["datasets"]:
        raise ConfigError(f"tabular.analysis.figure_dataset = {fig!r} is not one of tabular.datasets: "
                          f"{', '.join(tab['datasets'])}")


def check_tabular_files(tab: dict) -> None:
    """With downloading off, every tabular data set must already be in ``data_home`` (checked when a
    tabular target is requested, so that a config for image targets only is not blocked)."""
    if tab.get("download", True):
        return
    from .datasets import imblearn_file

    for name in tab["datasets"]:
        path = imblearn_file(name, tab.get("data_home"))
        if not os.path.isfile(path):
            raise ConfigError(f"tabular.data_home = {tab.get('data_home')!r}: {name} not found ({path}) and "
                              "tabular.download is false")


def check_analysis(config: dict) -> None:
    """Analysis settings (filled with schema defaults) must point at runs the config makes.  Called when
    a figure that needs them is requested, so a config without e.g. 'ce' can still build Table II."""
    an = config.get("analysis", {})
    tsne, curve = an.get("tsne", {}), an.get("head_curve", {})
    for where, loss in (("analysis.tsne.loss", tsne.get("loss")), ("analysis.head_curve.loss", curve.get("loss"))):
        if loss is not None and loss not in config["losses"]:
            raise ConfigError(f"{where} = {loss!r} is not one of the configured losses: {', '.join(config['losses'])}")
    for sampler in curve.get("samplers", []):
        if sampler not in config["samplers"]:
            raise ConfigError(f"analysis.head_curve.samplers: {sampler!r} is not one of the configured samplers: "
                              f"{', '.join(config['samplers'])}")
    if "dataset" in tsne and tsne["dataset"] not in config["datasets"]:
        raise ConfigError(f"analysis.tsne.dataset = {tsne['dataset']!r} is not a configured dataset: "
                          f"{', '.join(config['datasets'])}")


def training_settings(config: dict, dataset: str) -> dict:
    """Backbone-training settings of one dataset: built-in defaults < backbone_training < dataset."""
    return {**TRAINING_DEFAULTS, **config.get("backbone_training", {}),
            **config["datasets"][dataset].get("training", {})}
