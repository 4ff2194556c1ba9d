import subprocess
import sys

import pytest

from pipeline_lib import devices


@pytest.fixture(autouse=True)
def _fresh():
    devices.release_all()
    yield
    devices.release_all()


HOLD = """
import sys, time
from pipeline_lib.devices import claim_gpu
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
