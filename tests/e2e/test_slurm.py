"""The tiny workflow through a real one-node SLURM (slurmctld + slurmd + munged started here), with the
shipped profile profiles/slurm.  Selected with `pytest -k slurm`; needs root and Debian's slurm-wlm and
munge packages (`.ci/run` installs them and sets REQUIRE_SLURM=1, so CI fails instead of skipping)."""
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import REPO, run_snakemake

pytestmark = pytest.mark.e2e

BINARIES = ("slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo", "munged", "munge")
CONF = Path("/etc/slurm/slurm.conf")  # the jobstep plugin strips SLURM_CONF: the default path is needed
MARKER = "# written by pipeline_lib tests/test_slurm.py"
CONFIG = {
    "cuts": [0], "losses": ["ce"], "samplers": ["smote", "eos"],
    "datasets": {"digits": {"source": "digits", "test_per_class": 20, "imbalance": {"type": "exp", "ratio": 5},
                            "backbone": "resnet20", "training": {"epochs": 2, "crop_padding": 1, "flip": False}}},
    "head_training": {"epochs": 3, "warmup_epochs": 1},
}
# a GPU-less 2-core test node: no GPU request, modest memory, threads the node has
NODE_OVERRIDES = ["--set-resources", "train_backbone:gpu=0", "train_backbone:mem_mb=2000",
                  "export_embeddings:gpu=0", "export_embeddings:mem_mb=2000",
                  "--set-threads", "train_backbone=2", "export_embeddings=2"]
# a cluster without slurmdbd: no accounts, job status from squeue (kept MinJobAge=600 s)
NO_DBD = ["--slurm-no-account", "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2",
          "--latency-wait", "5"]


def _which(name):
    return shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.path.exists(p)), None)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _munge_works():
    try:
        enc = subprocess.run([_which("munge"), "-n"], capture_output=True, timeout=10)
        return enc.returncode == 0 and subprocess.run([_which("unmunge")], input=enc.stdout, capture_output=True,
                                                      timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired, TypeError):
        return False


def _kill_pidfile(path: Path):
    if path.exists():
        try:
            os.kill(int(path.read_text().strip()), 15)
        except (ValueError, ProcessLookupError):
            pass


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    missing = [b for b in BINARIES if not _which(b)]
    if missing:
        if os.environ.get("REQUIRE_SLURM"):
            pytest.fail(f"REQUIRE_SLURM is set but SLURM binaries are missing: {missing}")
        pytest.skip(f"SLURM not installed (missing {', '.join(missing)}): apt-get install slurm-wlm munge")
    if os.geteuid() != 0:
        pytest.skip("starting munged/slurmctld/slurmd for a one-node test cluster needs root")
    if CONF.exists() and MARKER not in CONF.read_text():
        pytest.skip(f"{CONF} belongs to a real SLURM installation; not overwriting it")
    d = tmp_path_factory.mktemp("slurm")
    for sub in ("state", "spool", "log"):
        (d / sub).mkdir()
    mem_mb = int(open("/proc/meminfo").readline().split()[1]) // 1024 - 1024
    CONF.parent.mkdir(parents=True, exist_ok=True)
    CONF.write_text("\n".join([
        MARKER, "ClusterName=pipelinetest", "SlurmctldHost=localhost", "SlurmUser=root", "SlurmdUser=root",
        "AuthType=auth/munge", "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
        "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core_Memory", "SchedulerType=sched/backfill",
        "AccountingStorageType=accounting_storage/none", "JobAcctGatherType=jobacct_gather/none",
        "JobCompType=jobcomp/none", "MpiDefault=none", "ReturnToService=2", "MinJobAge=600",
        f"SlurmctldPort={_free_port()}", f"SlurmdPort={_free_port()}",
        f"StateSaveLocation={d}/state", f"SlurmdSpoolDir={d}/spool",
        f"SlurmctldPidFile={d}/slurmctld.pid", f"SlurmdPidFile={d}/slurmd.pid",
        f"SlurmctldLogFile={d}/log/slurmctld.log", f"SlurmdLogFile={d}/log/slurmd.log",
        f"NodeName=localhost CPUs={os.cpu_count()} RealMemory={mem_mb} State=UNKNOWN",
        "PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP", ""]))
    started_munge = False
    try:
        if not _munge_works():
            Path("/run/munge").mkdir(parents=True, exist_ok=True)
            shutil.chown("/run/munge", "munge", "munge")
            subprocess.run(["runuser", "-u", "munge", "--", _which("munged")], check=True, timeout=30)
            started_munge = True
            for _ in range(20):
                if _munge_works():
                    break
                time.sleep(0.5)
        subprocess.run([_which("slurmctld")], check=True, timeout=60)
        subprocess.run([_which("slurmd")], check=True, timeout=60)
        for _ in range(60):
            state = subprocess.run([_which("sinfo"), "-h", "-o", "%T"], capture_output=True, text=True).stdout
            if "idle" in state:
                break
            time.sleep(1)
        else:
            logs = "".join((d / "log" / f).read_text()[-2000:] for f in ("slurmctld.log", "slurmd.log")
                           if (d / "log" / f).exists())
            raise RuntimeError(f"SLURM node never became idle (sinfo: {state!r})\n{logs}")
        yield d
    finally:
        subprocess.run([_which("scancel"), "--user", "root"], capture_output=True) if _which("scancel") else None
        _kill_pidfile(d / "slurmd.pid")
        _kill_pidfile(d / "slurmctld.pid")
        time.sleep(1)
        if started_munge:
            _kill_pidfile(Path("/run/munge/munged.pid"))
        if CONF.exists() and MARKER in CONF.read_text():
            CONF.unlink()


def _outputs(wd):
    return sorted(p.relative_to(wd) for p in (wd / "data").rglob("*") if p.is_file()) + \
        sorted(p.relative_to(wd) for p in (wd / "reports").rglob("*") if p.is_file())


def test_slurm_profile_runs_jobs_through_sbatch(slurm_cluster, tmp_path):
    wd = tmp_path / "slurm"
    wd.mkdir()
    (wd / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    proc = run_snakemake(wd, "reports/table2.csv", "--workflow-profile", str(REPO / "profiles/slurm"), *NO_DBD,
                         *NODE_OVERRIDES)
    out = proc.stdout + proc.stderr
    submitted = re.findall(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: \S*/rule_(\w+?)/", out)
    rules = sorted(r for _, r in submitted)
    # every compute rule went through sbatch; downloads and cheap aggregation ran locally
    assert rules == sorted(["imbalance_dataset", "train_backbone", "export_embeddings"] + ["oversample_embeddings"] * 3
                           + ["retrain_head"] * 3 + ["tau_normalise", "logit_adjust"]), out[-3000:]  # 2 samplers + cRT's ros
    ctld_log = (slurm_cluster / "log" / "slurmctld.log").read_text()
    for job_id, rule in submitted:
        # the main scheduler logs "Allocate JobId=N", the backfill scheduler "Started JobId=N"
        assert re.search(rf"(Allocate|Started) JobId={job_id}\b", ctld_log), (job_id, rule)
        info = subprocess.run([_which("scontrol"), "show", "job", job_id], capture_output=True, text=True).stdout
        assert "JobState=COMPLETED" in info, info
    # the same config run locally gives the same bytes
    local = tmp_path / "local"
    local.mkdir()
    (local / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    run_snakemake(local, "--cores", "2", "reports/table2.csv")
    files = _outputs(local)
    assert files == _outputs(wd) and Path("reports/table2.csv") in files
    logs = [f for f in files if f.name == "training_log.csv"]  # hold wall-clock seconds per epoch
    different = [str(f) for f in files if f not in logs and (wd / f).read_bytes() != (local / f).read_bytes()]
    assert not different, different
    for f in logs:
        a, b = (pd.read_csv(p / f).drop(columns="seconds", errors="ignore") for p in (wd, local))
        pd.testing.assert_frame_equal(a, b)


def test_slurm_profile_requests(tmp_path):
    """Dry run with the unmodified profile: training asks for a GPU and its memory (that local rules are
    not submitted is checked by the real SLURM run above)."""
    (tmp_path / "config.yaml").write_text((REPO / "configs/paper.yaml").read_text())
    out = run_snakemake(tmp_path, "-n", "--workflow-profile", str(REPO / "profiles/slurm"), "reports/table2.csv").stdout
    blocks = {m.group(1): m.group(0) for m in re.finditer(r"(?:local)?rule (\w+):\n(?:    .*\n)+", out)}
    assert "gpu=1" in blocks["train_backbone"] and "mem_mb=32000" in blocks["train_backbone"]
    assert "runtime=720" in blocks["train_backbone"]
    assert "gpu=1" in blocks["export_embeddings"] and "gpu=" not in blocks["retrain_head"]
