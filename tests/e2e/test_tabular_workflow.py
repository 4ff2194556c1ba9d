"""The tabular study end to end on the real UCI data (imbalanced-learn's copies in ../shared), two of the
five runs: every reports/da and reports/magnitude artifact, the NN's validation-split epoch selection, the
SVM kernels (RBF for Table III / support vectors, linear only for the CE analysis), caching, determinism,
bad input."""
import hashlib

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import run_snakemake
from test_workflow import TINY, job_stats, write_config

pytestmark = pytest.mark.e2e

DATASETS = ["ozone_level", "scene", "coil_2000", "thyroid_sick", "us_crime"]


def tab_config(home, **tabular):
    return {**TINY, "tabular": {"data_home": str(home), "download": False, "runs": [0, 1], **tabular}}


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def tab_run(tmp_path_factory, imblearn_home):
    wd = tmp_path_factory.mktemp("tabular")
    write_config(wd, tab_config(imblearn_home))
    run_snakemake(wd, "--cores", "2", "da_tabular", "magnitude_tabular")
    return wd


def test_every_artifact_is_built(tab_run):
    for name in ["table1", "table3", "table4", "table6", "table7", "table9", "table10"]:
        assert (tab_run / f"reports/da/{name}.md").stat().st_size > 0
        assert len(pd.read_csv(tab_run / f"reports/da/{name}.csv")) > 0
    for fig in ["fig1", "fig2", "fig3", "fig4", "fig5", "fig6", "fig7", "fig8", "fig9", "fig11", "fig12"]:
        assert (tab_run / f"reports/da/{fig}.png").read_bytes()[:4] == b"\x89PNG"
        assert len(pd.read_csv(tab_run / f"reports/da/{fig}.csv")) > 0
    for fig in ["fig2", "fig3", "fig4"]:
        assert (tab_run / f"reports/magnitude/{fig}.png").read_bytes()[:4] == b"\x89PNG"


def test_table1_is_computed_from_the_data(tab_run):
    t = pd.read_csv(tab_run / "reports/da/table1.csv").set_index("dataset")
    assert t.loc[DATASETS, "samples"].tolist() == [2536, 2407, 9822, 3772, 1994]  # the paper's Table I
    assert t.loc[DATASETS, "features"].tolist() == [72, 294, 85, 52, 100]
    assert [round(r) for r in t.loc[DATASETS, "imbalance_ratio"]] == [34, 13, 16, 15, 12]


def test_performance_tables(tab_run):
    t3 = pd.read_csv(tab_run / "reports/da/table3.csv")
    assert len(t3) == 5 * 6 and (t3["n_runs"] == 2).all()
    bac = t3.filter(like="_bac_mean")
    assert ((bac >= 0) & (bac <= 1)).all().all()
    base = t3[t3["method"] == "base"].set_index("dataset")["lg_bac_mean"]
    ros = t3[t3["method"] == "ros"].set_index("dataset")["lg_bac_mean"]
    assert (ros > base).all()  # balancing lifts LG's BAC on every set, as in the paper
    assert (t3["svm_kernel"] == "rbf").all()  # the paper's scikit-learn defaults
    assert "(SVM: rbf kernel)" in (tab_run / "reports/da/table3.md").read_text().splitlines()[0]
    t4 = pd.read_csv(tab_run / "reports/da/table4.csv")
    assert t4["method"].tolist() == ["base", "ros", "cs", "smote", "adasyn", "remix", "eos", "dsm"]
    assert (pd.read_csv(tab_run / "reports/da/fig1.csv").query("model == 'SVM (rbf)'")["kernel"] == "rbf").all()


def test_nn_epoch_is_selected_on_a_validation_split_of_the_train_split(tab_run):
    from pipeline_lib.core.mlp import load_mlp

    run = tab_run / "data/tabular/models/ozone_level/run0/nn"
    train = pd.read_parquet(tab_run / "data/tabular/splits/ozone_level/run0/train.parquet")
    test = pd.read_parquet(tab_run / "data/tabular/splits/ozone_level/run0/test.parquet")
    for method in ["base", "ros", "cs", "smote", "adasyn", "remix"]:
        _, meta = load_mlp(run / method / "model.pt")
        log = pd.read_csv(run / method / "training_log.csv")
        assert meta["select_on"] == "validation" and len(log) == meta["epochs"] == 50
        assert meta["selected_epoch"] == int(log["val_bac"].to_numpy().argmax()) + 1
        assert log.loc[log["selected"], "epoch"].tolist() == [meta["selected_epoch"]]
        assert meta["val_bac"] == pytest.approx(log["val_bac"].max())
        val = set(meta["validation_sample_id"])
        assert len(val) == meta["n_validation_rows"] == round(0.2 * len(train))
        assert val <= set(train["sample_id"]) and not val & set(test["sample_id"])  # never a test row
    # every method of a run holds out the same rows
    assert len({tuple(load_mlp(run / m / "model.pt")[1]["validation_sample_id"]) for m in ["base", "ros", "remix"]}) == 1


def test_only_the_magnitude_analysis_trains_the_linear_svm(tab_run):
    sv = pd.read_csv(tab_run / "data/tabular/analysis/support_vectors.csv")
    assert (sv["kernel"] == "rbf").all()
    ce = pd.read_csv(tab_run / "data/tabular/analysis/ce_counts.csv")
    assert set(ce["model"]) == {"lg", "svm"} and (ce.loc[ce["model"] == "svm", "kernel"] == "linear").all()
    assert (pd.read_csv(tab_run / "reports/magnitude/fig3.csv")["kernel"] == "linear").all()
    da = job_stats(run_snakemake(tab_run, "-n", "--forceall", "da_tabular").stdout)
    both = job_stats(run_snakemake(tab_run, "-n", "--forceall", "da_tabular", "magnitude_tabular").stdout)
    assert da["fit_sklearn_models"] == both["fit_sklearn_models"] == 5 * 2  # svm (RBF) and lg, all 6 methods
    assert "fit_linear_svm" not in da and both["fit_linear_svm"] == 5 * 2  # svm_linear, all 6 methods
    # one job per run for all methods (and the NN's EOS / DSM with their embeddings)
    assert da["split_augment_tabular"] == da["train_tabular_nn"] == da["train_tabular_latent_heads"] == 5 * 2


def test_support_vector_analysis(tab_run):
    sv = pd.read_csv(tab_run / "data/tabular/analysis/support_vectors.csv")
    assert len(sv) == 5 * 2 * 6
    np.testing.assert_allclose(sv["dual_coef_ratio"], 1.0, atol=1e-6)  # KKT: sum_i alpha_i y_i = 0
    base = sv[sv["method"] == "base"]
    assert (base["new_share"] == 0).all() and (base["sv_multiple"] == 1).all()
    assert (sv.loc[sv["method"].isin(["base", "cs", "ros"]), "synthetic_share"] == 0).all()
    assert (sv.loc[sv["method"].isin(["smote", "adasyn"]), "synthetic_share"] > 0).all()


def test_intermediates_open_with_pandas(tab_run):
    train = pd.read_parquet(tab_run / "data/tabular/splits/ozone_level/run0/train.parquet")
    assert train.attrs["dataset"] == "ozone_level" and train.shape[1] == 3 + 72
    np.testing.assert_allclose(train.filter(like="x").mean(), 0, atol=1e-9)  # scaled on the train split
    aug = pd.read_parquet(tab_run / "data/tabular/augmented/ozone_level/run0/smote.parquet")
    assert aug["label"].value_counts().nunique() == 1 and aug["is_synthetic"].sum() == len(aug) - len(train)
    emb = pd.read_parquet(tab_run / "data/tabular/embeddings/ozone_level/run0/train.parquet")
    assert emb.shape[1] == 4 + 36 and emb.attrs["arch"] == "mlp"  # d/2 = 36 penultimate features
    eos = pd.read_parquet(tab_run / "data/tabular/oversampled/ozone_level/run0/eos.parquet")
    assert eos.attrs["sampler"] == "eos" and eos["label"].value_counts().nunique() == 1


def test_noop_rerun_schedules_nothing(tab_run):
    assert "Nothing to be done" in run_snakemake(tab_run, "-n", "da_tabular", "magnitude_tabular").stdout


def test_changing_nn_epochs_reruns_only_the_nn_and_what_reads_it(tab_run, imblearn_home):
    write_config(tab_run, tab_config(imblearn_home, nn={"epochs": 3}))
    try:
        stats = job_stats(run_snakemake(tab_run, "-n", "da_tabular", "magnitude_tabular").stdout)
    finally:
        write_config(tab_run, tab_config(imblearn_home))
    assert stats["train_tabular_nn"] == stats["train_tabular_latent_heads"] == 5 * 2
    assert not {"fit_sklearn_models", "fit_linear_svm", "split_augment_tabular"} & set(stats)
    assert "analyse_support_vectors" not in stats and "analyse_ce_counts" not in stats  # SVM / LG only


def test_cpu_stages_are_byte_deterministic(tab_run):
    files = ["data/tabular/splits/us_crime/run1/train.parquet", "data/tabular/augmented/us_crime/run1/remix.parquet",
             "data/tabular/models/us_crime/run1/svm/adasyn/model.npz",
             "data/tabular/models/us_crime/run1/nn/remix/model.pt",
             "data/tabular/oversampled/us_crime/run1/eos.parquet"]
    before = {f: sha(tab_run / f) for f in files}
    run_snakemake(tab_run, "--cores", "2", "--forcerun", *files, "--", *files)
    assert {f: sha(tab_run / f) for f in files} == before


@pytest.mark.parametrize("tabular, target, expected", [
    ({"datasets": ["ozone_level", "iris"]}, "da_tabular", "tabular.datasets: 'iris' is not an imbalanced-learn dataset"),
    ({"analysis": {"ce_bias": "largest"}}, "da_tabular", "tabular.analysis.ce_bias = 'largest' is not allowed"),
    ({"data_home": "/no/such/home"}, "da_tabular", "tabular.data_home = '/no/such/home': ozone_level not found"),
    ({"nn": {"select_on": "test"}}, "da_tabular", "tabular.nn.select_on = 'test' is not allowed"),
])
def test_bad_tabular_config_fails_before_any_job(tmp_path, imblearn_home, tabular, target, expected):
    write_config(tmp_path, tab_config(imblearn_home, **tabular))
    proc = run_snakemake(tmp_path, "--cores", "1", target, check=False)
    assert proc.returncode != 0
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if "config error:" in line]
    assert len(lines) == 1 and expected in lines[0], proc.stdout + proc.stderr
    assert not (tmp_path / "data").exists()
