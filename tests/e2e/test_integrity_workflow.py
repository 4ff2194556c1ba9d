"""A damaged intermediate in a real run: the failing consumer names it, `python -m pipeline_lib.infra.integrity`
(make verify) lists it, and the printed rebuild command, run as printed, repairs it."""
import os
import re
import subprocess
import sys

import pytest
import yaml

from conftest import REPO, run_snakemake

pytestmark = pytest.mark.e2e

CONFIG = {"seed": 0, "cuts": [0], "losses": ["ce"], "samplers": ["smote"],
          "datasets": {"digits": {"source": "digits", "test_per_class": 20, "imbalance": {"type": "exp", "ratio": 5},
                                  "backbone": "resnet20", "training": {"epochs": 1, "crop_padding": 1, "flip": False}}},
          "head_training": {"epochs": 2, "warmup_epochs": 1}}
HEAD = "data/heads/digits/cut0/ce/smote/head.pt"
TRAIN = "data/embeddings/digits/cut0/ce/train.parquet"
ENV = {"PYTHONPATH": str(REPO / "src")}


def verify(wd):
    proc = subprocess.run([sys.executable, "-m", "pipeline_lib.infra.integrity"], cwd=wd, capture_output=True, text=True,
                          env={**os.environ, **ENV})
    return proc.returncode, proc.stdout.splitlines()


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 3])


def run_printed(line, elsewhere):
    """The command after 'rebuild it with: ', run by a shell in another folder, exactly as printed."""
    cmd = line.split("rebuild it with: ", 1)[1]
    proc = subprocess.run(cmd, shell=True, cwd=elsewhere, capture_output=True, text=True,
                          env={**os.environ, **ENV, "PYTHONHASHSEED": "0"})
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_damaged_files_are_named_listed_and_rebuilt(tmp_path):
    wd = tmp_path / "run"
    wd.mkdir()
    (wd / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    run_snakemake(wd, "--cores", "2", HEAD, env=ENV)
    assert verify(wd) == (0, [])
    before = (wd / TRAIN).read_bytes()

    # a truncated Parquet: the consumer's failure names it, its rule and the rebuild command
    truncate(wd / TRAIN)
    os.remove(wd / "data/oversampled/digits/cut0/ce/smote.parquet")
    proc = run_snakemake(wd, "--cores", "1", HEAD, check=False, env=ENV)
    assert proc.returncode != 0
    named = [l for l in proc.stderr.splitlines() if l.startswith("[oversample_embeddings") and "is damaged" in l]
    assert len(named) == 1 and f"error: {TRAIN} is damaged (" in named[0]
    assert "written by rule export_embeddings; rebuild it with: " in named[0] and named[0].endswith(f"--force {TRAIN}")
    rc, listed = verify(wd)
    same_exe = lambda l: re.sub(r"with: \S+ --cores", "with: snakemake --cores", l)  # noqa: E731 - venv link or not
    assert rc == 1 and [same_exe(l) for l in listed] == [same_exe(named[0].split("error: ", 1)[1])]
    run_printed(listed[0], tmp_path)
    assert verify(wd) == (0, []) and (wd / TRAIN).read_bytes() == before
    run_snakemake(wd, "--cores", "1", HEAD, env=ENV)  # the consumer runs again

    # a truncated head: Snakemake sees nothing to do, verify finds it
    truncate(wd / HEAD)
    assert "Nothing to be done" in run_snakemake(wd, "--cores", "1", HEAD, env=ENV).stderr
    rc, listed = verify(wd)
    assert rc == 1 and len(listed) == 1 and listed[0].startswith(f"{HEAD} is damaged (")
    assert "written by rule retrain_head; rebuild it with: " in listed[0]
    run_printed(listed[0], tmp_path)
    assert verify(wd) == (0, [])
