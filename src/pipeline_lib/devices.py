"""GPU assignment for jobs that share one workstation.

Snakemake limits how many GPU jobs run at once (``--resources gpu=N``) but does not say which GPU a
job should use (it sets no ``CUDA_VISIBLE_DEVICES``).  :func:`claim_gpu` lets each job take the first
GPU nobody else holds, through an exclusive ``flock`` on ``<lock_dir>/gpu<i>.lock`` that lasts as long
as the process.  Under SLURM (or any scheduler that sets ``CUDA_VISIBLE_DEVICES``) each job sees only
its own GPUs, so the caller (``training.pick_device``) uses the first visible one without a lock.
"""
from __future__ import annotations

import fcntl
import os
import tempfile
import time

_HELD: dict = {}  # GPU index -> open lock file, kept for the life of the process


def default_lock_dir() -> str:
    return os.environ.get("PIPELINE_GPU_LOCK_DIR", os.path.join(tempfile.gettempdir(), "pipeline_lib_gpu_locks"))


def claim_gpu(count: int, lock_dir: str | None = None, wait_s: float = 3600.0, poll_s: float = 2.0,
              log=print) -> int:
    """Index of a GPU (0..count-1) that this process now holds exclusively; waits for one to free up.
    A process that already holds a GPU gets the same one again."""
    if _HELD:
        return next(iter(_HELD))
    if count < 1:
        raise ValueError(f"no GPU to claim (count={count})")
    lock_dir = lock_dir or default_lock_dir()
    os.makedirs(lock_dir, exist_ok=True)
    deadline = time.monotonic() + wait_s
    while True:
        for i in range(count):
            fh = open(os.path.join(lock_dir, f"gpu{i}.lock"), "a+")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()}\n")
            fh.flush()
            _HELD[i] = fh
            return i
        if time.monotonic() > deadline:
            raise TimeoutError(f"all {count} GPUs stayed busy for {wait_s:.0f} s (locks in {lock_dir})")
        log(f"all {count} GPUs busy, waiting")
        time.sleep(poll_s)


def release_all() -> None:
    while _HELD:
        _HELD.popitem()[1].close()
