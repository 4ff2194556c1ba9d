import os
import subprocess
import sys

import pytest

from pipeline_lib.core import devices


@pytest.fixture(autouse=True)
def _fresh():
    devices.release_all()
    yield
    devices.release_all()


HOLD = """
import sys, time
from pipeline_lib.core.devices import claim_gpu
print(claim_gpu({count}, {lock_dir!r}, wait_s=0.5, poll_s=0.1), flush=True)
time.sleep({sleep})
"""


def _spawn(count, lock_dir, sleep=30):
    p = subprocess.Popen([sys.executable, "-c", HOLD.format(count=count, lock_dir=str(lock_dir), sleep=sleep)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    return p, line


def test_parallel_jobs_get_distinct_gpus(tmp_path):
    a, ia = _spawn(3, tmp_path)
    b, ib = _spawn(3, tmp_path)
    try:
        assert {ia, ib} == {"0", "1"}
        assert devices.claim_gpu(3, str(tmp_path), wait_s=0.5) == 2
        assert devices.claim_gpu(3, str(tmp_path), wait_s=0.5) == 2  # same process: same GPU
    finally:
        a.kill(), b.kill()
        a.wait(), b.wait()


def test_no_free_gpu_times_out_and_lock_is_freed_when_holder_exits(tmp_path):
    a, ia = _spawn(1, tmp_path, sleep=1)
    try:
        assert ia == "0"
        c, ic = _spawn(1, tmp_path, sleep=0)
        c.wait()
        assert ic == "all 1 GPUs busy, waiting" and "TimeoutError" in c.stderr.read()
    finally:
        a.wait()
    assert devices.claim_gpu(1, str(tmp_path), wait_s=0.5) == 0  # freed when the holder exited


def test_zero_gpus_rejected(tmp_path):
    with pytest.raises(ValueError, match="count=0"):
        devices.claim_gpu(0, str(tmp_path))


HOLD_SLOTS = """
import sys, time
from pipeline_lib.core.devices import claim_gpu
print(claim_gpu({count}, {lock_dir!r}, wait_s=0.5, poll_s=0.1), flush=True)
time.sleep(30)
"""


def _spawn_env(count, lock_dir, env_jobs):
    env = {**os.environ, "PIPELINE_JOBS_PER_GPU": str(env_jobs)}
    p = subprocess.Popen([sys.executable, "-c", HOLD_SLOTS.format(count=count, lock_dir=str(lock_dir))],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return p, p.stdout.readline().strip()


def test_jobs_per_gpu_slots_spread_over_gpus_then_share(tmp_path):
    # 2 GPUs x 2 jobs each (from the environment, as under the local-gpus profile): the first two jobs get
    # different GPUs, the next two double up, a fifth finds every slot taken
    procs = [_spawn_env(2, tmp_path, 2) for _ in range(4)]
    try:
        got = [line for _, line in procs]
        assert sorted(got[:2]) == ["0", "1"] and sorted(got[2:]) == ["0", "1"]
        names = sorted(p.name for p in tmp_path.iterdir())
        assert names == ["gpu0.lock", "gpu0.slot1.lock", "gpu1.lock", "gpu1.slot1.lock"]
        with pytest.raises(TimeoutError, match=r"all 2 GPUs x 2 jobs stayed busy"):
            devices.claim_gpu(2, str(tmp_path), wait_s=0.2, poll_s=0.1, log=lambda *_: None, jobs_per_gpu=2)
    finally:
        for p, _ in procs:
            p.kill()
            p.wait()
    assert devices.claim_gpu(2, str(tmp_path), wait_s=0.5, jobs_per_gpu=2) == 0  # all freed with their holders


def test_jobs_per_gpu_three_share_one_gpu(tmp_path):
    procs = [_spawn_env(1, tmp_path, 3) for _ in range(3)]
    try:
        assert [line for _, line in procs] == ["0", "0", "0"]
        c, ic = _spawn_env(1, tmp_path, 3)
        c.wait()
        assert ic == "all 1 GPUs x 3 jobs busy, waiting" and "TimeoutError" in c.stderr.read()
    finally:
        for p, _ in procs:
            p.kill()
            p.wait()


@pytest.mark.parametrize("value", [0, -1, "two", "1.5", 2.0, True])
def test_bad_jobs_per_gpu_rejected(tmp_path, value, monkeypatch):
    with pytest.raises(ValueError, match=r"jobs_per_gpu=.* is not allowed; allowed: an integer >= 1"):
        devices.claim_gpu(1, str(tmp_path), jobs_per_gpu=value)
    monkeypatch.setenv("PIPELINE_JOBS_PER_GPU", str(value))
    with pytest.raises(ValueError, match=r"PIPELINE_JOBS_PER_GPU=.* is not allowed"):
        devices.claim_gpu(1, str(tmp_path))
