"""Kernel time of a forward pass by batch size: user / sys CPU seconds and minor page faults of
``core.embeddings.extract`` on a ResNet-32 and random CIFAR-sized images, batch sizes 1024, 256, 128, 64, and
whether the features are bitwise identical to those of the first batch size.

    python benchmarks/bench_extract_batch.py [--images 2048] [--threads 1]

Why: batches of 1024 CIFAR images allocate activations of 64 MiB, above glibc's largest mmap threshold
(32 MiB), so every batch maps and unmaps fresh memory (page faults, kernel time); see docs/latents.md.
"""
from __future__ import annotations

import argparse
import resource

import numpy as np
import torch


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batches", type=int, nargs="+", default=[1024, 256, 128, 64])
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    from pipeline_lib.core import embeddings as emb
    from pipeline_lib.core.models import build_model

    torch.manual_seed(0)
    model = build_model("resnet32", 10).eval()
    x = torch.randn(a.images, 3, 32, 32)
    ref = None
    for b in a.batches:
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        f = emb.extract(model, x, batch_size=b)
        f = np.asarray(f[0] if isinstance(f, tuple) else f)
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        same = "reference" if ref is None else ("bitwise identical" if np.array_equal(ref, f) else
                                                f"differs (max {np.abs(ref - f).max():.2e})")
        ref = f if ref is None else ref
        print(f"batch {b:5d}: user {r1.ru_utime - r0.ru_utime:6.1f} s  sys {r1.ru_stime - r0.ru_stime:6.1f} s  "
              f"minor faults {r1.ru_minflt - r0.ru_minflt:9d}  features {same}")


if __name__ == "__main__":
    main()
