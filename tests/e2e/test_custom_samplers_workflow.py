"""End-to-end: your own samplers (imbalanced-learn's ADASYN by import path and a smote-variants oversampler in
embedding space, ADASYN in pixel space) build Table II, its many/medium/few-shot companion, the variant study
and Table I on the digits demo; a bad entry stops the plan with one line."""
import json

import numpy as np
import pandas as pd
import pytest

from conftest import run_snakemake
from pipeline_lib.core import embeddings as emb
from test_workflow import write_config

pytestmark = pytest.mark.e2e

ADASYN = {"name": "my_adasyn", "class": "imblearn.over_sampling.ADASYN", "params": {"n_neighbors": 5}}
POLY = {"name": "sv_polyfit", "smote_variants": "polynom_fit_SMOTE_star", "params": {}}
CFG = {
    "seed": 0,
    "cuts": [0, 1],
    "losses": ["ce"],
    "samplers": ["smote", "eos", ADASYN, POLY],
    "datasets": {"digits": {"source": "digits", "test_per_class": 20, "imbalance": {"type": "exp", "ratio": 5},
                            "backbone": "resnet20", "training": {"epochs": 1, "crop_padding": 1, "flip": False}}},
    "head_training": {"epochs": 3, "warmup_epochs": 1},
    "pixel_oversampling": {"methods": ["smote", ADASYN]},
    "long_tail": {"many_above": 60, "few_below": 25},
}
TARGETS = ["reports/table2.csv", "reports/table2_shots.csv", "reports/eos_variants.csv", "reports/table1.csv"]


@pytest.fixture(scope="module")
def custom_run(tmp_path_factory):
    wd = tmp_path_factory.mktemp("custom")
    write_config(wd, CFG)
    run_snakemake(wd, "--cores", "2", *TARGETS)
    return wd


def test_table2_and_companion_carry_the_custom_samplers(custom_run):
    t = pd.read_csv(custom_run / "reports/table2.csv")
    methods = [c[:-len("_BAC_mean")] for c in t.columns if c.endswith("_BAC_mean")]
    assert methods == ["Baseline", "SMOTE", "EOS", "my_adasyn", "sv_polyfit", "cRT", "tau-norm", "LA"]
    assert ((t["my_adasyn_BAC_mean"] > 0) & (t["sv_polyfit_BAC_mean"] <= 1)).all()
    md = (custom_run / "reports/table2.md").read_text()
    assert "## BAC" in md and "| Dataset | Loss | Cuts | Baseline | SMOTE | EOS | my_adasyn | sv_polyfit |" in md
    assert "- my_adasyn: imblearn.over_sampling.ADASYN (imbalanced-learn " in md and "smote_variants." in md
    shots = pd.read_csv(custom_run / "reports/table2_shots.csv")
    assert set(shots["method"]) >= {"my_adasyn", "sv_polyfit", "logit_adj"}
    assert shots["shot"].unique().tolist() == ["many", "medium", "few"]
    per_class = pd.read_csv(custom_run / "reports/table2_per_class.csv")
    assert per_class["recall"].between(0, 1).all() and len(per_class) == 2 * 8 * 10  # cuts x methods x classes


def test_parquet_metadata_and_rule_params_name_the_package(custom_run):
    _, meta = emb.read(str(custom_run / "data/oversampled/digits/cut0/ce/sv_polyfit.parquet"))
    assert meta["sampler"] == "sv_polyfit" and meta["sampler_class"] == "smote_variants.polynom_fit_SMOTE_star"
    assert meta["sampler_package"].replace("_", "-") == "smote-variants" and meta["sampler_version"]
    _, meta = emb.read(str(custom_run / "data/oversampled/digits/cut0/ce/my_adasyn.parquet"))
    assert meta["sampler_package"] == "imbalanced-learn" and meta["sampler_params"]["n_neighbors"] == 5
    with np.load(custom_run / "data/pixel_oversampled/digits/cut0/my_adasyn.npz") as z:
        rec = json.loads(str(z["sampler_meta"]))
    assert rec["sampler_class"] == "imblearn.over_sampling.ADASYN" and rec["sampler_version"]


def test_variant_study_and_table1_show_them(custom_run):
    v = pd.read_csv(custom_run / "reports/eos_variants.csv")
    assert {"my_adasyn", "sv_polyfit", "smote", "eos_text"} <= set(v["method"])
    assert v.loc[v["method"] == "my_adasyn", "metric"].tolist().count("label_conflict") == 2
    assert "| sv_polyfit |" in (custom_run / "reports/eos_variants.md").read_text().replace(" | ", " |\n| ")
    t1 = pd.read_csv(custom_run / "reports/table1.csv")
    assert "Pre-my_adasyn" in t1["method"].tolist()


def test_a_version_change_reruns_what_it_produced(custom_run):
    """The package version is in the rule's params: with imbalanced-learn reporting another version, a dry run
    plans the ADASYN run again, and not the smote-variants one."""
    import os

    site = custom_run / "fakeversion"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(
        "import importlib.metadata as m\n_v = m.version\n"
        "m.version = lambda d: '999.0' if d == 'imbalanced-learn' else _v(d)\n")
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    run_snakemake(custom_run, "--cores", "2", "reports/table2.csv")  # up to date (the code may have moved on)
    planned = run_snakemake(custom_run, "-n", "reports/table2.csv", env={"PYTHONPATH": path}).stdout
    outputs = [line for line in planned.splitlines() if line.strip().startswith("output:")]
    assert any("oversampled/digits/cut0/ce/my_adasyn.parquet" in line for line in outputs), planned[-3000:]
    assert not any("sv_polyfit" in line or "eos-k10" in line for line in outputs)
    again = run_snakemake(custom_run, "-n", "reports/table2.csv").stdout  # the real version: nothing to do
    assert "oversample_embeddings" not in again


@pytest.mark.parametrize("entry, words", [
    ({"name": "bad", "class": "imblearn.over_sampling.NoSuch"}, "has no 'NoSuch'"),
    ({"name": "bad", "class": "imblearn.over_sampling.ADASYN", "params": {"k": 1}}, "not accepted"),
    ({"name": "bad", "class": "sklearn.svm.SVC"}, "has no fit_resample"),
])
def test_bad_entries_stop_the_plan_with_one_line(tmp_path, entry, words):
    write_config(tmp_path, {**CFG, "samplers": ["eos", entry]})
    proc = run_snakemake(tmp_path, "-n", "reports/table2.csv", check=False)
    assert proc.returncode != 0
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("config error:")]
    assert len(lines) == 1 and words in lines[0] and "samplers: sampler 'bad'" in lines[0], proc.stderr[-2000:]
