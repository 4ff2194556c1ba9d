"""End-to-end: your own sampler in the tabular study (tabular.oversampling.custom; imbalanced-learn's ADASYN by
import path) on one real data set (us_crime, imbalanced-learn's copy in ../shared) and one run: Table III
with its row, its augmented file's and NN's records, the plan of every tabular target, a rerun on a new
package version, and bad entries stopping the plan with one line before any job."""
import os

import pandas as pd
import pytest

from conftest import run_snakemake
from test_workflow import TINY, job_stats, write_config

pytestmark = pytest.mark.e2e

MINE = {"name": "my_adasyn", "class": "imblearn.over_sampling.ADASYN", "params": {"n_neighbors": 3}}


def tab_config(home, *custom):
    """One data set, run 0, a short NN and head training: the cost of one small run."""
    return {**TINY, "tabular": {"data_home": str(home), "download": False, "datasets": ["us_crime"], "runs": [0],
                                "nn": {"epochs": 3}, "head_training": {"epochs": 2, "warmup_epochs": 1},
                                "oversampling": {"custom": list(custom)}}}


@pytest.fixture(scope="module")
def mine_run(tmp_path_factory, imblearn_home):
    wd = tmp_path_factory.mktemp("tabular_custom")
    write_config(wd, tab_config(imblearn_home, MINE))
    run_snakemake(wd, "--cores", "2", "reports/da/table3.csv")
    return wd


def test_table3_has_the_custom_row_under_its_name(mine_run):
    import imblearn

    t3 = pd.read_csv(mine_run / "reports/da/table3.csv")
    assert t3["method"].tolist() == ["base", "ros", "cs", "smote", "adasyn", "remix", "my_adasyn"]
    row = t3.set_index("method").loc["my_adasyn"]
    assert all(0 <= row[f"{m}_{x}_mean"] <= 1 for m in ("svm", "lg", "nn") for x in ("bac", "fm"))
    assert row["n_runs"] == 1
    md = (mine_run / "reports/da/table3.md").read_text()
    assert "| US Crime | my_adasyn |" in md
    assert (f"- my_adasyn: imblearn.over_sampling.ADASYN (imbalanced-learn {imblearn.__version__}), "
            "params n_neighbors=3") in md


def test_augmented_file_and_models_record_the_sampler(mine_run):
    import imblearn

    from pipeline_lib.core.mlp import load_mlp

    aug = pd.read_parquet(mine_run / "data/tabular/augmented/us_crime/run0/my_adasyn.parquet")
    train = pd.read_parquet(mine_run / "data/tabular/splits/us_crime/run0/train.parquet")
    assert aug.attrs["sampler_class"] == "imblearn.over_sampling.ADASYN"
    assert aug.attrs["sampler_package"] == "imbalanced-learn" and aug.attrs["sampler_version"] == imblearn.__version__
    assert aug.attrs["method_options"] == {"n_neighbors": 3} and aug.attrs["n_original"] == len(train)
    assert (aug["sample_id"][:len(train)].to_numpy() == train["sample_id"].to_numpy()).all()
    assert aug["is_synthetic"][len(train):].all() and (aug["label"][len(train):] == 1).all()
    _, meta = load_mlp(mine_run / "data/tabular/models/us_crime/run0/nn/my_adasyn/model.pt")
    assert meta["method"] == "my_adasyn" and meta["sampler_version"] == imblearn.__version__
    metrics = pd.read_csv(mine_run / "data/tabular/metrics/us_crime/run0.csv")
    assert set(metrics.loc[metrics["method"] == "my_adasyn", "model"]) == {"svm", "lg", "nn"}


def test_every_tabular_target_plans_the_custom_method(tmp_path, imblearn_home):
    write_config(tmp_path, tab_config(imblearn_home, MINE))
    out = run_snakemake(tmp_path, "-n", "da_tabular", "magnitude_tabular").stdout
    stats = job_stats(out)
    assert stats["split_augment_tabular"] == stats["train_tabular_nn"] == 1  # still one job per run
    assert stats["fit_sklearn_models"] == stats["fit_linear_svm"] == 1  # svm + lg; svm_linear: every method
    for path in ("augmented/us_crime/run0/my_adasyn.parquet", "models/us_crime/run0/svm/my_adasyn/model.npz",
                 "models/us_crime/run0/svm_linear/my_adasyn/model.npz", "models/us_crime/run0/nn/my_adasyn/model.pt"):
        assert f"data/tabular/{path}" in out, path


def test_a_version_change_reruns_what_it_produced(mine_run):
    """The package version is in split_augment_tabular's and train_tabular_nn's params: with imbalanced-learn
    reporting another version, a dry run plans them (and what reads them) again."""
    site = mine_run / "fakeversion"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(
        "import importlib.metadata as m\n_v = m.version\n"
        "m.version = lambda d: '999.0' if d == 'imbalanced-learn' else _v(d)\n")
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    planned = job_stats(run_snakemake(mine_run, "-n", "reports/da/table3.csv", env={"PYTHONPATH": path}).stdout)
    assert planned["split_augment_tabular"] == planned["train_tabular_nn"] == planned["fit_sklearn_models"] == 1
    assert "fit_linear_svm" not in planned  # table3 reads no svm_linear model
    assert "Nothing to be done" in run_snakemake(mine_run, "-n", "reports/da/table3.csv").stdout


@pytest.mark.parametrize("entry, words", [
    ({"name": "bad", "class": "imblearn.over_sampling.NoSuch"}, "has no 'NoSuch'"),
    ({"name": "bad", "class": "imblearn.over_sampling.ADASYN", "params": {"k": 1}}, "not accepted"),
    ({"name": "bad", "class": "sklearn.svm.SVC"}, "has no fit_resample"),
    ({"name": "eos_x", "class": "imblearn.over_sampling.ADASYN"}, "must match"),
    ({"name": "smote", "class": "imblearn.over_sampling.ADASYN"}, "is taken by the tabular study"),
])
def test_bad_entries_stop_the_plan_with_one_line(tmp_path, imblearn_home, entry, words):
    write_config(tmp_path, tab_config(imblearn_home, MINE, entry))
    proc = run_snakemake(tmp_path, "--cores", "1", "da_tabular", check=False)
    assert proc.returncode != 0
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("config error:")]
    assert len(lines) == 1 and words in lines[0], proc.stderr[-2000:]
    assert lines[0].startswith("config error: tabular.oversampling.custom: sampler ") and repr(entry["name"]) in lines[0]
    assert not (tmp_path / "data").exists()
