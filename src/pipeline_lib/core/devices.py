"""GPU assignment for jobs that share one workstation.

Snakemake limits how many GPU jobs run at once (``--resources gpu=N``) but does not say which GPU a
job should use (it sets no ``CUDA_VISIBLE_DEVICES``).  :func:`claim_gpu` lets each job take a free
*slot* of a GPU, through an exclusive ``flock`` on ``<lock_dir>/gpu<i>.lock`` (slot 0) or
``gpu<i>.slot<j>.lock`` (slot j) that lasts as long as the process.  A GPU has ``jobs_per_gpu`` slots
(argument, else the environment variable ``PIPELINE_JOBS_PER_GPU``, else 1): a small CIFAR ResNet uses
a fraction of a large GPU, so several trainings can share one.  Slots are filled breadth-first (slot 0
of every GPU, then slot 1 of every GPU, ...), so jobs spread over the GPUs before they double up.  With
G GPUs and J jobs per GPU, give Snakemake ``--resources gpu=G*J`` (profiles/local-gpus).

Under SLURM (or any scheduler that sets ``CUDA_VISIBLE_DEVICES``) each job sees only its own GPUs, so
the caller (:func:`pick_device`) uses the first visible one without a lock.
"""
from __future__ import annotations

import fcntl
import os
import tempfile
import time

import numpy as np

JOBS_PER_GPU_ENV = "PIPELINE_JOBS_PER_GPU"
_HELD: dict = {}  # (GPU index, slot) -> open lock file, kept for the life of the process


def default_lock_dir() -> str:
    return os.environ.get("PIPELINE_GPU_LOCK_DIR", os.path.join(tempfile.gettempdir(), "pipeline_lib_gpu_locks"))


def resolve_jobs_per_gpu(value: int | str | None = None) -> int:
    """Jobs that may share one GPU: ``value``, else ``$PIPELINE_JOBS_PER_GPU``, else 1."""
    where = "jobs_per_gpu"
    if value is None:
        value, where = os.environ.get(JOBS_PER_GPU_ENV, "1"), JOBS_PER_GPU_ENV
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if isinstance(value, bool) or n < 1 or str(n) != str(value).strip():
        raise ValueError(f"{where}={value!r} is not allowed; allowed: an integer >= 1")
    return n


def _lock_name(gpu: int, slot: int) -> str:
    return f"gpu{gpu}.lock" if slot == 0 else f"gpu{gpu}.slot{slot}.lock"


def claim_gpu(count: int, lock_dir: str | None = None, wait_s: float = 3600.0, poll_s: float = 2.0,
              log=print, jobs_per_gpu: int | None = None) -> int:
    """Index of a GPU (0..count-1) of which this process now holds one of ``jobs_per_gpu`` slots
    (see the module doc); waits for a slot to free up.  A process that already holds a slot gets the
    same GPU again."""
    if _HELD:
        return next(iter(_HELD))[0]
    if count < 1:
        raise ValueError(f"no GPU to claim (count={count})")
    per_gpu = resolve_jobs_per_gpu(jobs_per_gpu)
    lock_dir = lock_dir or default_lock_dir()
    os.makedirs(lock_dir, exist_ok=True)
    deadline = time.monotonic() + wait_s
    what = f"{count} GPUs" if per_gpu == 1 else f"{count} GPUs x {per_gpu} jobs"
    while True:
        for slot in range(per_gpu):
            for i in range(count):
                fh = open(os.path.join(lock_dir, _lock_name(i, slot)), "a+")
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    fh.close()
                    continue
                fh.seek(0)
                fh.truncate()
                fh.write(f"{os.getpid()}\n")
                fh.flush()
                _HELD[(i, slot)] = fh
                return i
        if time.monotonic() > deadline:
            raise TimeoutError(f"all {what} stayed busy for {wait_s:.0f} s (locks in {lock_dir})")
        log(f"all {what} busy, waiting")
        time.sleep(poll_s)


def release_all() -> None:
    while _HELD:
        _HELD.popitem()[1].close()


def pick_device(name: str = "auto") -> torch.device:
    """``auto``: a GPU if one is visible, else the CPU.  With several visible GPUs each process claims
    its own (see :func:`claim_gpu`), so parallel jobs on one workstation do not share one."""
    import torch

    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch.cuda.is_available() is False")
    # a SLURM job sees only the GPUs allotted to it; elsewhere jobs claim a GPU index each
    index = 0 if os.environ.get("SLURM_JOB_ID") else claim_gpu(torch.cuda.device_count())
    torch.cuda.set_device(index)
    return torch.device("cuda", index)


def to_tensor(images_u8: np.ndarray, mean, std, device) -> torch.Tensor:
    """uint8 (N, H, W, C) -> normalised float32 (N, C, H, W) on ``device``."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(images_u8)).to(device)
    x = x.permute(0, 3, 1, 2).float().div_(255.0)
    m = torch.as_tensor(np.asarray(mean, np.float32), device=device).view(1, -1, 1, 1)
    s = torch.as_tensor(np.asarray(std, np.float32), device=device).view(1, -1, 1, 1)
    return ((x - m) / s).contiguous()
