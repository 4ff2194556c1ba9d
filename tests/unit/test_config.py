import re

import pytest
import yaml

from conftest import REPO
from pipeline_lib.infra.config import ConfigError, check_analysis, load_schema, training_settings, validate

SCHEMA = load_schema(str(REPO / "workflow/schemas/config.schema.yaml"))


def default_config():
    with open(REPO / "config.yaml") as fh:
        return yaml.safe_load(fh)


def test_shipped_configs_validate():
    for path in [REPO / "config.yaml", *sorted((REPO / "configs").glob("*.yaml"))]:
        with open(path) as fh:
            cfg = yaml.safe_load(fh)
        if any(ds.get("source") == "imagefolder" for ds in cfg["datasets"].values()):
            continue  # needs its folder; covered by the CIFAR-10 folder test
        validate(cfg, SCHEMA)


def test_defaults_are_filled():
    cfg = validate({"datasets": {"d": {"source": "digits", "imbalance": {"ratio": 10}}}}, SCHEMA)
    assert cfg["cuts"] == [0, 10, 100] and cfg["losses"] == ["ce", "asl", "focal", "ldam"]
    assert cfg["datasets"]["d"]["backbone"] == "resnet32"
    assert cfg["datasets"]["d"]["imbalance"]["type"] == "exp"
    assert cfg["head_training"]["epochs"] == 10
    assert training_settings(cfg, "d")["epochs"] == 200


def test_dataset_training_overrides_global():
    cfg = default_config()
    validate(cfg, SCHEMA)
    s = training_settings(cfg, "digits")
    assert s["epochs"] == cfg["datasets"]["digits"]["training"]["epochs"]
    assert s["flip"] is False and s["lr"] == 0.1


@pytest.mark.parametrize("mutate, expected", [
    (lambda c: c["datasets"]["digits"].update(source="mnist"),
     "datasets.digits.source = 'mnist' is not allowed; allowed: digits, cifar10, cifar100, svhn, celeba, imagefolder"),
    (lambda c: c["datasets"]["digits"]["imbalance"].update(ratio=0.5),
     "datasets.digits.imbalance.ratio = 0.5"),
    (lambda c: c.update(losses=["ce", "hinge"]),
     "losses.1 = 'hinge' is not allowed; allowed: ce, focal, asl, ldam"),
    (lambda c: c.update(samplers=["smote", "gan"]),
     "samplers.1 = 'gan' is not allowed; allowed: none, ros, smote, bsmote, balsvm, eos"),
    (lambda c: c["oversampling"]["eos"].update(variant="v2"),
     "oversampling.eos.variant = 'v2' is not allowed; allowed: paper, authors"),
    (lambda c: c["datasets"]["digits"].update(sauce=1), "datasets.digits: Additional properties"),
    (lambda c: c["datasets"].update(cif={"source": "imagefolder", "path": "/nonexistent/cifar",
                                         "imbalance": {"ratio": 10}}),
     "datasets.cif.path = '/nonexistent/cifar': folder '/nonexistent/cifar/train' does not exist"),
])
def test_bad_values_give_one_line_errors(mutate, expected):
    cfg = default_config()
    mutate(cfg)
    with pytest.raises(ConfigError) as exc:
        validate(cfg, SCHEMA)
    msg = str(exc.value)
    assert expected in msg
    assert "\n" not in msg


@pytest.mark.parametrize("mutate, expected", [
    (lambda c: c.setdefault("analysis", {}).setdefault("tsne", {}).update(loss="focal-drw"),
     "analysis.tsne.loss = 'focal-drw' is not one of the configured losses"),
    (lambda c: c.setdefault("analysis", {}).setdefault("head_curve", {}).update(samplers=["ros"]),
     "analysis.head_curve.samplers: 'ros' is not one of the configured samplers"),
    (lambda c: c.setdefault("analysis", {}).setdefault("tsne", {}).update(dataset="cifar"),
     "analysis.tsne.dataset = 'cifar' is not a configured dataset"),
    (lambda c: c.setdefault("pixel_oversampling", {}).update(methods=["mixup"]),
     "pixel_oversampling.methods.0 = 'mixup' is not allowed; allowed: smote, bsmote, balsvm, ros, eos, remix"),
])
def test_analysis_settings_must_match_the_runs(mutate, expected):
    cfg = default_config()
    mutate(cfg)
    with pytest.raises(ConfigError, match=re.escape(expected)):
        validate(cfg, SCHEMA)
        check_analysis(cfg)


def test_table2_only_config_needs_no_analysis_runs():
    """Defaults of analysis.* (loss ce, samplers eos+smote) must not reject a config without them."""
    cfg = default_config()
    cfg.update(losses=["ldam"], samplers=["bsmote"])
    validate(cfg, SCHEMA)
    with pytest.raises(ConfigError, match="analysis.tsne.loss = 'ce'"):
        check_analysis(cfg)


# --- defaults live in the schema alone ------------------------------------------------------------------

def digits_only():
    return {"datasets": {"d": {"source": "digits", "imbalance": {"ratio": 10}}}}


def test_training_defaults_only_in_schema():
    import pipeline_lib.infra.config as config_mod

    assert not hasattr(config_mod, "TRAINING_DEFAULTS")
    cfg = validate(default_config(), SCHEMA)
    # per-dataset training holds the overrides written, never defaults
    assert cfg["datasets"]["digits"]["training"] == {"epochs": 30, "crop_padding": 1, "flip": False}
    assert training_settings(cfg, "digits") == {**cfg["backbone_training"], "epochs": 30, "crop_padding": 1,
                                                "flip": False}
    bare = validate(digits_only(), SCHEMA)
    assert "training" not in bare["datasets"]["d"]
    assert training_settings(bare, "d") == {"epochs": 200, "batch_size": 128, "lr": 0.1, "momentum": 0.9,
                                            "weight_decay": 0.0002, "crop_padding": 4, "flip": True,
                                            "select_on": "final", "device": "auto", "cuda_graph": False,
                                            "precision": "fp32"}


@pytest.mark.parametrize("extra", [
    {},
    {"oversampling": {}, "loss_options": {}, "backbone_training": {}},
    {"oversampling": {"smote": {"k_neighbors": 5}}},
    {"oversampling": {"bsmote": {"m_neighbors": 10}, "eos": {"variant": "paper"}, "none": {}}},
    {"oversampling": {"balsvm": {"k_neighbors": 5, "kernel": "rbf", "C": 1.0}, "eos": {"k_neighbors": 10}}},
    {"loss_options": {"focal": {"gamma": 2.0}, "ldam": {"s": 30.0}, "ce": {}}},
    {"loss_options": {"asl": {"gamma_pos": 0.0, "gamma_neg": 4.0, "eps": 0.1}}},
    {"backbone_training": {"epochs": 200, "device": "auto"}},
])
def test_writing_a_default_equals_leaving_it_out(extra):
    omitted = validate(digits_only(), SCHEMA)
    written = validate({**digits_only(), **extra}, SCHEMA)
    assert written == omitted
    assert validate(yaml.safe_load(yaml.safe_dump(omitted)), SCHEMA) == omitted  # defaults are valid


def test_shipped_default_blocks_equal_schema_defaults():
    full = validate(default_config(), SCHEMA)
    bare = default_config()
    for key in ("backbone_training", "loss_options", "oversampling"):
        del bare[key]
    assert validate(bare, SCHEMA) == full


@pytest.mark.parametrize("extra", [{}, {"oversampling": {}, "loss_options": {}}])
def test_sampler_and_loss_blocks_complete_after_validation(extra):
    cfg = validate({**digits_only(), **extra}, SCHEMA)
    assert cfg["oversampling"] == {"none": {}, "ros": {}, "smote": {"k_neighbors": 5},
                                   "bsmote": {"k_neighbors": 5, "m_neighbors": 10},
                                   "balsvm": {"k_neighbors": 5, "kernel": "rbf", "C": 1.0},
                                   "eos": {"k_neighbors": 10, "variant": "paper", "direction": "toward",
                                           "max_gap": 1.0}}
    assert cfg["loss_options"] == {"ce": {}, "focal": {"gamma": 2.0},
                                   "asl": {"gamma_pos": 0.0, "gamma_neg": 4.0, "eps": 0.1},
                                   "ldam": {"max_m": 0.5, "s": 30.0}}


def test_schema_defaults_match_the_library_defaults():
    """The schema's values are the ones the samplers / losses use when given no options."""
    import inspect

    from pipeline_lib.core import losses
    from pipeline_lib.sampling import oversampling

    cfg = validate(digits_only(), SCHEMA)
    for name in ("smote", "bsmote", "balsvm", "eos"):
        params = oversampling.make_sampler(name, 0).get_params()
        assert {k: params[k] for k in cfg["oversampling"][name]} == cfg["oversampling"][name], name
    for name, cls in (("focal", losses.FocalLoss), ("asl", losses.ASLSingleLabel), ("ldam", losses.LDAMLoss)):
        sig = inspect.signature(cls).parameters
        assert {k: sig[k].default for k in cfg["loss_options"][name]} == cfg["loss_options"][name], name
        assert set(cfg["loss_options"][name]) == set(losses._OPTION_KEYS[name])
    from pipeline_lib.sampling import gans

    cfg = validate(digits_only(), SCHEMA)
    assert {g: tuple(cfg["gans"][g]) for g in gans.GANS} == gans.OPTIONS  # the options the GANs read, in order


# --- check_plan: bad settings caught before any job -----------------------------------------------------

def planned(cfg, configfiles=(), **kw):
    from pipeline_lib.infra.config import check_plan

    validate(cfg, SCHEMA)
    check_plan(cfg, configfiles, **kw)
    return cfg


def plan_error(cfg, configfiles=(), **kw):
    with pytest.raises(ConfigError) as exc:
        planned(cfg, configfiles, **kw)
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


@pytest.mark.parametrize("mutate, expected", [
    (lambda c: c["datasets"]["digits"].update(backbone="vgg16"),
     "datasets.digits.backbone: unknown backbone 'vgg16'; allowed: resnet20|32|44|56|110, wrn<d>_<k>"),
    (lambda c: c.setdefault("eos_paper", {}).update(table5={"architectures": [{"arch": "wrn11_2"}]}),
     "eos_paper.table5.architectures[0].arch: unknown backbone 'wrn11_2' (WideResNet depth 11 is not 6n+4"),
    (lambda c: c.setdefault("eos_paper", {}).update(table5={"datasets": ["cifar"]}),
     "eos_paper.table5.datasets: 'cifar' is not a configured dataset; allowed: digits"),
])
def test_backbones_and_table5_are_checked_before_any_job(mutate, expected):
    cfg = default_config()
    mutate(cfg)
    assert expected in plan_error(cfg)


def test_shipped_configs_pass_check_plan():
    for path in [REPO / "config.yaml", *sorted((REPO / "configs").glob("*.yaml"))]:
        with open(path) as fh:
            cfg = yaml.safe_load(fh)
        if any(ds.get("source") == "imagefolder" for ds in cfg["datasets"].values()):
            continue
        planned(cfg, [str(path)])


def test_cuda_without_gpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cfg = default_config()
    cfg["backbone_training"]["device"] = "cuda"
    msg = plan_error(cfg)
    assert msg.startswith("backbone_training.device = 'cuda' but no GPU is visible") and "allowed: auto" in msg
    cfg = default_config()
    cfg["datasets"]["digits"]["training"]["device"] = "cuda"
    assert plan_error(cfg).startswith("datasets.digits.training.device = 'cuda'")
    cfg = default_config()  # a global cuda that every dataset overrides is never used
    cfg["backbone_training"]["device"] = "cuda"
    cfg["datasets"]["digits"]["training"]["device"] = "cpu"
    planned(cfg)
    cfg["datasets"]["digits"]["training"]["device"] = "cuda"
    planned(cfg, gpu_check=False)  # GPUs requested from a scheduler per rule (profiles/slurm)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    planned(cfg)


def test_no_torch_import_without_cuda(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # any `import torch` would raise ImportError
    planned(default_config())


@pytest.mark.parametrize("mutate, expected", [
    (lambda c: c["datasets"]["digits"].update(test_per_class=180),
     "datasets.digits.test_per_class = 180 leaves class 8 ('8') with 0 training images (it has 174); allowed: 1..172"),
    (lambda c: c["datasets"]["digits"]["imbalance"].update(ratio=1000),
     "datasets.digits.imbalance.ratio = 1000 leaves class 6 ('6') with 1 training image(s) (4 of 10 classes"),
    (lambda c: c["datasets"]["digits"]["imbalance"].update(ratio=1000),
     "allowed: at most 62 (n_max / 2)"),
    (lambda c: c["datasets"]["digits"]["imbalance"].update(n_max=200),
     "datasets.digits.imbalance.n_max = 200 asks class 0 ('0') for 200 training images and it has 128; "
     "allowed: at most "),
    (lambda c: c["datasets"]["digits"]["imbalance"].update(n_max=1),
     "datasets.digits.imbalance.n_max = 1 leaves classes with fewer than 2 training images; allowed: at least 2"),
    (lambda c: c["datasets"].update(c10={"source": "cifar10", "imbalance": {"ratio": 100, "n_max": 5001}}),
     "datasets.c10.imbalance.n_max = 5001 asks class 0 ('airplane') for 5001 training images and it has 5000; "
     "allowed: at most 5000"),
    (lambda c: c["datasets"].update(c100={"source": "cifar100", "imbalance": {"ratio": 300}}),
     "datasets.c100.imbalance.ratio = 300 leaves class 96 with 1 training image(s) (4 of 100 classes"),
    (lambda c: c["datasets"].update(sv={"source": "svhn", "imbalance": {"ratio": 5000}}),
     "datasets.sv.imbalance.ratio = 5000 leaves class"),
    (lambda c: c["datasets"].update(cel={"source": "celeba", "imbalance": {"ratio": 100, "n_max": 100}}),
     "datasets.cel.imbalance.ratio = 100 leaves class 4 ('bald') with 1 training image(s)"),
])
def test_sizes_larger_than_the_data(mutate, expected):
    cfg = default_config()
    mutate(cfg)
    assert expected in plan_error(cfg)


def test_sizes_that_fit_pass():
    cfg = default_config()
    cfg["datasets"]["digits"]["imbalance"].update(ratio=62)  # the largest ratio allowed above
    cfg["datasets"]["digits"]["test_per_class"] = 50
    cfg["datasets"].update(sv={"source": "svhn", "imbalance": {"ratio": 100, "n_max": 4948}},  # class 0 has 4948
                           cel={"source": "celeba", "imbalance": {"ratio": 40}})  # counts unknown: skipped
    planned(cfg)


def make_folder(root, counts, extra_files=0):
    for split in ("train", "test"):
        for cls, n in counts.items():
            d = root / split / cls
            d.mkdir(parents=True)
            for i in range(n if split == "train" else 1):
                (d / f"{i}.png").write_bytes(b"")
            for i in range(extra_files):
                (d / f"notes{i}.txt").write_text("not an image")
    return root


def folder_config(path, **imbalance):
    return {"datasets": {"f": {"source": "imagefolder", "path": str(path), "imbalance": {"ratio": 2, **imbalance}}}}


def test_imagefolder_counts(tmp_path):
    from pipeline_lib.core.datasets import describe_source

    root = make_folder(tmp_path / "imgs", {"cat": 12, "dog": 8, "ant": 10}, extra_files=3)
    (root / "train" / "dog" / "sub").mkdir()
    (root / "train" / "dog" / "sub" / "x.JPG").write_bytes(b"")
    info = describe_source("imagefolder", path=str(root))
    assert info.class_names == ["ant", "cat", "dog"] and info.train_counts == [10, 12, 9]
    planned(folder_config(root))  # n_max 9: [9, 6, 4]
    assert "datasets.f.imbalance.ratio = 10 leaves class 2 ('dog') with 0 training image(s)" in plan_error(
        folder_config(root, ratio=10))
    assert ("datasets.f.imbalance.n_max = 11 asks class 0 ('ant') for 11 training images and it has 10; "
            "allowed: at most 10") in plan_error(folder_config(root, n_max=11))


def test_imagefolder_class_with_one_image(tmp_path):
    root = make_folder(tmp_path / "imgs", {"a": 5, "b": 1})
    msg = plan_error(folder_config(root))
    assert msg.startswith(f"datasets.f.path = '{root}': class 1 ('b') has 1 training image(s); allowed: at least 2")


@pytest.mark.parametrize("where", ["head_training", "tabular.head_training"])
@pytest.mark.parametrize("warmup, epochs, allowed", [(5, 5, "1..4"), (8, 3, "1..2"), (1, 1, "none with epochs = 1")])
def test_warmup_must_end_before_the_last_epoch(where, warmup, epochs, allowed):
    cfg = default_config()
    block = cfg["tabular"].setdefault("head_training", {}) if where.startswith("tabular") else cfg["head_training"]
    block.update(warmup_epochs=warmup, epochs=epochs)
    msg = plan_error(cfg)
    assert msg.startswith(f"{where}.warmup_epochs = {warmup} is not smaller than {where}.epochs = {epochs}; "
                          f"allowed: {allowed}")


def test_duplicate_keys_in_a_config_file(tmp_path):
    text = (REPO / "config.yaml").read_text()
    good = tmp_path / "good.yaml"
    good.write_text(text + "\nbase: &b {epochs: 3}\n")  # anchors are fine
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("      epochs: 30\n", "      epochs: 30\n      lr: 0.05\n      epochs: 2\n"))
    line = next(i for i, l in enumerate(bad.read_text().splitlines(), 1) if l == "      epochs: 2")
    cfg = yaml.safe_load(bad.read_text())
    assert cfg["datasets"]["digits"]["training"]["epochs"] == 2  # what YAML alone does: the last one wins
    msg = plan_error(cfg, [str(bad)])
    assert msg.startswith(f"{bad}, line {line}: key 'epochs' is given twice in one mapping (first at line {line - 2};")
    assert "allowed: each key once" in msg
    top = tmp_path / "top.yaml"
    top.write_text(text + "\nseed: 3\n")
    assert f"{top}, line {len(top.read_text().splitlines())}: key 'seed'" in plan_error(yaml.safe_load(top.read_text()), [str(top)])


def test_yaml_merge_keys_are_not_duplicates(tmp_path):
    from pipeline_lib.infra.config import check_duplicate_keys

    f = tmp_path / "merge.yaml"
    f.write_text("a: &a {x: 1, y: 2}\nb:\n  <<: *a\n  x: 3\n")
    check_duplicate_keys(str(f))
    check_duplicate_keys(str(tmp_path / "missing.yaml"))  # unreadable: left to Snakemake


@pytest.mark.parametrize("tsne, expected", [
    ({"classes": ["3", "11"]}, "analysis.tsne.classes: '11' is not a class of digits; allowed: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9"
                               " or an index 0..9"),
    ({"classes": [0, 10]}, "analysis.tsne.classes: 10 is not a class index of digits; allowed: 0..9 or a name: 0, 1"),
    ({"classes": [-1, 2]}, "analysis.tsne.classes: -1 is not a class index of digits"),
    ({"dataset": "c10", "classes": ["automobile", "lorry"]},
     "analysis.tsne.classes: 'lorry' is not a class of c10; allowed: airplane, automobile, bird"),
    ({"dataset": "c100", "classes": [3, 100]}, "analysis.tsne.classes: 100 is not a class index of c100; allowed: 0..99"),
])
def test_tsne_classes_must_exist(tsne, expected):
    cfg = default_config()
    cfg["datasets"].update(c10={"source": "cifar10", "imbalance": {"ratio": 100}},
                           c100={"source": "cifar100", "imbalance": {"ratio": 10}})
    cfg["analysis"] = {"tsne": tsne}
    assert expected in plan_error(cfg)


@pytest.mark.parametrize("tsne", [{"classes": [0, "9"]}, {"dataset": "c10", "classes": ["automobile", 9]},
                                  {"dataset": "c100", "classes": ["apple", "any_name"]},  # names unknown: skipped
                                  {"dataset": "f", "classes": ["b", "a"]}])
def test_tsne_classes_that_exist_pass(tmp_path, tsne):
    cfg = default_config()
    cfg["datasets"].update(c10={"source": "cifar10", "imbalance": {"ratio": 100}},
                           c100={"source": "cifar100", "imbalance": {"ratio": 10}},
                           f={"source": "imagefolder", "path": str(make_folder(tmp_path / "i", {"a": 4, "b": 4})),
                              "imbalance": {"ratio": 2}})
    cfg["analysis"] = {"tsne": tsne}
    planned(cfg)


def test_tsne_folder_names(tmp_path):
    cfg = folder_config(make_folder(tmp_path / "i", {"a": 4, "b": 4}))
    cfg["analysis"] = {"tsne": {"classes": ["a", "c"]}}
    assert "analysis.tsne.classes: 'c' is not a class of f; allowed: a, b or an index 0..1" in plan_error(cfg)


def test_gpus_requested_per_rule():
    from pipeline_lib.infra.config import gpus_requested_per_rule

    assert gpus_requested_per_rule({"train_backbone": {"gpu": 1, "mem_mb": 100}})
    assert not gpus_requested_per_rule({"train_backbone": {"gpu": 0}, "x": {"mem_mb": 5}})
    assert not gpus_requested_per_rule({})
    assert not gpus_requested_per_rule(None)


def test_settings_in_another_key_order_validate_to_the_same_text():
    """Snakemake compares params as text: keys are put into the schema's order (YAML dumpers sort them)."""
    a = {"datasets": {"b": {"source": "digits", "imbalance": {"ratio": 5}}, "a": {"source": "digits",
                                                                                    "imbalance": {"ratio": 5}}},
         "head_training": {"epochs": 3, "warmup_epochs": 1, "batch_size": 128, "lr": 0.1}}
    b = {"head_training": {"lr": 0.1, "warmup_epochs": 1, "batch_size": 128, "epochs": 3},
         "datasets": {"b": {"imbalance": {"ratio": 5}, "source": "digits"}, "a": {"imbalance": {"ratio": 5},
                                                                                  "source": "digits"}}}
    va, vb = validate(a, SCHEMA), validate(b, SCHEMA)
    assert repr(va) == repr(vb)
    assert list(va["datasets"]) == ["b", "a"]  # the user's order of data sets is kept (table rows)
    assert list(va["head_training"])[:2] == ["epochs", "batch_size"]


# --- class subsets, test pools and draws, file lists, the balanced draw -----------------------------------

def one_dataset(**ds):
    return {"cuts": [0, 10], "datasets": {"d": {"imbalance": {"ratio": 10}, **ds}}}


def test_per_source_defaults_of_the_large_sources():
    places = validate(one_dataset(source="places365", classes=["airfield", "barn"]), SCHEMA)["datasets"]["d"]
    assert (places["download"], places["test_split"], places["image_size"]) == (False, "val", 32)
    c10 = validate(one_dataset(source="cifar10"), SCHEMA)["datasets"]["d"]
    assert (c10["download"], c10["test_split"], "image_size" in c10) == (True, "test", False)
    assert c10["classes"] is None and c10["test_draw"] is None and c10["file_lists"] is None
    assert c10["checkpoints"] == {} and c10["inat_version"] == "2021_mini"
    own = validate(one_dataset(source="places365", download=True, test_split="train"), SCHEMA)["datasets"]["d"]
    assert own["download"] is True and own["test_split"] == "train"


@pytest.mark.parametrize("ds, expected", [
    (dict(source="cifar10", test_split="val"),
     "datasets.d.test_split = 'val' is not available for source cifar10; allowed: test, train"),
    (dict(source="places365", test_split="test"),
     "datasets.d.test_split = 'test' is not available for source places365; allowed: val, train"),
    (dict(source="cifar10", file_lists={"train": "l/trn_{cut}.csv", "test": "l/val_{cut}.csv"}),
     "datasets.d.file_lists: source cifar10 has no file names to match; allowed with sources imagefolder, places365"),
    (dict(source="imagefolder", path="/x", file_lists={"train": "l/trn.csv", "test": "l/val_{cut}.csv"}),
     "datasets.d.file_lists.train: 'l/trn.csv' does not match"),
    (dict(source="inaturalist", classes=["Aves", "Plantae"], inat_version="2019"),
     "datasets.d.inat_version = '2019' is not allowed; allowed: 2017, 2021, 2021_mini"),
    (dict(source="inaturalist"), "datasets.d.classes: inaturalist 2021_mini needs the classes"),
    (dict(source="cifar10", imbalance={"type": "none", "ratio": 10}),
     "datasets.d.imbalance.ratio = 10 is not used with type none"),
    (dict(source="cifar10", imbalance={"type": "step"}), "datasets.d.imbalance: 'ratio' is a required property"),
    (dict(source="cifar10", classes=["cat", "dog"], test_draw=[5, 5, 5]),
     "datasets.d.test_draw = [5, 5, 5] has 3 counts for 2 classes"),
    (dict(source="cifar10", classes=["cat"]), "datasets.d.classes: ['cat'] is too short"),
    (dict(source="cifar10", test_draw=0), "datasets.d.test_draw = 0"),
    (dict(source="cifar10", checkpoints={"bse": {"0": "a.pt"}}), "datasets.d.checkpoints"),
    (dict(source="cifar10", checkpoints={"base": {"first": "a.pt"}}), "datasets.d.checkpoints.base"),
])
def test_bad_dataset_settings(ds, expected):
    cfg = one_dataset(**ds)
    cfg["datasets"]["d"].setdefault("imbalance", {"ratio": 10})
    with pytest.raises(ConfigError) as exc:
        validate(cfg, SCHEMA)
    assert expected in str(exc.value) and "\n" not in str(exc.value)


def test_checkpoints_key_validates():
    cfg = validate(one_dataset(source="cifar10", checkpoints={"base": {"0": "m/base_0.pt"}, "eos": {}}), SCHEMA)
    assert cfg["datasets"]["d"]["checkpoints"]["base"] == {"0": "m/base_0.pt"}


def test_imbalance_none_passes_and_needs_two_images(tmp_path):
    cfg = one_dataset(source="cifar10", imbalance={"type": "none"})
    planned(cfg)
    root = make_folder(tmp_path / "i", {"a": 5, "b": 1})
    msg = plan_error({"datasets": {"f": {"source": "imagefolder", "path": str(root), "imbalance": {"type": "none"}}}})
    assert msg.startswith(f"datasets.f.path = '{root}': class 1 ('b') has 1 training image(s); allowed: at least 2")


@pytest.mark.parametrize("ds, expected", [
    (dict(source="cifar10", classes=["cat", "lorry"]),
     "datasets.d.classes: 'lorry' is not a class of cifar10; allowed: airplane, automobile, bird, cat, deer, dog, frog, "
     "horse, ship, truck"),
    (dict(source="cifar10", classes=["cat", "dgo"]), "'dgo' is not a class of cifar10 (did you mean 'dog'?)"),
    (dict(source="inaturalist", inat_version="2017", classes=["Plantae", "Plants"]),
     "datasets.d.classes: 'Plants' is not a class of inaturalist (did you mean 'Plantae'?); allowed: Actinopterygii,"),
    (dict(source="cifar10", classes=["cat", "dog"], test_draw=[1000, 1001]),
     "datasets.d.test_draw = [1000, 1001] asks class 1 ('dog') for 1001 test images and the test pool has 1000; "
     "allowed: at most 1000"),
    (dict(source="places365", classes=["airfield", "barn"], test_draw=250),
     "datasets.d.test_draw = 250 asks class 0 ('airfield') for 250 test images and the val pool has 100"),
    (dict(source="cifar10", classes=["cat", "dog", "ship"], imbalance={"type": "step", "ratio": 10, "n_max": 4000},
          test_split="train", test_draw=1001),
     "datasets.d.test_draw = 1001 asks class 0 ('cat') for 1001 test images and the train pool (test_split train) "
     "has 5000, 4000 of them for training; allowed: at most 1000"),
    (dict(source="cifar10", test_split="train"),
     "datasets.d.test_split = 'train' leaves class 0 ('airplane') no test image: it has 5000 and null test_draw keeps "
     "the first n_max = 5000 of each class for training"),
    (dict(source="cifar10", classes=["cat", "dog"], pool_per_class=300, imbalance={"ratio": 10, "n_max": 400}),
     "datasets.d.imbalance.n_max = 400 asks class 0 ('cat') for 400 training images and it has 300"),
])
def test_plan_checks_of_subsets_and_draws(ds, expected):
    assert expected in plan_error(one_dataset(**ds))


def test_places_and_inat_plan_without_their_files(tmp_path, monkeypatch):
    """The paper's subsets plan (their counts unknown until the copies are there) and the known val size
    of Places365 still stops a draw it cannot give."""
    monkeypatch.chdir(tmp_path)
    cfg = one_dataset(source="places365", classes=["airfield", "amusement_park", "aquarium", "baseball_field", "barn"],
                      imbalance={"type": "step", "ratio": 10, "n_max": 2500}, test_split="train", test_draw=250)
    planned(cfg)
    cfg["datasets"]["d"].update(test_split="val", test_draw=100)
    planned(cfg)
    planned(one_dataset(source="inaturalist", inat_version="2017", classes=["Plantae", "Insecta", "Aves"],
                        imbalance={"type": "step", "ratio": 5, "n_max": 6250}, test_draw=[500, 500, 250]))


def test_folder_classes_val_pool_and_holdout(tmp_path):
    root = make_folder(tmp_path / "i", {"ant": 12, "bee": 8, "cat": 10})
    (root / "test").rename(root / "val")
    assert "folder '" + str(root / "test") + "' does not exist (expected <path>/train/<class>/* and " \
        "<path>/test/<class>/*)" in str(pytest.raises(ConfigError, validate, folder_config(root), SCHEMA).value)
    cfg = folder_config(root, n_max=8)
    cfg["datasets"]["f"].update(test_split="val", classes=["cat", "bee"], test_draw=1)
    planned(cfg)  # cat 10, bee 8: [8, 4]; val has 1 a class
    cfg["datasets"]["f"]["test_draw"] = [1, 2]
    assert "datasets.f.test_draw = [1, 2] asks class 1 ('bee') for 2 test images and the val pool has 1" in plan_error(cfg)
    cfg["datasets"]["f"].update(test_split="train", test_draw=[2, 5])  # one pool: bee has 8, 4 of them for training
    assert ("asks class 1 ('bee') for 5 test images and the train pool (test_split train) has 8, 4 of them for "
            "training; allowed: at most 4") in plan_error(cfg)
    cfg["datasets"]["f"]["test_draw"] = [2, 4]
    planned(cfg)


def test_file_lists_must_exist_for_every_cut(tmp_path, monkeypatch):
    from pipeline_lib.infra.config import fetch_settings, file_list_paths

    monkeypatch.chdir(tmp_path)
    root = make_folder(tmp_path / "i", {"a": 4, "b": 4})
    cfg = folder_config(root)
    cfg.update(cuts=[0, 10])
    cfg["datasets"]["f"]["file_lists"] = {"train": "lists/trn_{cut}.csv", "test": "lists/val_{cut}.csv"}
    (tmp_path / "lists").mkdir()
    for name in ("trn_0.csv", "val_0.csv", "trn_10.csv"):
        (tmp_path / "lists" / name).write_text("file,targets\n")
    assert plan_error(cfg) == ("datasets.f.file_lists.test = 'lists/val_{cut}.csv': lists/val_10.csv (cut 10) does not "
                               "exist; allowed: a CSV for every cut in cuts (0, 10)")
    (tmp_path / "lists" / "val_10.csv").write_text("file,targets\n")
    planned(cfg)
    assert file_list_paths(cfg, "f", "10") == {"train": ["lists/trn_10.csv"], "test": ["lists/val_10.csv"]}
    assert fetch_settings(cfg, "f")["file_lists"] == {"train": ["lists/trn_0.csv", "lists/trn_10.csv"],
                                                      "test": ["lists/val_0.csv", "lists/val_10.csv"]}


def test_balanced_draw_sizes(tmp_path):
    from pipeline_lib.infra.config import check_balanced

    cfg = validate(one_dataset(source="svhn", imbalance={"ratio": 100, "n_max": 4948}), SCHEMA)
    with pytest.raises(ConfigError) as exc:
        check_balanced(cfg, "d")
    assert str(exc.value) == ("datasets.d: the balanced draw asks class 9 ('9') for 4948 training images (the largest "
                              "class of the cut's draw) and it has 4659; allowed: a draw whose largest class is at most 4659")
    for ok in (dict(source="cifar10", imbalance={"ratio": 100}), dict(source="svhn", imbalance={"ratio": 100}),
               dict(source="celeba", imbalance={"ratio": 40})):  # CelebA's counts are unknown: not checked
        check_balanced(validate(one_dataset(**ok), SCHEMA), "d")
    root = make_folder(tmp_path / "i", {"a": 12, "b": 8})
    cfg = validate({"datasets": {"f": {"source": "imagefolder", "path": str(root), "imbalance": {"type": "none"}}}}, SCHEMA)
    with pytest.raises(ConfigError, match=r"asks class 1 \('b'\) for 12 training images .* and it has 8"):
        check_balanced(cfg, "f")
    held = validate(one_dataset(source="cifar10", classes=["cat", "dog"], test_split="train", test_draw=100,
                                imbalance={"ratio": 10, "n_max": 4950}), SCHEMA)
    with pytest.raises(ConfigError, match=r"for 4950 training images \(the largest class of the cut's draw\) besides its "
                                          r"100 test images and it has 5000; allowed: a draw whose largest class is at "
                                          r"most 4900"):
        check_balanced(held, "d")


def test_custom_sampler_entries_pass_the_schema():
    cfg = default_config()
    cfg["samplers"] = ["eos", {"name": "my_adasyn", "class": "imblearn.over_sampling.ADASYN"}]
    cfg["pixel_oversampling"] = {"methods": ["smote", {"name": "sv", "smote_variants": "SMOTE", "params": {"k": 3}}]}
    validate(cfg, SCHEMA)
    assert cfg["samplers"][1] == {"name": "my_adasyn", "class": "imblearn.over_sampling.ADASYN", "params": {}}
    assert cfg["long_tail"] == {"many_above": 100, "few_below": 20} and cfg["baselines"]["logit_adj"] is True
    cfg["samplers"] = ["eos", {"name": "x", "class": "imblearn.over_sampling.ADASYN", "parms": {}}]
    with pytest.raises(ConfigError, match=r"^samplers.1: Additional properties are not allowed \('parms'"):
        validate(cfg, SCHEMA)
