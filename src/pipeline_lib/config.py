"""Configuration checking: JSON-schema validation with defaults (the schema holds every default), then
the checks a schema cannot express (local folders exist; :func:`check_plan`: sizes against the data, a
visible GPU, duplicate keys in the config files).  Errors are one line naming the key, the bad value
and what is allowed."""
from __future__ import annotations

import copy
import os

import jsonschema
import numpy as np
import yaml

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
    schema_order(config, schema)
    return config


def _resolve(sub: dict, root: dict) -> dict:
    ref = sub.get("$ref", "")
    if ref.startswith("#/"):
        node = root
        for part in ref[2:].split("/"):
            node = node[part]
        return {**node, **{k: v for k, v in sub.items() if k != "$ref"}}
    return sub


def schema_order(instance, schema: dict, root: dict | None = None) -> None:
    """Put the keys of every object with declared ``properties`` into the schema's order (in place), so
    that the same settings written in another order (or sorted by a YAML dumper) form the same params:
    Snakemake compares params as text, and a dict's text follows its key order.  Objects keyed by the
    user (``datasets``) keep the user's order, which is the order of the tables' rows."""
    root = root or schema
    schema = _resolve(schema, root)
    if not isinstance(instance, dict):
        return
    props = schema.get("properties", {})
    if props:
        ordered = [k for k in props if k in instance] + [k for k in instance if k not in props]
        items = [(k, instance[k]) for k in ordered]
        instance.clear()
        instance.update(items)
    extra = schema.get("additionalProperties")
    for key, value in instance.items():
        sub = props.get(key, extra if isinstance(extra, dict) else None)
        if sub is not None:
            schema_order(value, sub, root)


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
    """Backbone-training settings of one dataset: backbone_training (filled with the schema's defaults
    by :func:`validate`) < ``datasets.<dataset>.training``."""
    return {**config["backbone_training"], **config["datasets"][dataset].get("training", {})}


# --- plan-time checks (cheap: no download, torch imported only for device 'cuda') ----------------------

def check_plan(config: dict, configfiles=(), *, gpu_check: bool = True) -> None:
    """Checks of a validated config that need the config files, the data's sizes or the machine:
    duplicate keys in ``configfiles``; warmup_epochs < epochs; test_per_class, imbalance.n_max and
    imbalance.ratio against the per-class train counts (where known without downloading); the t-SNE
    classes against the class names; device 'cuda' only where a GPU is visible (``gpu_check``)."""
    for path in configfiles:
        check_duplicate_keys(path)
    for where, block in (("head_training", config.get("head_training", {})),
                         ("tabular.head_training", config.get("tabular", {}).get("head_training", {}))):
        check_warmup(where, block)
    infos = {name: _source_info(ds) for name, ds in config["datasets"].items()}
    for name, ds in config["datasets"].items():
        check_dataset_sizes(name, ds, infos[name])
    check_tsne_classes(config, infos)
    if gpu_check:
        check_devices(config)


def _source_info(ds: dict):
    from .datasets import describe_source

    return describe_source(ds["source"], path=ds.get("path"), test_per_class=ds.get("test_per_class", 50))


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key, line, first):
        super().__init__(f"duplicate key {key!r}")
        self.key, self.line, self.first = key, line, first


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.SafeLoader that raises on a key given twice in one mapping (merge keys ``<<`` excepted)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise _DuplicateKey(key, line, seen[key])
                seen[key] = line
        return super().construct_mapping(node, deep)


def check_duplicate_keys(path: str) -> None:
    """A key written twice in one mapping of a YAML config file (YAML keeps the last silently)."""
    try:
        with open(path) as fh:
            yaml.load(fh, Loader=_UniqueKeyLoader)
    except _DuplicateKey as dup:
        raise ConfigError(f"{path}, line {dup.line}: key {dup.key!r} is given twice in one mapping (first at "
                          f"line {dup.first}; only the last would count); allowed: each key once") from None
    except (OSError, yaml.YAMLError, ValueError):
        return  # unreadable here (Snakemake read it already, or will say why): not this check's business


def check_warmup(where: str, block: dict) -> None:
    """The head's linear lr warm-up must end before its last epoch."""
    if "warmup_epochs" not in block or "epochs" not in block:
        return
    w, e = block["warmup_epochs"], block["epochs"]
    if w >= e:
        allowed = f"1..{e - 1}" if e > 1 else f"none with epochs = 1; raise {where}.epochs"
        raise ConfigError(f"{where}.warmup_epochs = {w!r} is not smaller than {where}.epochs = {e}; "
                          f"allowed: {allowed}")


def _class_label(c: int, names) -> str:
    return f"{c} ({names[c]!r})" if names else str(c)


def check_dataset_sizes(name: str, ds: dict, info) -> None:
    """test_per_class (digits), imbalance.n_max and imbalance.ratio against what the source holds:
    every class of the imbalanced subset needs at least 2 training images, and no class can give more
    than it has.  Parts that are unknown without downloading (CelebA counts) are skipped."""
    from .imbalance import class_counts

    key = f"datasets.{name}"
    names, avail = info.class_names, info.train_counts
    if ds["source"] == "digits" and info.total_counts:
        tpc, total = ds.get("test_per_class", 50), info.total_counts
        c = int(np.argmin(total))
        if tpc > total[c] - 2:
            raise ConfigError(f"{key}.test_per_class = {tpc!r} leaves class {_class_label(c, names)} with "
                              f"{max(total[c] - tpc, 0)} training images (it has {total[c]}); allowed: 1..{total[c] - 2}")
    if info.num_classes is None:
        return
    if info.num_classes < 2:
        where = f"{key}.path = {ds.get('path')!r}" if ds["source"] == "imagefolder" else f"{key}.source"
        raise ConfigError(f"{where}: {info.num_classes} class(es) found; allowed: at least 2 classes")
    imb = ds["imbalance"]
    kind, ratio, n_max = imb.get("type", "exp"), imb["ratio"], imb.get("n_max")
    num = info.num_classes
    if n_max is None:
        if avail is None:
            return
        c = int(np.argmin(avail))
        n_max = avail[c]
        if n_max < 2:
            where = f"{key}.path = {ds.get('path')!r}" if ds["source"] == "imagefolder" else f"{key}.source"
            raise ConfigError(f"{where}: class {_class_label(c, names)} has {n_max} training image(s); "
                              "allowed: at least 2 per class")
        origin = f"n_max {n_max} = the smallest class"
    else:
        if n_max < 2:
            raise ConfigError(f"{key}.imbalance.n_max = {n_max!r} leaves classes with fewer than 2 training images; "
                              "allowed: at least 2")
        if avail is not None:
            counts = class_counts(n_max, num, ratio, kind)
            short = [c for c in range(num) if counts[c] > avail[c]]
            if short:
                c = short[0]
                raise ConfigError(f"{key}.imbalance.n_max = {n_max!r} asks class {_class_label(c, names)} for "
                                  f"{counts[c]} training images and it has {avail[c]}; allowed: at most "
                                  f"{_largest_n_max(avail, num, ratio, kind)}")
        origin = f"n_max {n_max}"
    counts = class_counts(n_max, num, ratio, kind)
    if min(counts) < 2:
        c = next(i for i, n in enumerate(counts) if n < 2)
        few = sum(n < 2 for n in counts)
        raise ConfigError(f"{key}.imbalance.ratio = {ratio!r} leaves class {_class_label(c, names)} with {counts[c]} "
                          f"training image(s) ({few} of {num} classes have fewer than 2; {kind}, {origin}); "
                          f"allowed: at most {n_max / 2:g} (n_max / 2)")


def _largest_n_max(avail, num: int, ratio: float, kind: str) -> int:
    """The largest n_max whose per-class counts every class can supply (counts grow with n_max)."""
    from .imbalance import class_counts

    lo, hi = 0, max(avail)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if all(n <= a for n, a in zip(class_counts(mid, num, ratio, kind), avail)):
            lo = mid
        else:
            hi = mid - 1
    return lo


def check_tsne_classes(config: dict, infos: dict) -> None:
    """analysis.tsne.classes (names or indices) must be classes of the t-SNE dataset (checked where the
    class names / number are known without downloading)."""
    tsne = config.get("analysis", {}).get("tsne", {})
    classes = tsne.get("classes")
    dataset = tsne.get("dataset", next(iter(config["datasets"])))
    if not classes or dataset not in infos:
        return
    info = infos[dataset]
    num, names = info.num_classes, info.class_names
    for s in classes:
        if isinstance(s, int) and not isinstance(s, bool):
            if num is not None and not 0 <= s < num:
                raise ConfigError(f"analysis.tsne.classes: {s!r} is not a class index of {dataset}; "
                                  f"allowed: 0..{num - 1}" + (f" or a name: {_names(names)}" if names else ""))
        elif names is not None and s not in names:
            raise ConfigError(f"analysis.tsne.classes: {s!r} is not a class of {dataset}; allowed: {_names(names)}"
                              f" or an index 0..{len(names) - 1}")


def _names(names, limit: int = 20) -> str:
    return ", ".join(names[:limit]) + (f", ... ({len(names)} classes)" if len(names) > limit else "")


def gpus_requested_per_rule(overwrite_resources) -> bool:
    """Whether Snakemake's per-rule resources (``--set-resources``, a profile's ``set-resources``) ask
    for a GPU (``gpu`` > 0): the jobs then go to a scheduler's GPU nodes (profiles/slurm), so a GPU
    need not be visible where snakemake plans.  Values may be plain or Snakemake ``Resource`` objects."""
    for res in (overwrite_resources or {}).values():
        try:
            value = res["gpu"] if "gpu" in res else None
            value = getattr(value, "value", value)
        except Exception:  # an unevaluated (callable) resource: assume it asks for one
            return True
        if value is not None and str(value).strip() not in ("", "0"):
            return True
    return False


def check_devices(config: dict) -> None:
    """device 'cuda' (backbone_training or a dataset's training) needs a GPU visible here."""
    where = None
    for name, ds in config["datasets"].items():
        if training_settings(config, name).get("device") == "cuda":
            own = ds.get("training", {}).get("device") == "cuda"
            where = f"datasets.{name}.training.device" if own else "backbone_training.device"
            break
    if where is None:
        return
    import torch

    if not torch.cuda.is_available():
        raise ConfigError(f"{where} = 'cuda' but no GPU is visible here (torch.cuda.is_available() is False); "
                          "allowed: auto (GPU if visible, else CPU), cpu")
