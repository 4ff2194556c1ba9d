"""benchmarks/paper_scale_cpu.py's tables on tiny hand-made metric files: the mean over cuts, the per-cut BAC
table of the precision check with its cut-to-cut spread and same-cut differences, and the config it writes."""
import importlib.util

import pandas as pd
import pytest
import yaml

from conftest import REPO
from pipeline_lib.infra import config

spec = importlib.util.spec_from_file_location("paper_scale_cpu", REPO / "benchmarks" / "paper_scale_cpu.py")
psc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(psc)

BAC = {  # run -> cut -> method -> BAC
    "own fp32": {0: {"baseline": 0.55, "eos": 0.68}, 10: {"baseline": 0.57, "eos": 0.69}},
    "own bf16": {0: {"baseline": 0.48, "eos": 0.63}, 10: {"baseline": 0.56, "eos": 0.69}},
}


def _runs(tmp_path):
    runs = {}
    for label, cuts in BAC.items():
        d = tmp_path / label.replace(" ", "_")
        for cut, methods in cuts.items():
            f = d / f"data/metrics/cifar10/cut{cut}/ce/metrics.csv"
            f.parent.mkdir(parents=True)
            pd.DataFrame([{"dataset": "cifar10", "cut": cut, "loss": "ce", "method": m, "metric": k, "value": v}
                          for m, bac in methods.items() for k, v in (("bac", bac), ("gm_authors", bac + 0.1))]
                         ).to_csv(f, index=False)
        runs[label] = (d, label.split()[-1])
    return runs


def test_metrics_of_is_the_mean_over_cuts(tmp_path):
    d, _ = _runs(tmp_path)["own fp32"]
    m = psc.metrics_of(d, [0, 10])
    assert m[("eos", "bac")] == pytest.approx(0.685) and m[("baseline", "gm_authors")] == pytest.approx(0.66)


def test_per_cut_bac_table_spread_and_differences(tmp_path):
    text = psc.per_cut_bac(_runs(tmp_path), [0, 10])
    assert "| method | own fp32 cut 0 | own fp32 cut 10 | own bf16 cut 0 | own bf16 cut 10 |" in text
    assert "| eos | 0.6800 | 0.6900 | 0.6300 | 0.6900 |" in text
    # cut-to-cut spread: fp32 0.02 / 0.01, bf16 0.08 / 0.06; fp32 - bf16: 0.07, 0.05, 0.01, 0.00
    assert "- own fp32: cut-to-cut BAC spread per method: max 0.0200, mean 0.0150" in text
    assert "- own bf16: cut-to-cut BAC spread per method: max 0.0800, mean 0.0700" in text
    assert "- own fp32 - own bf16 at the same cut: max |difference| 0.0700, mean +0.0325 (over 4 method-cuts)" in text


def test_write_config_sets_cuts_precision_epochs_and_seed(tmp_path):
    shared = tmp_path / "shared"
    for split in ("train", "test"):
        (shared / "data" / "cifar10" / split / "cat").mkdir(parents=True)
    path = psc.write_config(tmp_path / "run", shared, [0, 10], "bf16", False, 30, seed=1)
    cfg = yaml.safe_load(path.read_text())
    assert cfg["cuts"] == [0, 10] and cfg["seed"] == 1
    assert cfg["backbone_training"]["precision"] == "bf16" and cfg["backbone_training"]["epochs"] == 30
    assert cfg["datasets"]["cifar10"]["path"] == str((shared / "data" / "cifar10").resolve())
    config.validate(cfg, config.load_schema(str(REPO / "workflow" / "schemas" / "config.schema.yaml")))
    default = yaml.safe_load(psc.write_config(tmp_path / "run2", shared, [0], "fp32", True, 200).read_text())
    assert default["seed"] == yaml.safe_load(psc.TEMPLATE.read_text())["seed"]
    assert list(default["datasets"]["cifar10"]["checkpoints"]["base"]) == ["0"]
