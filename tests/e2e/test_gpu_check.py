"""benchmarks/make_gpu_data.py and benchmarks/gpu_check.py: the data file, the paper settings, and the whole
check run with --smoke on the CPU (so that the GPU script cannot rot between GPU sessions)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO

BENCH = REPO / "benchmarks"
CIFAR = REPO.parent / "shared" / "data" / "cifar10"
sys.path.insert(0, str(BENCH))

import gpu_check  # noqa: E402
import make_gpu_data  # noqa: E402


def _png_folder(root: Path, classes=("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                                     "ship", "truck"), train=20, test=5) -> Path:
    """A tiny CIFAR-like ImageFolder (random 32 x 32 PNGs with a per-class colour)."""
    from PIL import Image

    rng = np.random.RandomState(0)
    for split, n in (("train", train), ("test", test)):
        for c, name in enumerate(classes):
            d = root / split / name
            d.mkdir(parents=True)
            for i in range(n):
                img = rng.randint(0, 256, (32, 32, 3)).astype(np.uint8)
                img[..., c % 3] = np.clip(img[..., c % 3] // 2 + 25 * c, 0, 255)
                Image.fromarray(img).save(d / f"img_{i:04d}.png")
    return root


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The CIFAR-10 copy of ../shared/data when present (only its first files are read), else a synthetic one."""
    if (CIFAR / "train").is_dir() and (CIFAR / "test").is_dir():
        return CIFAR
    return _png_folder(tmp_path_factory.mktemp("png"))


def test_codec_round_trip_is_exact():
    rng = np.random.RandomState(1)
    x = rng.randint(0, 256, (7, 32, 32, 3)).astype(np.uint8)
    x[0] = 0
    x[1] = 255
    x[2, :, :, 1] = 255
    x[2, :, :, 0] = 0
    coded = make_gpu_data.encode(x)
    assert coded.shape == (3, 7, 32, 32) and coded.dtype == np.uint8
    np.testing.assert_array_equal(make_gpu_data.decode(coded), x)
    smooth = np.broadcast_to(np.arange(32, dtype=np.uint8)[None, :, None, None] * 4, (2, 32, 32, 3)).copy()
    assert np.count_nonzero(make_gpu_data.encode(smooth)) < smooth.size / 20  # what makes it compress
    with pytest.raises(ValueError, match=r"images must be uint8 \(N, H, W, 3\), got float32"):
        make_gpu_data.encode(x.astype(np.float32))


def test_data_file_holds_the_cuts_and_is_deterministic(source, tmp_path):
    from pipeline_lib.core.imbalance import subset_table

    args = ["--src", str(source), "--cuts", "0", "10", "--ratio", "10", "--train-per-class", "20",
            "--test-per-class", "5"]
    make_gpu_data.main(args + ["--out", str(tmp_path / "a.npz")])
    make_gpu_data.main(args + ["--out", str(tmp_path / "b.npz")])
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    pack = make_gpu_data.read_pack(str(tmp_path / "a.npz"))
    classes, files = make_gpu_data.list_split(str(source), "train", 20)
    labels = np.array([lab for _, lab in files])
    assert pack["class_names"] == classes and pack["cuts"] == [0, 10] and float(pack["ratio"]) == 10
    for cut in (0, 10):
        want = subset_table(labels, classes, {"type": "exp", "ratio": 10}, cut)["sample_id"].to_numpy()
        np.testing.assert_array_equal(pack[f"cut_{cut}"], want)
        assert set(want) <= set(pack["train_ids"])
    assert np.array_equal(pack["train_ids"], np.unique(np.r_[pack["cut_0"], pack["cut_10"]]))
    np.testing.assert_array_equal(pack["train_y"], labels[pack["train_ids"]])
    k = 3
    np.testing.assert_array_equal(pack["train_x"][k], make_gpu_data.load_images([files[pack["train_ids"][k]][0]])[0])
    assert pack["test_x"].shape == (50, 32, 32, 3) and pack["test_y"].tolist() == sorted(pack["test_y"].tolist())
    with pytest.raises(SystemExit, match=r"over --max-mb 0.001; allowed: fewer --cuts"):
        make_gpu_data.main(args + ["--out", str(tmp_path / "c.npz"), "--max-mb", "0.001"])
    assert not (tmp_path / "c.npz").exists()


def test_gpu_check_uses_the_paper_settings():
    """gpu_check reads configs/paper.yaml over the schema's defaults without jsonschema (not on a bare GPU
    machine): its settings must equal the validated config's CIFAR-10 run."""
    from pipeline_lib.infra.config import load_schema, training_settings, validate

    cfg = validate(yaml.safe_load((REPO / "configs" / "paper.yaml").read_text()),
                   load_schema(str(REPO / "workflow" / "schemas" / "config.schema.yaml")))
    ds = cfg["datasets"][gpu_check.DATASET]
    training = training_settings(cfg, gpu_check.DATASET)
    assert {k: training[k] for k in gpu_check.PAPER_TRAINING} == gpu_check.PAPER_TRAINING
    assert set(training) - set(gpu_check.PAPER_TRAINING) <= {"device", "cuda_graph"}
    assert {k: v for k, v in cfg["head_training"].items() if k != "loss"} == gpu_check.PAPER_HEAD
    assert cfg["head_training"]["loss"] == gpu_check.HEAD_LOSS
    assert {s: cfg["oversampling"][s] for s in gpu_check.SAMPLERS} == gpu_check.PAPER_OVERSAMPLING
    assert list(gpu_check.SAMPLERS) == list(cfg["samplers"])
    assert ds["normalize"] == gpu_check.PAPER_NORMALIZE and ds["backbone"] == gpu_check.ARCH
    assert ds["imbalance"] == {"type": "exp", "ratio": 100} and cfg["seed"] == gpu_check.SEED
    assert gpu_check.LOSS in cfg["losses"] and cfg["cuts"] == [0, 10, 100]


def test_gpu_check_reads_the_paper_config_without_jsonschema(tmp_path):
    paper = yaml.safe_load((REPO / "configs" / "paper.yaml").read_text())
    paper["head_training"]["lr"] = 0.05
    paper["datasets"]["cifar10"]["training"] = {"epochs": 7}
    del paper["oversampling"]["smote"]
    (tmp_path / "paper.yaml").write_text(yaml.safe_dump(paper))
    edited = gpu_check.paper_settings(tmp_path / "paper.yaml")
    assert edited["head"]["lr"] == 0.05 and edited["training"]["epochs"] == 7
    assert edited["oversampling"]["smote"] == {"k_neighbors": 5}  # the schema's default
    code = ("import sys; sys.modules['jsonschema'] = None; sys.path.insert(0, 'benchmarks'); import gpu_check; "
            "print(gpu_check.ARCH, gpu_check.PAPER_TRAINING['epochs'], 'jsonschema' in sys.modules and "
            "sys.modules['jsonschema'] is not None)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["resnet32", "200", "False"]


def test_paper_table2_file():
    t = pd.read_csv(gpu_check.PAPER_TABLE, comment="#")
    assert list(t.columns) == ["dataset", "loss", "method", "bac", "gm", "fm", "note"]  # note: print irregularities
    assert len(t) == 80 and not t.duplicated(["dataset", "loss", "method"]).any()
    assert set(t["method"]) == set(gpu_check.METHODS) and set(t["loss"]) == {"ce", "asl", "focal", "ldam"}
    assert ((t[["bac", "gm", "fm"]] > 0.5) & (t[["bac", "gm", "fm"]] < 1)).all().all()
    ce = t[(t["dataset"] == "cifar10") & (t["loss"] == "ce")].set_index("method")
    assert ce.loc["baseline", ["bac", "gm", "fm"]].tolist() == [0.7256, 0.8387, 0.7246]
    assert ce.loc["eos", ["bac", "gm", "fm"]].tolist() == [0.7581, 0.8589, 0.7571]


def test_gpu_check_smoke_on_cpu(source, tmp_path):
    data = tmp_path / "tiny.npz"
    make_gpu_data.main(["--src", str(source), "--out", str(data), "--cuts", "0", "10", "--ratio", "10",
                        "--train-per-class", "20", "--test-per-class", "5"])
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore",
           "PIPELINE_GPU_LOCK_DIR": str(tmp_path / "locks")}
    proc = subprocess.run([sys.executable, str(BENCH / "gpu_check.py"), "--smoke", "--device", "cpu",
                           "--data", str(data), "--out", str(out)], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout
    for line in ("bare forward+backward+step:", "training loop:", "loop / bare:", "Table II", "summary:"):
        assert line in text
    assert sorted(p.name for p in out.iterdir()) == ["epochs.csv", "parity.csv", "runs.csv", "stages.csv",
                                                     "table2.csv", "throughput.csv"]
    thr = pd.read_csv(out / "throughput.csv").iloc[0]
    pack = make_gpu_data.read_pack(str(data))
    assert thr["images"] == len(pack["cut_0"]) and thr["batches"] == -(-len(pack["cut_0"]) // 128)
    assert 0 < thr["bare_images_s"] < 1e6 and 0 < thr["loop_images_s"] < 1e6
    assert thr["loop_vs_bare"] == pytest.approx(thr["loop_images_s"] / thr["bare_images_s"])
    parity = pd.read_csv(out / "parity.csv").iloc[0]  # CPU: both eager, identical
    assert parity["update_diff_graph"] == 0 and parity["graph_loss"] == parity["eager_loss"] and parity["ok"]
    runs = pd.read_csv(out / "runs.csv")
    assert runs["cut"].tolist() == [0, 10] and (runs["status"] == "done").all() and (runs["epochs"] == 2).all()
    assert runs["n_train"].tolist() == [len(pack["cut_0"]), len(pack["cut_10"])]
    assert (runs["train_s"] > 0).all() and (runs["train_s"] < runs["total_s"]).all()
    assert np.isfinite(runs["final_train_loss"]).all() and (runs["peak_rss_mib"] > 0).all()
    epochs = pd.read_csv(out / "epochs.csv")
    assert len(epochs) == 4 and np.isfinite(epochs["train_loss"]).all() and (epochs["seconds"] > 0).all()
    stages = pd.read_csv(out / "stages.csv")
    assert len(stages) == 2 * 9 and set(stages["method"].dropna()) == set(gpu_check.SAMPLERS)
    t = pd.read_csv(out / "table2.csv", dtype={"cut": str})
    assert t["cut"].tolist() == ["0"] * 5 + ["10"] * 5 + ["mean"] * 5
    assert t["method"].tolist() == list(gpu_check.METHODS) * 3
    assert ((t[["bac", "gm", "fm"]] >= 0) & (t[["bac", "gm", "fm"]] <= 1)).all().all()
    assert t.loc[0, ["paper_bac", "paper_gm", "paper_fm"]].tolist() == [0.7256, 0.8387, 0.7246]
    assert not t["comparable"].any()  # 20 images a class, ratio 10: not CIFAR-10-LT
    cut_rows = t[t["cut"] != "mean"].groupby("method")["bac"].mean()
    np.testing.assert_allclose(t[t["cut"] == "mean"].set_index("method")["bac"], cut_rows[list(gpu_check.METHODS)])
    np.testing.assert_allclose(t["diff_fm"], t["fm"] - t["paper_fm"])
