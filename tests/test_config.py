import re

import pytest
import yaml

from conftest import REPO
from pipeline_lib.config import ConfigError, check_analysis, load_schema, training_settings, validate

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
     "pixel_oversampling.methods.0 = 'mixup' is not allowed; allowed: smote, bsmote, balsvm, remix"),
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
