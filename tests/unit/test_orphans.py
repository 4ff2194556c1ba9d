"""A training job whose Snakemake is gone stops at the next epoch boundary, resume checkpoint written
(pipeline_lib.runtime.orphans, called from the backbone and GAN epoch loops)."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from conftest import REPO
from pipeline_lib.sampling import gans
from pipeline_lib.runtime import orphans


@pytest.mark.parametrize("cmdline, expected", [
    (["/x/.venv/bin/python", "/x/.venv/bin/snakemake", "--cores", "2"], True),
    (["snakemake", "-n"], True),
    (["python3", "-m", "snakemake", "--cores", "1"], True),
    (["/bin/sh", "-c", "python /w/.snakemake/scripts/tmpab.train_backbone.py"], False),
    (["python", "/w/.snakemake/scripts/tmpab.train_backbone.py"], False),
    ([], False),
])
def test_what_counts_as_snakemake(cmdline, expected):
    assert orphans._is_snakemake(cmdline) is expected


def dead_process():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    import psutil

    created = psutil.Process(proc.pid).create_time()
    proc.wait()
    return proc.pid, created


@pytest.fixture
def watched(monkeypatch):
    """Make the next stop_if_orphaned look for 'Snakemake' anew, returning what the test sets."""
    parent = {}
    monkeypatch.setattr(orphans, "_WATCHED", {})
    monkeypatch.setattr(orphans, "snakemake_ancestor", lambda: parent.get("value"))
    return parent


def test_stop_only_when_the_watched_process_is_gone(watched):
    lines = []
    orphans.stop_if_orphaned(3, 10, "c.pt", lines.append)  # no Snakemake above: never stops
    import psutil

    me = psutil.Process(os.getppid())
    watched["value"] = (me.pid, me.create_time())
    orphans._WATCHED.clear()
    orphans.stop_if_orphaned(3, 10, "c.pt", lines.append)  # alive
    watched["value"] = dead_process()
    orphans._WATCHED.clear()
    orphans.stop_if_orphaned(10, 10, "c.pt", lines.append)  # the last epoch: let it finish
    assert lines == []
    with pytest.raises(orphans.Orphaned) as exc:
        orphans.stop_if_orphaned(3, 10, "c.pt", lines.append)
    assert lines == [str(exc.value)] and "\n" not in lines[0]
    assert lines[0].startswith(f"stopped after epoch 3/10: the Snakemake process that started this job (pid "
                               f"{watched['value'][0]}) is gone; its resume checkpoint c.pt is written; the next "
                               "run resumes after epoch 3")


def test_gan_loops_stop_after_their_first_epoch(watched):
    from sklearn.datasets import load_digits

    from pipeline_lib.infra.schema_defaults import gan_options

    d = load_digits()
    keep = np.concatenate([np.flatnonzero(d.target == c)[:n] for c, n in enumerate((20, 8, 4))])
    x, y = (d.images[keep] * 255 / 16).round().astype(np.uint8)[..., None], d.target[keep].astype(np.int64)
    watched["value"] = dead_process()
    lines = []
    with pytest.raises(orphans.Orphaned, match=r"stopped after epoch 1/5: .* this loop keeps no resume checkpoint"):
        gans.train_gan("cgan", x, y, num_classes=3, options=gan_options("cgan", epochs=5, batch_size=16, latent_dim=8,
                                                                        width=4), seed=0, log=lines.append)
    assert lines[-1].startswith("stopped after epoch 1/5")


CHILD = textwrap.dedent("""
    import os, sys
    import numpy as np
    from pipeline_lib.core.training import TrainConfig, train_backbone
    open("child.pid", "w").write(str(os.getpid()))
    rng = np.random.RandomState(0)
    x = rng.randint(0, 255, (60, 8, 8, 1)).astype(np.uint8)
    y = np.repeat(np.arange(3), 20)
    cfg = TrainConfig(lr=0.1, momentum=0.9, weight_decay=2e-4, select_on="final", epochs=5000, batch_size=32,
                      crop_padding=1, flip=False, seed=0, device="cpu")
    log = open("train.log", "w", buffering=1)
    train_backbone(x, y, num_classes=3, arch="resnet20", loss="ce", cfg=cfg, mean=[0.5], std=[0.25],
                   checkpoint="resume.pt", log=lambda m: print(m, file=log, flush=True))
""")

# stands for Snakemake: named 'snakemake', it starts the job through a shell, as Snakemake's script: does
PARENT = textwrap.dedent("""
    import subprocess, sys
    subprocess.run(sys.executable + " child.py", shell=True)
""")


def wait_for(predicate, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_kill_9_of_snakemake_stops_the_training_job_at_the_next_epoch(tmp_path):
    import psutil

    (tmp_path / "child.py").write_text(CHILD)
    (tmp_path / "snakemake").write_text(PARENT)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    parent = subprocess.Popen([sys.executable, str(tmp_path / "snakemake")], cwd=tmp_path, env=env)
    log = tmp_path / "train.log"
    try:
        assert wait_for(lambda: log.exists() and "epoch=2 " in log.read_text(), 120), "training did not start"
        child = psutil.Process(int((tmp_path / "child.pid").read_text()))
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert wait_for(lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, 60), \
            "the orphaned job kept running"
    finally:
        for p in psutil.Process(parent.pid).children(recursive=True) if parent.poll() is None else []:
            p.kill()
        parent.kill()
    text = log.read_text()
    stopped = [l for l in text.splitlines() if l.startswith("stopped after epoch")]
    assert len(stopped) == 1, text[-2000:]
    epoch = int(stopped[0].split()[3].split("/")[0])
    assert f"/5000: the Snakemake process that started this job (pid {parent.pid}) is gone; its resume checkpoint " \
           f"resume.pt is written; the next run resumes after epoch {epoch}" in stopped[0]
    state = torch.load(tmp_path / "resume.pt", weights_only=False)
    assert state["epoch"] + 1 == epoch and len(state["history"]) == epoch < 5000
    assert f"epoch={epoch + 1} " not in text  # no epoch started after the stop


def test_live_snakemake_in_a_folder_is_found_before_unlock(tmp_path):
    (tmp_path / "snakemake").write_text("import time\ntime.sleep(60)\n")
    other = tmp_path / "other"
    other.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    here = subprocess.Popen([sys.executable, str(tmp_path / "snakemake"), "--cores", "1"], cwd=tmp_path)
    there = subprocess.Popen([sys.executable, str(tmp_path / "snakemake"), "--directory", str(other)], cwd="/")
    try:
        time.sleep(0.5)
        assert [pid for pid, _ in orphans.live_snakemakes(str(tmp_path))] == [here.pid]
        assert [pid for pid, _ in orphans.live_snakemakes(str(other))] == [there.pid]
        proc = subprocess.run([sys.executable, "-m", "pipeline_lib.runtime.orphans", str(other)], capture_output=True,
                              text=True, env=env)
        assert proc.returncode == 1 and proc.stdout.startswith(f"running: pid {there.pid}: ")
        assert "before --unlock" in proc.stderr
    finally:
        here.kill()
        there.kill()
        here.wait()
        there.wait()
    proc = subprocess.run([sys.executable, "-m", "pipeline_lib.runtime.orphans", str(other)], capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 0 and proc.stdout == "" and "snakemake --unlock is safe" in proc.stderr
