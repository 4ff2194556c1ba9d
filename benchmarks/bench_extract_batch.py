"""Kernel time of a forward pass by batch size and heap setting: user / sys CPU seconds, wall seconds and
minor page faults of ``core.embeddings.extract`` on a ResNet-32 and random CIFAR-sized images, batch sizes
1024, 256, 128, 64, and whether the features are bitwise identical to those of the first run.

    python benchmarks/bench_extract_batch.py [--images 2048] [--threads 1] [--malloc default|keep|both]

Why: batches of 1024 CIFAR images allocate activations of 64 MiB, above glibc's largest mmap threshold
(32 MiB), so every batch maps and unmaps fresh memory (page faults, kernel time); at 64 images a batch the
activations come from the heap, but glibc still hands freed memory back to the kernel at the heap's top and
faults it in again next batch.  ``--malloc keep`` runs with ``runtime.memory.keep_freed_memory`` (what every
Snakemake job does), ``both`` runs each setting in a process of its own and compares their features; see
docs/latents.md.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def measure(a, save=None) -> None:
    import torch

    torch.set_num_threads(a.threads)
    from pipeline_lib.core import embeddings as emb
    from pipeline_lib.core.models import build_model
    from pipeline_lib.runtime import memory

    if a.malloc == "keep":
        memory.keep_freed_memory()
    torch.manual_seed(0)
    model = build_model("resnet32", 10).eval()
    x = torch.randn(a.images, 3, 32, 32)
    ref, out = None, {}
    for b in a.batches:
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        f = emb.extract(model, x, batch_size=b)
        f = np.asarray(f[0] if isinstance(f, tuple) else f)
        wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
        same = "reference" if ref is None else ("bitwise identical" if np.array_equal(ref, f) else
                                                f"differs (max {np.abs(ref - f).max():.2e})")
        ref = f if ref is None else ref
        out[f"b{b}"] = f
        print(f"malloc {a.malloc:7s} batch {b:5d}: wall {wall:6.1f} s  user {r1.ru_utime - r0.ru_utime:6.1f} s  "
              f"sys {r1.ru_stime - r0.ru_stime:6.1f} s  minor faults {r1.ru_minflt - r0.ru_minflt:9d}  "
              f"features {same}", flush=True)
    if save:
        np.savez(save, **out)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batches", type=int, nargs="+", default=[1024, 256, 128, 64])
    ap.add_argument("--malloc", choices=["default", "keep", "both"], default="default",
                    help="glibc's default heap, runtime.memory.keep_freed_memory, or each in its own process")
    ap.add_argument("--save", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.malloc != "both":
        return measure(a, a.save)
    with tempfile.TemporaryDirectory() as tmp:
        for setting in ("default", "keep"):
            args = [sys.executable, __file__, "--images", str(a.images), "--threads", str(a.threads),
                    "--malloc", setting, "--save", os.path.join(tmp, setting + ".npz"), "--batches",
                    *map(str, a.batches)]
            subprocess.run(args, check=True)
        d, k = np.load(os.path.join(tmp, "default.npz")), np.load(os.path.join(tmp, "keep.npz"))
        same = all(np.array_equal(d[n], k[n]) for n in d.files)
        print("features with both heap settings:", "bitwise identical" if same else "DIFFERENT")


if __name__ == "__main__":
    main()
