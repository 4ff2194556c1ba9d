"""A job's heap: memory a batch frees is kept for the next batch instead of going back to the kernel.

glibc's malloc hands freed memory at the top of its heap back to the kernel once more than
``M_TRIM_THRESHOLD`` is free there, and serves blocks above ``M_MMAP_THRESHOLD`` with a mapping of their
own; both thresholds start at 128 KiB and only grow as the process frees large blocks.  A network's forward
or backward pass allocates and frees the same few-MiB activations every batch, so batch after batch the
kernel maps fresh pages and zero-fills them: one latents job (the ROS pixel backbone on cut 0's 12,406
CIFAR-10 images, batches of 64, 2 threads) took 1.2-4.1 M minor page faults and 2-7 s of kernel time beside
15 s of user time, run to run.

:func:`keep_freed_memory` fixes ``M_MMAP_THRESHOLD`` at 64 MiB and ``M_TRIM_THRESHOLD`` at 256 MiB
(``mallopt``): the same job then takes 0.25 M faults and 0.5 s of kernel time and its forward pass a third
less wall time.  A process keeps at most 256 MiB it has freed, and never more than its own peak.  Where
memory comes from does not enter PyTorch's arithmetic (its buffers are 64-byte aligned either way); the
outputs were checked byte-identical with and without it (the CIFAR-10 study of the authors' networks, the
tabular study, the demo, fp32 and bf16 trainings; docs/latents.md).
``benchmarks/bench_extract_batch.py --malloc both`` and ``benchmarks/bench_backbone.py --malloc`` measure it.

It acts only where it can and should: on glibc (elsewhere there is no ``mallopt``; macOS and musl manage
their heaps otherwise), and not where the user tuned malloc through the environment
(``GLIBC_TUNABLES`` naming ``glibc.malloc``, ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_MMAP_THRESHOLD_``).
"""
from __future__ import annotations

import os

MMAP_THRESHOLD = 64 << 20  # blocks up to 64 MiB from the heap (a batch of 1024 CIFAR images' first activations)
TRIM_THRESHOLD = 256 << 20  # hand memory back to the kernel only when 256 MiB at the heap's top is free
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # <malloc.h>
_STATE = {"set": None}


def glibc_version() -> str | None:
    """'2.36' on glibc, None elsewhere."""
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").split()[-1]
    except (AttributeError, ValueError, OSError, IndexError):
        return None


def user_tuned(environ=os.environ) -> str | None:
    """The environment variable through which the user already tuned glibc's malloc, if any."""
    if "glibc.malloc" in environ.get("GLIBC_TUNABLES", ""):
        return "GLIBC_TUNABLES"
    for var in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"):
        if var in environ:
            return var
    return None


def keep_freed_memory() -> bool:
    """Set both thresholds in this process (once; later calls return the first answer).  True when set;
    False on a libc other than glibc, where the user tuned malloc, or if glibc refused a value."""
    if _STATE["set"] is None:
        _STATE["set"] = False
        if glibc_version() and not user_tuned():
            import ctypes

            libc = ctypes.CDLL(None)
            # mallopt returns 1 on success; setting either threshold also stops glibc's own adjustment
            _STATE["set"] = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                                 and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _STATE["set"]


def settings() -> dict:
    """What this process's heap runs with, for the job's log."""
    if _STATE["set"]:
        return {"malloc": "glibc", "mmap_threshold_mib": MMAP_THRESHOLD >> 20,
                "trim_threshold_mib": TRIM_THRESHOLD >> 20}
    why = "not set" if _STATE["set"] is None else (user_tuned() or ("refused" if glibc_version() else "not glibc"))
    return {"malloc": f"default ({why})"}
