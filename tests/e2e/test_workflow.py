"""End-to-end Snakemake runs on tiny configs (real digits data; real CIFAR-10 images)."""
import hashlib
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from conftest import REPO, run_snakemake
from pipeline_lib.core.imbalance import class_counts

pytestmark = pytest.mark.e2e

TINY = {
    "seed": 0,
    "cuts": [0, 1],
    "losses": ["ce", "ldam"],
    "samplers": ["smote", "bsmote", "balsvm", "eos"],
    "datasets": {"digits": {"source": "digits", "test_per_class": 20, "imbalance": {"type": "exp", "ratio": 5},
                            "backbone": "resnet20", "training": {"epochs": 2, "crop_padding": 1, "flip": False}}},
    "head_training": {"epochs": 3, "warmup_epochs": 1},
    # Table IV at two K (10 = Table II's run); Table V: the data set's own backbone (the Table II run) and two
    # tiny others
    "eos_paper": {"table4": {"k_values": [5, 10]},
                  "table5": {"architectures": [{"arch": "resnet20"}, {"arch": "wrn10_1", "epochs_scale": 0.5},
                                               {"arch": "densenet16_4"}]}},
    "gans": {"bagan": {"epochs": 1, "ae_epochs": 1, "width": 8}, "gamo": {"epochs": 1, "width": 8},
             "cgan": {"epochs": 1, "width": 8}},
}


def write_config(workdir, cfg):
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg))


def job_stats(output: str) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table of a (dry) run."""
    block = output.split("Job stats:", 1)[1]
    stats = {}
    for line in block.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not m:
            break
        stats[m.group(1)] = int(m.group(2))
    stats.pop("total", None)
    return stats


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    wd = tmp_path_factory.mktemp("tiny")
    write_config(wd, TINY)
    run_snakemake(wd, "--cores", "2", "eos_paper")
    return wd


def test_table2_is_built(tiny_run):
    t = pd.read_csv(tiny_run / "reports/table2.csv")
    assert list(t["loss"]) == ["CE", "LDAM"] and (t["n_cuts"] == 2).all()
    methods = ("Baseline", "SMOTE", "B.SMOTE", "Bal.SVM", "EOS", "cRT", "tau-norm", "LA")  # decoupling baselines last
    assert [c[:-len("_BAC_mean")] for c in t.columns if c.endswith("_BAC_mean")] == list(methods)
    for meth in methods:
        for met in ("BAC", "GM", "FM"):
            vals = t[f"{meth}_{met}_mean"]
            assert ((vals >= 0) & (vals <= 1)).all()
            assert t[f"{meth}_{met}_sd"].notna().all()
    md = (tiny_run / "reports/table2.md").read_text()
    assert "| digits | CE | 2 |" in md and " ± " in md and "**" in md and "## GMrec\n" in md
    assert md.count("| Dataset | Loss | Cuts | Baseline | SMOTE | B.SMOTE | Bal.SVM | EOS | cRT | tau-norm | LA |") == 4
    shots = pd.read_csv(tiny_run / "reports/table2_shots.csv")
    assert len(shots) == 2 * 8 * 3 and set(shots["shot"]) == {"many", "medium", "few"}
    la = pd.read_csv(tiny_run / "data/heads/digits/cut0/ce/logit_adj/tau_search.csv")
    assert la["chosen"].sum() == 1 and (la["n_heldout"] > 0).all()


def test_decoupling_baselines(tiny_run):
    """cRT is the ros sampler's head (added though `samplers` leaves ros out); tau-norm the phase-1 head with
    tau chosen on held-out train rows, the identity on LDAM's cosine head."""
    m = pd.read_csv(tiny_run / "data/metrics/digits/cut0/ce/metrics.csv").set_index(["method", "metric"])["value"]
    ros = pd.read_parquet(tiny_run / "data/heads/digits/cut0/ce/ros/test_predictions.parquet")
    test = pd.read_parquet(tiny_run / "data/embeddings/digits/cut0/ce/test.parquet")
    assert m["crt", "bac"] == pytest.approx(float(np.mean([(ros["pred"][ros["label"] == c] == c).mean()
                                                           for c in range(10)])))
    n_train = len(pd.read_parquet(tiny_run / "data/embeddings/digits/cut0/ce/train.parquet", columns=["label"]))
    for loss in ("ce", "ldam"):
        run = tiny_run / f"data/heads/digits/cut0/{loss}/tau_norm"
        search = pd.read_csv(run / "tau_search.csv")
        assert search["tau"].tolist() == pytest.approx([i / 10 for i in range(21)]) and search["chosen"].sum() == 1
        best = search.loc[search["heldout_bac"] == search["heldout_bac"].max(), "tau"].min()
        assert search.loc[search["chosen"], "tau"].item() == best
        assert 10 <= search["n_heldout"].iloc[0] < n_train  # about a fifth, at least one per class
        head = torch.load(run / "head.pt", weights_only=False)
        assert head["tau"] == best and (head["state_dict"]["bias"] == 0).all()
    # LDAM's cosine head: unit-norm class vectors, every tau predicts as the phase-1 network
    ldam = pd.read_csv(tiny_run / "data/heads/digits/cut0/ldam/tau_norm/tau_search.csv")
    assert ldam["heldout_bac"].nunique() == 1 and ldam["tau"][ldam["chosen"]].item() == 0.0
    pred = pd.read_parquet(tiny_run / "data/heads/digits/cut0/ldam/tau_norm/test_predictions.parquet")
    base = pd.read_parquet(tiny_run / "data/embeddings/digits/cut0/ldam/test.parquet", columns=["pred"])
    assert (pred["pred"] == base["pred"]).all()
    assert len(test) == len(pred)


def test_intermediates_are_readable_with_pandas(tiny_run):
    idx = pd.read_csv(tiny_run / "data/imbalanced/digits/cut0/train_indices.csv")
    n_max = idx["label"].value_counts().max()
    assert idx["label"].value_counts().sort_index().tolist() == class_counts(n_max, 10, 5, "exp")
    train = pd.read_parquet(tiny_run / "data/embeddings/digits/cut0/ce/train.parquet")
    assert list(train.columns[:4]) == ["sample_id", "label", "pred", "is_synthetic"]
    assert train.shape[1] == 4 + 64 and train["f0"].dtype == np.float32
    assert train["sample_id"].tolist() == idx["sample_id"].tolist()
    assert train.attrs["dataset"] == "digits" and train.attrs["loss"] == "ce" and train.attrs["cut"] == 0
    assert train.attrs["feature_dim"] == 64 and len(train.attrs["backbone_sha256"]) == 64
    test = pd.read_parquet(tiny_run / "data/embeddings/digits/cut0/ce/test.parquet")
    assert test["label"].value_counts().tolist() == [20] * 10  # the test split stays balanced
    for sampler, run in (("smote", "smote"), ("eos", "eos-k10")):  # EOS's K is in its path
        ov = pd.read_parquet(tiny_run / f"data/oversampled/digits/cut0/ce/{run}.parquet")
        assert ov.attrs["sampler"] == sampler
        assert (ov["label"].value_counts() == n_max).all()
        pd.testing.assert_frame_equal(ov.iloc[:len(train)], train, check_like=False)
        assert ov["is_synthetic"].iloc[len(train):].all() and (ov["sample_id"].iloc[len(train):] == -1).all()
    log = pd.read_csv(tiny_run / "data/heads/digits/cut0/ce/eos-k10/training_log.csv")
    assert log["epoch"].tolist() == [1, 2, 3]
    m = pd.read_csv(tiny_run / "data/metrics/digits/cut0/ce/metrics.csv")
    assert set(m["method"]) == {"baseline", "smote", "bsmote", "balsvm", "eos", "crt", "tau_norm", "logit_adj"}
    assert {"bac", "gm_authors", "fm_authors", "gm", "fm", "acc", "recall_9"} <= set(m["metric"])
    # every rule left a log and a benchmark
    for rule in ("fetch_dataset", "imbalance_dataset", "train_backbone", "export_embeddings",
                 "oversample_embeddings", "retrain_head", "tau_normalise", "logit_adjust", "evaluate_run", "table2"):
        assert list((tiny_run / "logs" / rule).iterdir()), rule
        assert list((tiny_run / "benchmarks" / rule).glob("*.tsv")), rule


def test_eos_paper_figures_and_tables(tiny_run):
    r = tiny_run / "reports"
    for name in ("fig3_digits", "fig4", "fig5_digits", "fig6", "fig7"):
        assert (r / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert len(pd.read_csv(r / f"{name}.csv")) > 0, name
    fig3 = pd.read_csv(r / "fig3_digits.csv")
    assert set(fig3["method"]) == {"Baseline", "SMOTE", "B.SMOTE", "Bal.SVM", "EOS"}
    assert set(fig3["loss"]) == {"CE", "LDAM"} and (fig3["n_cuts"] == 2).all() and (fig3["gap"] >= 0).all()
    # SMOTE-type rows interpolate inside a class: its train ranges, hence its gap, equal the baseline's
    piv = fig3.pivot_table(index=["loss", "class_index"], columns="method", values="gap")
    np.testing.assert_allclose(piv["SMOTE"], piv["Baseline"], atol=1e-6)
    assert (piv["EOS"] <= piv["Baseline"] + 1e-9).all()
    fig4 = pd.read_csv(r / "fig4.csv")
    assert set(fig4["kind"]) == {"TP", "FP"}
    fig5 = pd.read_csv(r / "fig5_digits.csv")
    assert (fig5["norm"] > 0).all() and len(fig5) == 2 * 5 * 10
    fig6 = pd.read_csv(r / "fig6.csv")
    assert fig6["class_name"].nunique() == 2 and fig6.loc[fig6["method"] == "EOS", "synthetic"].any()
    fig7 = pd.read_csv(r / "fig7.csv")
    assert fig7["epoch"].max() == 30 and set(fig7["method"]) == {"EOS", "SMOTE"} and set(fig7["split"]) == {"train", "test"}
    t1 = pd.read_csv(r / "table1.csv")
    assert t1["method"].tolist() == ["Pre-SMOTE", "Pre-BSMOTE", "Pre-BalSVM", "REMIX", "Post-SMOTE", "Post-BSMOTE",
                                     "Post-BalSVM"]
    assert t1["digits_BAC_mean"].between(0, 1).all() and (t1["digits_n_cuts"] == 2).all()
    rt = pd.read_csv(r / "runtime.csv")
    assert set(rt["pipeline"]) == {"pixel_smote", "pixel_bsmote", "pixel_balsvm", "remix", "three_phase_eos",
                                   "gan_gamo", "gan_bagan", "gan_cgan"}
    assert (rt["wall_s_per_cut"] > 0).all() and (rt["cpu_s_per_cut"] > 0).all()
    balanced = np.load(tiny_run / "data/pixel_oversampled/digits/cut0/smote.npz")
    assert balanced["x"].dtype == np.uint8 and len(set(np.bincount(balanced["y"]))) == 1


def test_eos_studies(tiny_run):
    """Table IV (K in the run path, K = 10 the Table II run), Table V (own backbone = the Table II run, others
    derived data sets with their own feature width), pixel EOS and the variant study."""
    r = tiny_run / "reports"
    t4 = pd.read_csv(r / "table4.csv")
    assert sorted(set(t4["k"])) == [5, 10] and (t4["n_cuts"] == 2).all() and set(t4["metric"]) == {
        "bac", "gm_authors", "fm_authors"}
    t2 = pd.read_csv(r / "table2.csv").set_index("loss")
    k10 = t4[(t4["k"] == 10) & (t4["metric"] == "bac")]["mean"].item()
    assert k10 == pytest.approx(t2.loc["CE", "EOS_BAC_mean"], abs=1e-6)
    assert (tiny_run / "data/heads/digits/cut0/ce/eos-k5/head.pt").exists()
    t5 = pd.read_csv(r / "table5.csv")
    assert set(t5["arch"]) == {"resnet20", "wrn10_1", "densenet16_4"} and set(t5["method"]) == {"baseline", "eos"}
    own = t5[(t5["arch"] == "resnet20") & (t5["method"] == "eos") & (t5["metric"] == "bac")]["mean"].item()
    assert own == pytest.approx(k10, abs=1e-6)  # the data set's own backbone is the Table II run
    assert not (tiny_run / "data/backbones/digits@resnet20").exists()
    wrn = pd.read_parquet(tiny_run / "data/embeddings/digits@wrn10_1x0.5/cut0/ce/train.parquet")
    dense = pd.read_parquet(tiny_run / "data/embeddings/digits@densenet16_4/cut0/ce/train.parquet")
    assert wrn.attrs["feature_dim"] == 64 and dense.attrs["feature_dim"] == 16 and dense.shape[1] == 4 + 16
    log = pd.read_csv(tiny_run / "data/backbones/digits@wrn10_1x0.5/cut0/ce/training_log.csv")
    assert log["epoch"].max() == 1  # half of the data set's 2 epochs
    assert not (tiny_run / "data/raw/digits@wrn10_1x0.5").exists()  # the data set's own images and cuts
    px = pd.read_csv(r / "pixel_eos.csv")
    assert set(px["space"]) == {"pixel", "embedding"} and px["mean"].between(0, 1).all()
    assert np.load(tiny_run / "data/pixel_oversampled/digits/cut0/eos.npz")["is_synthetic"].any()
    v = pd.read_csv(r / "eos_variants.csv")
    assert set(v["method"]) == {"smote", "eos_text", "eos_pseudocode", "eos_authors", "eos_half_gap"}
    assert set(v["loss"]) == {"ce", "ldam"} and set(v["cut"]) == {0, 1}
    conflict = v[v["metric"] == "label_conflict"]
    assert len(conflict) == 5 * 2 * 2 and conflict["value"].between(0, 1).all()
    md = (r / "eos_variants.md").read_text()
    assert "| Dataset | Loss | SMOTE | EOS text | EOS pseudo-code |" in md and "## Conflict" in md


def test_gan_baselines(tiny_run):
    """Table III: a GAN per data set and cut, the cut balanced with it, a backbone per loss; the EOS column is
    Table II's; the sample grid and the GANs' time in runtime.csv."""
    r = tiny_run / "reports"
    t3 = pd.read_csv(r / "table3.csv")
    assert set(t3["method"]) == {"gamo", "bagan", "cgan", "eos"} and set(t3["loss"]) == {"ce", "ldam"}
    assert (t3["n_cuts"] == 2).all() and t3["mean"].between(0, 1).all()
    t2 = pd.read_csv(r / "table2.csv").set_index("loss")
    eos = t3[(t3["method"] == "eos") & (t3["metric"] == "bac")].set_index("loss")["mean"]
    assert eos["ce"] == pytest.approx(t2.loc["CE", "EOS_BAC_mean"], abs=1e-6)
    assert eos["ldam"] == pytest.approx(t2.loc["LDAM", "EOS_BAC_mean"], abs=1e-6)
    for gan in ("gamo", "bagan", "cgan"):
        assert (tiny_run / f"data/gans/digits/cut1/{gan}/generator.pt").exists()
        bal = np.load(tiny_run / f"data/gan_balanced/digits/cut1/{gan}.npz")
        assert len(set(np.bincount(bal["y"]))) == 1 and bal["x"].dtype == np.uint8
        log = pd.read_csv(tiny_run / f"data/gan_backbones/digits/cut1/{gan}/ldam/training_log.csv")
        assert log["epoch"].max() == 2
    assert (r / "fig_gan_samples_digits.png").read_bytes()[:4] == b"\x89PNG"
    samples = pd.read_csv(r / "fig_gan_samples_digits.csv")
    assert len(samples) == 3 * 10 and samples["fake_spread"].notna().all()
    rt = pd.read_csv(r / "runtime.csv").set_index("pipeline")
    assert {"gan_gamo", "gan_bagan", "gan_cgan"} <= set(rt.index) and (rt.loc["gan_bagan", "n_jobs"] == 2 * 3)


def test_drawing_more_samples_does_not_retrain_a_gan(tiny_run):
    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    cfg["gans"]["samples_per_class"] = 4
    write_config(tiny_run, cfg)
    try:
        samples = job_stats(run_snakemake(tiny_run, "-n", "eos_paper").stdout)
        cfg["gans"]["gamo"]["epochs"] = 2
        write_config(tiny_run, cfg)
        gamo = job_stats(run_snakemake(tiny_run, "-n", "reports/table3.csv").stdout)
    finally:
        write_config(tiny_run, TINY)
    assert samples == {"fig_gan_samples": 1, "eos_paper": 1}
    assert gamo == {"train_gan": 2, "sample_gan": 2, "train_gan_backbone": 2 * 2, "table3": 1}


def test_paper_check_scorecard(tiny_run):
    """Digits stands in for CIFAR-10: its numbers sit beside the published CIFAR-10 cells as a stand-in;
    every other published number is listed as not run."""
    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    cfg["datasets"]["digits"]["paper"] = {"dataset": "cifar10", "why": "tiny digits"}
    cfg["paper_check"] = {"tables": ["eos_table1", "eos_table2", "eos_table3", "eos_table4", "eos_table5",
                                     "eos_pixel", "eos_runtime"]}
    write_config(tiny_run, cfg)
    try:
        run_snakemake(tiny_run, "--cores", "1", "reports/paper_check.csv")
    finally:
        write_config(tiny_run, TINY)
    card = pd.read_csv(tiny_run / "reports/paper_check.csv", keep_default_na=False, na_values=[""])
    t2 = pd.read_csv(tiny_run / "reports/table2.csv").set_index("loss")
    cut0 = pd.read_csv(tiny_run / "data/metrics/digits/cut0/ce/metrics.csv").set_index(["method", "metric"])
    row = card[(card["table"] == "table2") & (card["dataset"] == "cifar10") & (card["loss"] == "ce")
               & (card["method"] == "eos") & (card["metric"] == "bac")].iloc[0]
    assert row["status"] == "stand-in" and row["run_dataset"] == "digits" and row["published"] == 0.7581
    # the EOS paper's protocol: one cut (paper_check.eos_cut, default 0); the mean over cuts beside it
    assert row["aggregation"] == "cut 0" and row["other_aggregation"] == "mean of 2 cuts"
    assert row["reproduced"] == pytest.approx(cut0.loc[("eos", "bac"), "value"], abs=1e-5)
    assert row["other"] == pytest.approx(t2.loc["CE", "EOS_BAC_mean"], abs=1e-5)
    assert row["difference"] == pytest.approx(row["reproduced"] - 0.7581, abs=1e-5)
    assert row["verdict"] in ("agrees", "within noise", "differs")
    svhn = card[card["dataset"] == "svhn"]
    assert len(svhn) and (svhn["status"] == "not run").all() and svhn["reproduced"].isna().all()
    k300 = card[(card["table"] == "table4") & (card["dataset"] == "cifar10") & (card["k"] == 300)]
    assert (k300["status"] == "not run").all()  # the tiny config sweeps K 5 and 10 only
    gamo = card[(card["table"] == "table3") & (card["dataset"] == "cifar10") & (card["method"] == "gamo")]
    ran = gamo["loss"].isin(["ce", "ldam"])  # the tiny config's losses; the paper's ASL and Focal are not run
    assert len(gamo) == 4 * 3 and ran.sum() == 2 * 3
    assert (gamo.loc[ran, "status"] == gamo.loc[ran, "metric"].map(lambda m: "not comparable" if m == "gm"
                                                                   else "stand-in")).all()
    assert (gamo.loc[~ran, "status"] == "not run").all()
    t3 = card[(card["table"] == "table3") & (card["dataset"] == "cifar10") & card["loss"].isin(["ce", "ldam"])]
    assert len(t3) == 2 * 4 * 3 and set(t3["method"]) == {"gamo", "bagan", "cgan", "eos"}  # EOS rows matched too
    gan_gm = t3["method"].isin(["gamo", "bagan", "cgan"]) & (t3["metric"] == "gm")
    assert (t3.loc[gan_gm, "status"] == "not comparable").all() and (t3.loc[~gan_gm, "status"] == "stand-in").all()
    assert "not run" in (tiny_run / "reports/paper_check.md").read_text()


def test_changing_k_reruns_only_the_k_dependent_jobs(tiny_run):
    """K = 5 is Table IV's run already: Table II reuses it on CE and makes only LDAM's eos-k5 runs."""
    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    cfg["oversampling"] = {"eos": {"k_neighbors": 5}}
    write_config(tiny_run, cfg)
    try:
        stats = job_stats(run_snakemake(tiny_run, "-n", "reports/table2.csv", "reports/table4.csv").stdout)
    finally:
        write_config(tiny_run, TINY)
    assert stats == {"oversample_embeddings": 2, "retrain_head": 2, "evaluate_run": 4, "table2": 1, "table4": 1}


def test_head_loss_phase1_retrains_only_the_non_ce_heads(tiny_run):
    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    cfg["head_training"]["loss"] = "phase1"
    write_config(tiny_run, cfg)
    try:
        stats = job_stats(run_snakemake(tiny_run, "-n", "reports/table2.csv").stdout)
    finally:
        write_config(tiny_run, TINY)
    assert stats == {"retrain_head": 2 * 5, "evaluate_run": 2, "table2": 1}  # LDAM's heads; CE's are CE either way


def test_eos_and_smote_ranges_on_real_embeddings(tiny_run):
    """Adding EOS rows never shrinks a class's train range; SMOTE rows never extend it."""
    from pipeline_lib.core import embeddings as emb
    from pipeline_lib.core.measures import class_ranges

    for loss in ("ce", "ldam"):
        train, _ = emb.read(tiny_run / f"data/embeddings/digits/cut0/{loss}/train.parquet")
        lo, hi = class_ranges(emb.features(train), train["label"], 10)
        for sampler, grows in (("eos-k10", True), ("smote", False)):
            ov, _ = emb.read(tiny_run / f"data/oversampled/digits/cut0/{loss}/{sampler}.parquet")
            lo2, hi2 = class_ranges(emb.features(ov), ov["label"], 10)
            assert (lo2 <= lo).all() and (hi2 >= hi).all()
            if not grows:
                np.testing.assert_allclose(lo2, lo, atol=1e-5)
                np.testing.assert_allclose(hi2, hi, atol=1e-5)


def test_html_report(tiny_run):
    run_snakemake(tiny_run, "--report", "reports/eos_report.html", "eos_paper")
    html = (tiny_run / "reports/eos_report.html").read_text(errors="replace")
    assert len(html) > 10_000
    for name in ("table1.csv", "table2.csv", "fig3_digits.png", "fig4.png", "fig5_digits.png", "fig6.png", "fig7.png",
                 "runtime.csv"):
        assert name in html, name


def test_noop_rerun_schedules_nothing(tiny_run):
    out = run_snakemake(tiny_run, "-n", "eos_paper").stdout
    assert "Nothing to be done" in out


def test_changing_head_epochs_reruns_only_head_metrics_report(tiny_run):
    cfg = yaml.safe_load((tiny_run / "config.yaml").read_text())
    cfg["head_training"]["epochs"] = 4
    write_config(tiny_run, cfg)
    try:
        stats = job_stats(run_snakemake(tiny_run, "-n", "reports/table2.csv").stdout)
    finally:
        write_config(tiny_run, TINY)
    # 4 samplers and cRT's ros head; tau-norm trains no head, so does not rerun
    assert stats == {"retrain_head": 2 * 2 * 5, "evaluate_run": 2 * 2, "table2": 1}


def test_editing_an_indirectly_imported_module_reruns_exactly_its_rules(tiny_run, tmp_path):
    """retrain_head's script imports only pipeline_lib.core.heads; heads imports metrics.  Editing metrics (in a
    copy of the library put first on PYTHONPATH) must rerun the head, and nothing that does not reach it."""
    shutil.copytree(REPO / "src", tmp_path / "src")
    with open(tmp_path / "src/pipeline_lib/core/metrics.py", "a") as fh:
        fh.write("\n# an edit\n")
    out = run_snakemake(tiny_run, "-n", "reports/table2.csv", env={"PYTHONPATH": str(tmp_path / "src")}).stdout
    stats = job_stats(out)
    assert stats["retrain_head"] == 2 * 2 * 5 and stats["evaluate_run"] == 2 * 2 and stats["table2"] == 1
    assert stats["tau_normalise"] == 2 * 2  # pipeline_lib.core.decoupling imports metrics too
    assert "fetch_dataset" not in stats and "imbalance_dataset" not in stats and "table2" in stats
    # and the unedited library plans nothing
    assert "Nothing to be done" in run_snakemake(tiny_run, "-n", "reports/table2.csv").stdout


def test_writing_out_defaults_reruns_nothing(tiny_run):
    """Schema defaults are filled before params are formed: equal settings give equal params."""
    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    cfg["oversampling"] = {"smote": {"k_neighbors": 5}, "eos": {"k_neighbors": 10, "variant": "paper"}}
    cfg["loss_options"] = {"ldam": {"max_m": 0.5, "s": 30.0}}
    cfg["head_training"].update(batch_size=128, lr=0.1)
    cfg["baselines"] = {"crt": True, "tau_holdout": 0.2}
    write_config(tiny_run, cfg)
    try:
        out = run_snakemake(tiny_run, "-n", "eos_paper").stdout
    finally:
        write_config(tiny_run, TINY)
    assert "Nothing to be done" in out, out[-3000:]


def test_cpu_stages_are_byte_deterministic(tiny_run):
    files = ["data/imbalanced/digits/cut1/train_indices.csv", "data/backbones/digits/cut1/ldam/backbone.pt",
             "data/embeddings/digits/cut1/ldam/train.parquet", "data/oversampled/digits/cut1/ldam/eos-k10.parquet",
             "data/heads/digits/cut1/ldam/eos-k10/head.pt", "data/heads/digits/cut1/ce/tau_norm/head.pt",
             "data/heads/digits/cut1/ce/tau_norm/tau_search.csv"]
    before = {f: sha(tiny_run / f) for f in files}
    run_snakemake(tiny_run, "--cores", "2", "--forcerun", "imbalance_dataset", "--", *files)
    assert {f: sha(tiny_run / f) for f in files} == before


def test_paper_config_plans_full_grid(tmp_path):
    (tmp_path / "config.yaml").write_text((REPO / "configs/paper.yaml").read_text())
    stats = job_stats(run_snakemake(tmp_path, "-n", "reports/table2.csv").stdout)
    assert stats["fetch_dataset"] == 4 and stats["imbalance_dataset"] == 4 * 3
    assert stats["train_backbone"] == 4 * 4 * 3
    assert stats["retrain_head"] == 4 * 4 * 3 * 5 and stats["evaluate_run"] == 48 and stats["table2"] == 1
    assert stats["oversample_embeddings"] == 4 * 4 * 3 * 5 and stats["tau_normalise"] == 48  # + cRT's ros


@pytest.mark.parametrize("mutate, expected", [
    (lambda c: c["datasets"]["digits"].update(source="mnist"), "datasets.digits.source = 'mnist' is not allowed"),
    (lambda c: c["datasets"]["digits"]["imbalance"].update(ratio=0.5), "datasets.digits.imbalance.ratio = 0.5"),
    (lambda c: c.update(losses=["ce", "hinge"]), "losses.1 = 'hinge' is not allowed"),
    (lambda c: c.update(baselines={"tau_holdout": 1.5}), "baselines.tau_holdout = 1.5"),
    (lambda c: c["datasets"].update(mine={"source": "imagefolder", "path": "/no/such/folder",
                                          "imbalance": {"ratio": 10}}), "/no/such/folder"),
])
def test_bad_config_fails_before_any_job(tmp_path, mutate, expected):
    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    mutate(cfg)
    write_config(tmp_path, cfg)
    proc = run_snakemake(tmp_path, "--cores", "1", "reports/table2.csv", check=False)
    assert proc.returncode != 0
    lines = [l for l in (proc.stdout + proc.stderr).splitlines() if "config error:" in l]
    assert len(lines) == 1 and expected in lines[0], proc.stdout + proc.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "logs").exists()


def test_real_cifar10_images_through_folder_loader(tmp_path, cifar_folder):
    """A few hundred real CIFAR-10 PNGs in ImageFolder layout, through the whole pipeline."""
    src = tmp_path / "cifar_small"
    classes = sorted(p.name for p in (cifar_folder / "train").iterdir())
    for split, n in (("train", 30), ("test", 10)):
        for c in classes:
            (src / split / c).mkdir(parents=True)
            for f in sorted((cifar_folder / split / c).iterdir())[:n]:
                (src / split / c / f.name).symlink_to(f)
    cfg = {"cuts": [0], "losses": ["ce"], "samplers": ["smote", "eos"],
           "datasets": {"cifar": {"source": "imagefolder", "path": str(src), "imbalance": {"ratio": 10},
                                  "backbone": "resnet20", "training": {"epochs": 1}}},
           "head_training": {"epochs": 2, "warmup_epochs": 1}}
    wd = tmp_path / "wd"
    wd.mkdir()
    write_config(wd, cfg)
    run_snakemake(wd, "--cores", "2", "reports/table2.csv")
    raw = np.load(wd / "data/raw/cifar/images.npz")
    assert raw["train_x"].shape == (300, 32, 32, 3) and raw["test_x"].shape == (100, 32, 32, 3)
    assert list(raw["class_names"]) == classes
    idx = pd.read_csv(wd / "data/imbalanced/cifar/cut0/train_indices.csv")
    assert idx["label"].value_counts().sort_index().tolist() == class_counts(30, 10, 10, "exp")
    assert idx.groupby("label")["class_name"].first().tolist() == classes
    test = pd.read_parquet(wd / "data/embeddings/cifar/cut0/ce/test.parquet")
    assert test.attrs["class_names"] == classes and len(test) == 100
    t = pd.read_csv(wd / "reports/table2.csv")
    assert len(t) == 1 and t.loc[0, "n_cuts"] == 1
