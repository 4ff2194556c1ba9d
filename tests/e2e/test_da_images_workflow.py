"""End-to-end runs of the image study of "How Data Augmentation Works" (target da_images) on tiny configs:
digits through the EOS pipeline's runs, a five-class step subset of real CIFAR-10 images with a separate test
pool, and the same models imported from checkpoint files in the authors' (LDAM-DRW) layout."""
import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from conftest import run_snakemake
from test_workflow import job_stats, sha, write_config
from pipeline_lib.core import checkpoints, models

pytestmark = pytest.mark.e2e

TINY = {
    "seed": 0,
    "cuts": [0, 1],
    "losses": ["ce"],
    "samplers": ["eos"],
    "datasets": {"digits": {"source": "digits", "test_per_class": 20, "imbalance": {"type": "exp", "ratio": 5},
                            "backbone": "resnet20", "training": {"epochs": 2, "crop_padding": 1, "flip": False}}},
    "head_training": {"epochs": 3, "warmup_epochs": 1},
}
MODELS = ["Balanced", "Base", "DSM", "EOS", "LDAM", "REMIX", "ROS"]
REPORTS = ["table2.csv", "table2.md", "table5.csv", "table5.md", "table8.csv", "table8.md", "fig10.png", "fig10.csv",
           "table11.csv", "table11.md"]


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    wd = tmp_path_factory.mktemp("da_digits")
    write_config(wd, TINY)
    plan = job_stats(run_snakemake(wd, "-n", "da_images").stdout)
    run_snakemake(wd, "--cores", "2", "da_images")
    return wd, plan


def test_every_model_is_trained_once_and_reused(digits_run):
    wd, plan = digits_run
    # Base, DSM, EOS are the EOS pipeline's ce runs; LDAM its ldam backbone (added though not in `losses`)
    assert plan["train_backbone"] == 2 * 2 and plan["train_balanced_backbone"] == 2
    assert plan["train_pixel_backbone"] == 2 * 2 and plan["oversample_pixels"] == 2  # ros + remix; ros resampled
    assert plan["retrain_head"] == 2 * 2  # smote (DSM) and eos heads on the ce embeddings
    assert plan["saliency_top_pixels"] == 2 * 6
    # the EOS paper's Table II afterwards trains no network again (only its own heads: cRT, tau-norm)
    later = job_stats(run_snakemake(wd, "-n", "reports/table2.csv").stdout)
    assert not {"train_backbone", "export_embeddings", "train_pixel_backbone", "train_balanced_backbone"} & set(later)
    assert set(later) <= {"oversample_embeddings", "retrain_head", "tau_normalise", "logit_adjust", "evaluate_run",
                          "table2"}, later
    assert "Nothing to be done" in run_snakemake(wd, "-n", "da_images").stdout


def test_reports_are_built_from_the_runs(digits_run):
    wd, _ = digits_run
    for name in REPORTS:
        assert (wd / "reports/da" / name).stat().st_size > 0, name
    t2 = pd.read_csv(wd / "reports/da/table2.csv")
    assert len(t2) == 1
    idx = pd.read_csv(wd / "data/imbalanced/digits/cut0/train_indices.csv")["label"].value_counts()
    assert idx.max() / idx.min() == pytest.approx(t2.filter(like="imbal").select_dtypes("number").iloc[0, 0], rel=0.01)
    t5 = pd.read_csv(wd / "reports/da/table5.csv")
    assert sorted(t5["model"].unique()) == sorted(MODELS) or sorted(t5["model"].str.lower().unique()) == sorted(
        m.lower() for m in MODELS)
    assert t5["mean"].between(0, 1).all() and (t5["n_cuts"] == 2).all()
    t8 = pd.read_csv(wd / "reports/da/table8.csv")
    assert set(t8["measure"]) == {"paper", "guarded"} and len(t8["method"].unique()) == 4
    f10 = pd.read_csv(wd / "reports/da/fig10.csv")
    assert set(f10["group"]) == {"majority", "minority"} and (f10["norm"] > 0).all()
    t11 = pd.read_csv(wd / "reports/da/table11.csv")
    assert t11["mean"].between(0, 1).all() and len(t11["method"].unique()) == 5


def test_models_setting_leaves_models_out(digits_run, tmp_path):
    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    cfg["da_images"] = {"models": ["base", "eos"]}
    write_config(tmp_path, cfg)
    plan = job_stats(run_snakemake(tmp_path, "-n", "da_images").stdout)
    assert "train_pixel_backbone" not in plan and "train_balanced_backbone" not in plan
    assert plan["train_backbone"] == 2 and plan["retrain_head"] == 2 and plan["saliency_top_pixels"] == 2 * 2



def test_every_network_has_one_latents_job(tmp_path):
    """snakemake latents: one latents job per network of the workflow (backbones incl. Table V's, heads,
    pixel-space, GAN-balanced and Balanced backbones), none for a network twice."""
    write_config(tmp_path, TINY)
    plan = job_stats(run_snakemake(tmp_path, "-n", "latents").stdout)
    assert plan["latents_from_embeddings"] == plan["train_backbone"] + plan["retrain_head"] + plan["tau_normalise"]
    assert plan["latents_from_network"] == (plan["train_pixel_backbone"] + plan["train_gan_backbone"]
                                            + plan["train_balanced_backbone"])


def test_magnitude_and_fragility_analyses_reuse_the_models(digits_run):
    wd, _ = digits_run
    plan = job_stats(run_snakemake(wd, "-n", "magnitude_images", "fragility").stdout)
    assert set(plan) == {"magnitude_fig1_cnn_ce_needed", "magnitude_fig5_minority_magnitudes",
                         "magnitude_table_topk_ce_share", "fragility_top_features", "fragility_magnitude_match",
                         "fragility_diversity", "magnitude_images", "fragility", "latents_from_embeddings",
                         "latents_from_network"}, plan  # nothing trained again
    # each network's latents once: Base, DSM, EOS from Base's one extraction, ROS, REMIX, Balanced a forward pass
    assert plan["latents_from_embeddings"] == 3 * 2 and plan["latents_from_network"] == 3 * 2
    run_snakemake(wd, "--cores", "2", "magnitude_images", "fragility")
    for folder in ("backbones/digits/cut0/ce", "heads/digits/cut0/ce/eos-k10", "balanced_backbones/digits/cut0"):
        test = pd.read_parquet(wd / "data/latents" / folder / "test.parquet")
        assert test.attrs["model"] == folder and test.attrs["class_names"] and "logit9" in test
    base = pd.read_parquet(wd / "data/latents/backbones/digits/cut0/ce/train.parquet")
    emb = pd.read_parquet(wd / "data/embeddings/digits/cut0/ce/train.parquet")
    assert base.filter(like="f").equals(emb.filter(like="f")) and (base["pred"] == emb["pred"]).all()
    # the analyses load no network (no torch import) and run on one thread
    log = (wd / "logs/fragility_diversity/diversity.log").read_text()
    assert "threads 1:" in log and "torch_intra_op" not in log
    fig1 = pd.read_csv(wd / "reports/magnitude/fig1.csv")
    assert set(fig1["model"]) == {"Base", "ROS", "REMIX", "DSM", "EOS"}
    assert fig1["pct"].dropna().between(0, 100).all() and fig1["pct"].notna().any()
    fig5 = pd.read_csv(wd / "reports/magnitude/fig5.csv")
    assert len(fig5) > 0 and (wd / "reports/magnitude/fig5.png").stat().st_size > 0
    topk = pd.read_csv(wd / "reports/magnitude/table_topk.csv")
    assert len(topk) > 0
    for name in ("top_features.csv", "top_features.md", "magnitude_match.csv", "magnitude_match.png",
                 "magnitude_match.md", "diversity.csv", "diversity.md"):
        assert (wd / "reports/fragility" / name).stat().st_size > 0, name
    div = pd.read_csv(wd / "reports/fragility/diversity.csv")
    assert len(div) > 0


# --- a five-class step subset of real CIFAR-10 images, then the same models imported from checkpoints ------

CLASSES5 = ["ship", "truck", "airplane", "cat", "deer"]  # listed order = label order: ship, truck the majority


@pytest.fixture(scope="module")
def cifar5_run(tmp_path_factory, cifar_folder):
    root = tmp_path_factory.mktemp("cifar5")
    src = root / "images"
    for split, n in (("train", 40), ("test", 20)):
        for c in sorted(p.name for p in (cifar_folder / "train").iterdir()):
            (src / split / c).mkdir(parents=True)
            for f in sorted((cifar_folder / split / c).iterdir())[:n]:
                (src / split / c / f.name).symlink_to(f)
    cfg = {"cuts": [0, 1], "losses": ["ce"], "samplers": ["eos"],
           "datasets": {"cifar5": {"title": "CIFAR-5 step", "source": "imagefolder", "path": str(src),
                                   "classes": CLASSES5, "imbalance": {"type": "step", "ratio": 5, "n_max": 30},
                                   "test_draw": 10, "backbone": "resnet20", "training": {"epochs": 1}}},
           "head_training": {"epochs": 2, "warmup_epochs": 1}}
    wd = root / "wd"
    wd.mkdir()
    write_config(wd, cfg)
    run_snakemake(wd, "--cores", "2", "da_images")
    return wd, cfg


def test_step_subset_with_per_cut_test_draws(cifar5_run):
    wd, _ = cifar5_run
    raw = np.load(wd / "data/raw/cifar5/images.npz")
    assert list(raw["class_names"]) == CLASSES5 and raw["train_x"].shape == (200, 32, 32, 3)
    tests = []
    for cut in (0, 1):
        train = pd.read_csv(wd / f"data/imbalanced/cifar5/cut{cut}/train_indices.csv")
        assert train["label"].value_counts().sort_index().tolist() == [30, 30, 6, 6, 6]
        test = pd.read_csv(wd / f"data/imbalanced/cifar5/cut{cut}/test_indices.csv")
        assert test["label"].value_counts().sort_index().tolist() == [10] * 5
        assert test.groupby("label")["class_name"].first().tolist() == CLASSES5
        tests.append(set(test["sample_id"]))
        pred = pd.read_parquet(wd / f"data/pixel_backbones/cifar5/cut{cut}/ros/test_predictions.parquet")
        assert set(pred["sample_id"]) == tests[-1]  # every model is tested on its cut's draw
        emb = pd.read_parquet(wd / f"data/embeddings/cifar5/cut{cut}/ce/test.parquet")
        assert set(emb["sample_id"]) == tests[-1]
        balanced = pd.read_csv(wd / f"data/balanced/cifar5/cut{cut}/train_indices.csv")
        assert balanced["label"].value_counts().sort_index().tolist() == [30] * 5
    assert tests[0] != tests[1]  # a different test draw per cut
    t2 = (wd / "reports/da/table2.md").read_text()
    assert "| CIFAR-5 step | 5 | Step | 5:1 | 30 | 6 | 10 | 10 |" in t2, t2


def _ldam_layout(state_dict, path):
    """A network saved as the authors publish theirs: LDAM-DRW keys, DataParallel prefix, a checkpoint dict."""
    sd = {"module." + k: v for k, v in checkpoints.to_ldam_layout(state_dict).items()}
    torch.save({"epoch": 1, "arch": "resnet20", "state_dict": sd, "best_acc1": 0.5}, path)
    return str(path)


def test_models_imported_from_checkpoints_replace_training(cifar5_run, tmp_path):
    wd, cfg = cifar5_run
    run = "cifar5/cut0"
    base = torch.load(wd / f"data/backbones/{run}/ce/backbone.pt", weights_only=False)["state_dict"]
    files = {"base": base, "ldam": torch.load(wd / f"data/backbones/{run}/ldam/backbone.pt", weights_only=False)["state_dict"],
             "balanced": torch.load(wd / f"data/balanced_backbones/{run}/backbone.pt", weights_only=False)["state_dict"]}
    for m in ("ros", "remix"):
        files[m] = torch.load(wd / f"data/pixel_backbones/{run}/{m}/backbone.pt", weights_only=False)["state_dict"]
    for m, sampler in (("dsm", "smote"), ("eos", "eos-k10")):  # whole networks: the Base extractor + their head
        head = torch.load(wd / f"data/heads/{run}/ce/{sampler}/head.pt", weights_only=False)["state_dict"]
        files[m] = {**base, **{f"head.{k}": v for k, v in head.items()}}
    cfg2 = yaml.safe_load(yaml.safe_dump(cfg))
    cfg2["cuts"] = [0]
    cfg2["datasets"]["cifar5"]["checkpoints"] = {m: {0: _ldam_layout(sd, tmp_path / f"{m}.pth")} for m, sd in files.items()}
    wd2 = tmp_path / "wd"
    wd2.mkdir()
    write_config(wd2, cfg2)
    plan = job_stats(run_snakemake(wd2, "-n", "da_images").stdout)
    assert not {"train_backbone", "train_pixel_backbone", "train_balanced_backbone", "retrain_head"} & set(plan), plan
    assert plan["import_backbone"] == 2 and plan["import_pixel_backbone"] == 2
    assert plan["import_balanced_backbone"] == 1 and plan["import_head"] == 2
    run_snakemake(wd2, "--cores", "2", "da_images")
    for f in ("pixel_backbones/cifar5/cut0/ros/test_predictions.parquet", "balanced_backbones/cifar5/cut0/test_predictions.parquet",
              "heads/cifar5/cut0/ce/eos-k10/test_predictions.parquet", "embeddings/cifar5/cut0/ce/test.parquet",
              "da_images/saliency/cifar5/cut0/dsm.npz"):
        a, b = wd / "data" / f, wd2 / "data" / f
        if f.endswith(".npz"):
            assert np.array_equal(np.load(a)["top"], np.load(b)["top"]), f
        else:
            assert pd.read_parquet(a)["pred"].tolist() == pd.read_parquet(b)["pred"].tolist(), f
    # a bad file stops the plan with one line naming it, before any job
    bad = models.build_model("resnet20", 10)
    cfg2["datasets"]["cifar5"]["checkpoints"] = {"base": {0: _ldam_layout(bad.state_dict(), tmp_path / "bad.pth")}}
    wd3 = tmp_path / "wd3"
    wd3.mkdir()
    write_config(wd3, cfg2)
    proc = run_snakemake(wd3, "--cores", "1", "da_images", check=False)
    lines = [l for l in (proc.stdout + proc.stderr).splitlines() if "config error:" in l]
    assert proc.returncode != 0 and len(lines) == 1, proc.stdout + proc.stderr
    assert "bad.pth" in lines[0] and "linear.weight" in lines[0] and "(10, 64)" in lines[0], lines[0]
    assert not (wd3 / "data").exists()
