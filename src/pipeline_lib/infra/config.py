"""Configuration checking: JSON-schema validation with defaults (the schema holds every default), then
the checks a schema cannot express (local folders exist; :func:`check_plan`: sizes against the data, a
visible GPU, duplicate keys in the config files).  Errors are one line naming the key, the bad value
and what is allowed."""
from __future__ import annotations

import copy
import json
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
    if (err.validator == "type" and err.validator_value == "string" and "classes" in map(str, err.absolute_path)
            and isinstance(err.instance, (int, float)) and not isinstance(err.instance, bool)):
        return (f"{where} = {err.instance!r} is a number; class names are strings: quote them, e.g. "
                f"classes: ['{err.instance}', ...]; allowed: the source's class names")
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
        check_dataset_settings(name, ds)
    check_tabular_names(config.get("tabular", {}))
    check_study_datasets(config)
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


def check_dataset_settings(name: str, ds: dict) -> None:
    """What the schema cannot say about one dataset's settings (validated, defaults filled): the test
    pool the source offers, an imagefolder's folders, file lists only for sources read from files, the
    classes of iNaturalist 2021, no ratio with ``imbalance: none``, one test count per listed class."""
    from ..core.datasets import FILE_SOURCES, TEST_SPLITS

    key, source = f"datasets.{name}", ds["source"]
    split = ds.get("test_split")
    if split is not None and split not in TEST_SPLITS[source]:
        raise ConfigError(f"{key}.test_split = {split!r} is not available for source {source}; "
                          f"allowed: {', '.join(TEST_SPLITS[source])}")
    if source == "imagefolder":
        path = ds.get("path")
        if not path:
            raise ConfigError(f"{key}: source imagefolder needs a 'path'")
        folders = ("train",) if split == "train" else ("train", split or "test")
        layout = " and ".join(f"<path>/{f}/<class>/*" for f in folders)
        for folder in folders:
            if not os.path.isdir(os.path.join(path, folder)):
                raise ConfigError(f"{key}.path = {path!r}: folder {os.path.join(path, folder)!r} "
                                  f"does not exist (expected {layout})")
    if ds.get("file_lists") and source not in FILE_SOURCES:
        raise ConfigError(f"{key}.file_lists: source {source} has no file names to match; allowed with sources "
                          f"{', '.join(FILE_SOURCES)}")
    if source == "inaturalist" and ds.get("inat_version") != "2017" and not ds.get("classes"):
        raise ConfigError(f"{key}.classes: inaturalist {ds.get('inat_version')} needs the classes (taxon names, e.g. "
                          "[Plantae, Insecta, Aves, Reptilia, Mammalia]); allowed without: inat_version '2017' "
                          "(its 13 super-categories)")
    imb = ds["imbalance"]
    if imb.get("type") == "none":
        extra = [k for k in ("ratio", "n_max") if k in imb]
        if extra:
            raise ConfigError(f"{key}.imbalance.{extra[0]} = {imb[extra[0]]!r} is not used with type none (the train "
                              "pool as it comes); allowed: leave it out, or type exp / step")
    draw, classes = ds.get("test_draw"), ds.get("classes")
    if isinstance(draw, list) and classes and len(draw) != len(classes):
        raise ConfigError(f"{key}.test_draw = {draw!r} has {len(draw)} counts for {len(classes)} classes; "
                          "allowed: one count per class, or one count for all")


def file_list_paths(config: dict, name: str, cut=None) -> dict:
    """{"train": [...], "test": [...]}: the file lists of every configured cut (or of ``cut``) of a dataset
    with ``file_lists``; {} without."""
    fl = config["datasets"][name].get("file_lists")
    if not fl:
        return {}
    cuts = config["cuts"] if cut is None else [cut]
    return {k: [fl[k].replace("{cut}", str(c)) for c in cuts] for k in ("train", "test")}


FETCH_KEYS = ("source", "root", "download", "path", "image_size", "test_per_class", "split_seed",
              "classes", "test_split", "pool_per_class")


def fetch_settings(config: dict, name: str) -> dict:
    """Keyword arguments of :func:`pipeline_lib.core.datasets.fetch` for a dataset (the fetch_dataset params):
    its source settings, plus ``inat_version`` for inaturalist and the file lists of all cuts, whose files
    are kept in the pools."""
    ds = config["datasets"][name]
    out = {k: ds[k] for k in FETCH_KEYS if ds.get(k) is not None}
    if ds["source"] == "inaturalist":
        out["inat_version"] = ds["inat_version"]
    lists = file_list_paths(config, name)
    if lists:
        out["file_lists"] = lists
    return out


def check_tabular_names(tab: dict) -> None:
    """Tabular data set names must be imbalanced-learn's; the figure data set one of them."""
    if not tab:
        return
    from ..core.datasets import imblearn_names

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
    from ..core.datasets import imblearn_file

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

def check_study_datasets(config: dict) -> None:
    """``eos_paper.datasets`` and ``da_images.datasets`` name configured datasets; the image study keeps
    Base whenever it has a model to compare with it (Tables VIII and XI, Fig. 10 are relative to Base)."""
    names = list(config["datasets"])
    lists = {f"{study}.datasets": config.get(study, {}).get("datasets") for study in ("eos_paper", "da_images")}
    lists["eos_paper.table5.datasets"] = config.get("eos_paper", {}).get("table5", {}).get("datasets")
    for where, datasets in lists.items():
        for d in datasets or []:
            if d not in names:
                raise ConfigError(f"{where}: {d!r} is not a configured dataset; allowed: {_names(names)}")
    models = config.get("da_images", {}).get("models", [])
    if models and "base" not in models:
        raise ConfigError(f"da_images.models = {models!r} lacks 'base': every table of the image study compares "
                          "with it; allowed: any models that include base")


def check_architectures(config: dict) -> None:
    """Every backbone name (datasets.<name>.backbone, eos_paper.table5.architectures) is one the models build."""
    from ..core.arch_names import check_arch

    named = [(f"datasets.{n}.backbone", ds.get("backbone")) for n, ds in config["datasets"].items()]
    named += [(f"eos_paper.table5.architectures[{i}].arch", a["arch"])
              for i, a in enumerate(config.get("eos_paper", {}).get("table5", {}).get("architectures", []))]
    for where, arch in named:
        if arch is None:
            continue
        try:
            check_arch(arch)
        except ValueError as err:
            raise ConfigError(f"{where}: {err}") from None


def check_checkpoints(name: str, ds: dict, info) -> None:
    """Every file of ``datasets.<name>.checkpoints`` against the network the config describes (backbone,
    classes, channels: 1 for digits, else 3), before any job runs (pipeline_lib.core.checkpoints)."""
    if not ds.get("checkpoints"):
        return
    from ..core.checkpoints import CheckpointError, check_plan_checkpoints

    if info.num_classes is None:
        return  # classes unknown before fetching: checked when the import job runs
    try:
        check_plan_checkpoints(ds["checkpoints"], arch=ds["backbone"], num_classes=info.num_classes,
                               in_channels=1 if ds["source"] == "digits" else 3, dataset=name)
    except CheckpointError as err:
        raise ConfigError(str(err)) from None


def check_checkpoint_cuts(config: dict, name: str) -> None:
    """Every cut of ``datasets.<name>.checkpoints.<model>`` is one of ``cuts`` (a file under another cut is
    never read: the model would be trained instead of imported)."""
    cuts = [str(c) for c in config["cuts"]]
    for model, by_cut in (config["datasets"][name].get("checkpoints") or {}).items():
        for cut in by_cut or {}:
            if str(cut) not in cuts:
                raise ConfigError(f"datasets.{name}.checkpoints.{model}: cut {cut!r} is not in cuts "
                                  f"[{', '.join(cuts)}], so its file would be ignored and the model trained; "
                                  f"allowed: {', '.join(cuts)}")


def check_table4_k(config: dict, datasets) -> None:
    """Table IV's K (``eos_paper.table4.k_values``) below the number of training samples of a cut of each of
    ``datasets`` (EOS looks among a sample's K nearest neighbours), where the counts are known without
    downloading.  Called when a target needs Table IV (rule table4's params), not by :func:`check_plan`:
    the default K values are larger than a small data set that never runs Table IV."""
    ks = config.get("eos_paper", {}).get("table4", {}).get("k_values", [])
    for name in datasets:
        ds = config["datasets"][name]
        if ds.get("file_lists"):
            continue
        counts = check_dataset_sizes(name, ds, source_info(name, ds))
        if counts is None:
            continue
        n = int(sum(counts))
        for i, k in enumerate(ks):
            if int(k) >= n:
                raise ConfigError(f"eos_paper.table4.k_values[{i}] = {k!r} needs more than the {n} training samples "
                                  f"of each cut of datasets.{name} (EOS looks among a sample's K nearest "
                                  f"neighbours); allowed: at most {n - 1}")


def check_plan(config: dict, configfiles=(), *, gpu_check: bool = True) -> None:
    """Checks of a validated config that need the config files, the data's sizes or the machine:
    duplicate keys in ``configfiles``; warmup_epochs < epochs; the names in ``classes``; test_per_class,
    imbalance.n_max, imbalance.ratio and test_draw against the per-class train and test counts (where known
    without downloading); the file lists of every cut; the t-SNE classes against the class names; device
    'cuda' only where a GPU is visible (``gpu_check``).  The balanced draw and Table IV's K are checked by
    :func:`check_balanced` and :func:`check_table4_k` when a target needs them."""
    for path in configfiles:
        check_duplicate_keys(path)
    check_custom_samplers(config)
    check_architectures(config)
    for where, block in (("head_training", config.get("head_training", {})),
                         ("tabular.head_training", config.get("tabular", {}).get("head_training", {}))):
        check_warmup(where, block)
    for name in config["datasets"]:
        check_checkpoint_cuts(config, name)
    infos = {name: source_info(name, ds) for name, ds in config["datasets"].items()}
    for name, ds in config["datasets"].items():
        check_file_lists(config, name)
        if ds.get("file_lists"):
            continue  # the lists, not a draw, give each cut's images
        counts = check_dataset_sizes(name, ds, infos[name])
        check_test_draw(name, ds, infos[name], counts)
    check_tsne_classes(config, infos)
    for name, ds in config["datasets"].items():
        check_checkpoints(name, ds, infos[name])
    if gpu_check:
        check_devices(config)


def check_custom_samplers(config: dict) -> None:
    """Your own samplers (pipeline_lib.sampling.custom_samplers) in ``samplers``, ``pixel_oversampling.methods``
    and ``tabular.oversampling.custom``: the class imports, takes its params and has fit_resample; a tabular
    one is not named after a method of the tabular study; one line otherwise."""
    from ..sampling.custom_samplers import check_entries

    tabular = config.get("tabular", {}).get("oversampling", {}).get("custom", [])
    for where, entries in (("samplers", config.get("samplers", [])),
                           ("pixel_oversampling.methods", config.get("pixel_oversampling", {}).get("methods", [])),
                           ("tabular.oversampling.custom", tabular)):
        try:
            if where.startswith("tabular"):
                check_tabular_sampler_names(entries, where)
            check_entries(entries, where)
        except ValueError as err:
            raise ConfigError(str(err)) from None


# names Snakemake keeps for itself in a rule's named outputs (its Namedlist's methods); a tabular sampler's name
# is part of the names of the tabular rules' inputs and outputs (augmented_<name>, <name>_model, ...), and was a
# name of its own in earlier releases: these names stay refused
SNAKEMAKE_NAMES = frozenset(n for n in dir(list) if not n.startswith("_")) | {"get", "items", "keys", "update"}


def check_tabular_sampler_names(entries, where: str) -> None:
    """A tabular sampler's name must not be a method or model of the tabular study (its files and report
    columns would collide) nor a name Snakemake keeps (``index``, ``keys``, ...): ValueError, one line."""
    from ..sampling.custom_samplers import is_custom
    from ..studies.tabular.runs import LATENT, METHODS, SKLEARN_MODELS

    taken = [*METHODS, *LATENT, *SKLEARN_MODELS, "nn"]
    for entry in entries:
        name = entry.get("name") if is_custom(entry) else None
        if name in taken:
            raise ValueError(f"{where}: sampler name {name!r} is taken by the tabular study; not one of "
                             f"{', '.join(taken)}")
        if name in SNAKEMAKE_NAMES:
            raise ValueError(f"{where}: sampler name {name!r} is kept by Snakemake (a named output); not one of "
                             f"{', '.join(sorted(SNAKEMAKE_NAMES))}")


def source_info(name: str, ds: dict):
    """:class:`~pipeline_lib.core.datasets.SourceInfo` of a dataset as configured: its ``classes`` (in their
    order; a name the source lacks is a one-line ConfigError listing the names it has) and its
    ``pool_per_class`` cap applied to the counts."""
    from ..core.datasets import SourceError, SourceInfo, class_positions, describe_source

    info = describe_source(ds["source"], path=ds.get("path"), root=ds.get("root"),
                           test_per_class=ds.get("test_per_class", 50), test_split=ds.get("test_split"),
                           inat_version=ds.get("inat_version", "2021_mini"))
    classes = ds.get("classes")
    if classes:
        if info.class_names is not None:
            try:
                info = info.subset(class_positions(info.class_names, classes, ds["source"]))
            except SourceError as err:
                raise ConfigError(f"datasets.{name}.classes: {err}") from None
        else:
            taxa = info.notes.get("taxa")
            missing = [c for c in classes if taxa and c not in taxa]
            if missing:
                raise ConfigError(f"datasets.{name}.classes: {missing[0]!r} is not a taxon of the inaturalist "
                                  f"{ds.get('inat_version')} folders (kingdom .. genus); allowed: {_names(taxa)}")

            def same(v):  # a count every class has (cifar100, Places365's val) holds for the subset too
                return [v[0]] * len(classes) if v and len(set(v)) == 1 else None

            info = SourceInfo(len(classes), list(classes), same(info.train_counts), None, same(info.test_counts),
                              info.holdout)
    return info.capped(ds.get("pool_per_class"))


def check_file_lists(config: dict, name: str) -> None:
    """Every cut's file lists must exist (they are read before any image)."""
    fl = config["datasets"][name].get("file_lists")
    if not fl:
        return
    for c in config["cuts"]:
        for kind in ("train", "test"):
            path = fl[kind].replace("{cut}", str(c))
            if not os.path.isfile(path):
                raise ConfigError(f"datasets.{name}.file_lists.{kind} = {fl[kind]!r}: {path} (cut {c}) does not "
                                  f"exist; allowed: a CSV for every cut in cuts ({', '.join(map(str, config['cuts']))})")


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
    """A key written twice in one mapping of a YAML config file (YAML keeps the last silently), and a YAML
    syntax error, with the file and line (Snakemake's own message names neither)."""
    try:
        with open(path) as fh:
            text = fh.read()
    except (OSError, ValueError):
        return  # unreadable here (Snakemake will say why): not this check's business
    try:
        json.loads(text)
        return  # JSON, which Snakemake reads first
    except ValueError:
        pass
    try:
        yaml.load(text, Loader=_UniqueKeyLoader)
    except _DuplicateKey as dup:
        raise ConfigError(f"{path}, line {dup.line}: key {dup.key!r} is given twice in one mapping (first at "
                          f"line {dup.first}; only the last would count); allowed: each key once") from None
    except yaml.constructor.ConstructorError:
        return  # a tag SafeLoader does not build (Snakemake's loader may): syntax fine, not this check's business
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        opened = err.context_mark if err.context and err.context_mark and err.context_mark is not mark else None
        what = " ".join(f"{err.context or ''}{f' at line {opened.line + 1}' if opened else ''}, "
                        f"{err.problem or ''}".strip(", ").split())
        raise ConfigError(f"{path}{where}: not valid YAML ({what}); tabs cannot indent YAML, brackets and "
                          "quotes must close") from None
    except yaml.YAMLError as err:  # a reader error: bytes that are not text
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(err).split())})") from None


def main(argv=None) -> int:
    """``python -m pipeline_lib.infra.config FILE...``: the YAML syntax / duplicate-key check of config files,
    for a ``--configfile`` that Snakemake refuses with 'Config file is not valid JSON or YAML'."""
    import sys

    bad = 0
    for path in (sys.argv[1:] if argv is None else argv):
        try:
            check_duplicate_keys(path)
        except ConfigError as err:
            print(f"config error: {err}", file=sys.stderr)
            bad = 1
    return bad


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


def check_dataset_sizes(name: str, ds: dict, info) -> list[int] | None:
    """test_per_class (digits), imbalance.n_max and imbalance.ratio against what the source holds:
    every class of the imbalanced subset needs at least 2 training images, and no class can give more
    than it has.  Parts that are unknown without downloading (CelebA counts) are skipped.  Returns the
    per-class sizes of each cut's training draw where known, else None."""
    from ..core.imbalance import class_counts

    key = f"datasets.{name}"
    names, avail = info.class_names, info.train_counts
    if ds["source"] == "digits" and info.total_counts:
        tpc, total = ds.get("test_per_class", 50), info.total_counts
        c = int(np.argmin(total))
        if tpc > total[c] - 2:
            raise ConfigError(f"{key}.test_per_class = {tpc!r} leaves class {_class_label(c, names)} with "
                              f"{max(total[c] - tpc, 0)} training images (it has {total[c]}); allowed: 1..{total[c] - 2}")
    if info.num_classes is None:
        return None
    if info.num_classes < 2:
        where = f"{key}.path = {ds.get('path')!r}" if ds["source"] == "imagefolder" else f"{key}.source"
        raise ConfigError(f"{where}: {info.num_classes} class(es) found; allowed: at least 2 classes")
    imb = ds["imbalance"]
    kind, ratio, n_max = imb.get("type", "exp"), imb.get("ratio"), imb.get("n_max")
    num = info.num_classes
    if kind == "none":
        if avail is None:
            return None
        c = int(np.argmin(avail))
        if avail[c] < 2:
            where = f"{key}.path = {ds.get('path')!r}" if ds["source"] == "imagefolder" else f"{key}.source"
            raise ConfigError(f"{where}: class {_class_label(c, names)} has {avail[c]} training image(s); "
                              "allowed: at least 2 per class")
        return list(avail)
    if n_max is None:
        if avail is None:
            return None
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
    return counts if avail is not None else None


def check_test_draw(name: str, ds: dict, info, counts: list[int] | None) -> None:
    """test_draw against the test pool (one count per class; no class asked for more than it has); with
    ``test_split: train`` the training draw and the test draw share each class's images."""
    key, draw, num, names = f"datasets.{name}", ds.get("test_draw"), info.num_classes, info.class_names
    if num is None:
        return
    if isinstance(draw, list) and len(draw) != num:
        raise ConfigError(f"{key}.test_draw = {draw!r} has {len(draw)} counts for {num} classes; "
                          "allowed: one count per class, or one count for all")
    want = None if draw is None else (list(draw) if isinstance(draw, list) else [draw] * num)
    if info.holdout:
        avail = info.train_counts
        if avail is None or counts is None:
            return
        n_max = max(counts)
        for c in range(num):
            if want is None and avail[c] - n_max < 1:
                raise ConfigError(f"{key}.test_split = 'train' leaves class {_class_label(c, names)} no test image: it "
                                  f"has {avail[c]} and null test_draw keeps the first n_max = {n_max} of each class "
                                  "for training; allowed: a test_draw, or a smaller imbalance.n_max")
            if want is not None and counts[c] + want[c] > avail[c]:
                raise ConfigError(f"{key}.test_draw = {draw!r} asks class {_class_label(c, names)} for {want[c]} test "
                                  f"images and the train pool (test_split train) has {avail[c]}, {counts[c]} of them "
                                  f"for training; allowed: at most {max(avail[c] - counts[c], 0)}")
        return
    have = info.test_counts
    if want is None or have is None:
        return
    for c in range(num):
        if want[c] > have[c]:
            raise ConfigError(f"{key}.test_draw = {draw!r} asks class {_class_label(c, names)} for {want[c]} test "
                              f"images and the {ds.get('test_split') or 'test'} pool has {have[c]}; allowed: at most "
                              f"{have[c]}")


def check_balanced(config: dict, name: str) -> None:
    """The balanced draw (the study's "Balanced" model) takes, per class, as many training images as the
    largest class of the cut's draw: every class must have them (besides its test images when the test
    pool is the train pool).  Checked where the counts are known without downloading, when a target
    needs the draw; file-list datasets are checked when the draw is made."""
    ds = config["datasets"][name]
    if ds.get("file_lists"):
        return
    info = source_info(name, ds)
    counts = check_dataset_sizes(name, ds, info)
    avail = info.train_counts
    if counts is None or avail is None:
        return
    n_max, draw = max(counts), ds.get("test_draw")
    for c in range(info.num_classes):
        test = 0
        if info.holdout and draw is not None:
            test = draw[c] if isinstance(draw, list) else draw
        if n_max + test > avail[c]:
            extra = f" besides its {test} test images" if test else ""
            raise ConfigError(f"datasets.{name}: the balanced draw asks class {_class_label(c, info.class_names)} for "
                              f"{n_max} training images (the largest class of the cut's draw){extra} and it has "
                              f"{avail[c]}; allowed: a draw whose largest class is at most {avail[c] - test}")


def _largest_n_max(avail, num: int, ratio: float, kind: str) -> int:
    """The largest n_max whose per-class counts every class can supply (counts grow with n_max)."""
    from ..core.imbalance import class_counts

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


if __name__ == "__main__":
    raise SystemExit(main())
