"""Wall-time benchmark of EOS (and SMOTE for comparison) at CIFAR-10-LT scale.

Not a test.  Builds SEEDED SYNTHETIC clustered data (no real embeddings):
12,406 rows x 64 float32 features with the CIFAR-10-LT (imbalance ratio 100)
class counts, oversamples it to full balance (10 x 5,000 = 50,000 rows) and
prints best-of-N and median wall times and the output shape.

Run:  PYTHONPATH=src python benchmarks/bench_eos.py [--repeats 3]
Target: EOS <= 1 s on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

from pipeline_lib.sampling.samplers import EOS, make_sampler

CIFAR10_LT_COUNTS = [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
N_FEATURES = 64


def make_data(seed: int = 0):
    """Seeded synthetic clustered data: one overlapping Gaussian blob per class."""
    rng = np.random.default_rng(seed)
    counts = np.asarray(CIFAR10_LT_COUNTS)
    centers = rng.normal(0.0, 1.0, size=(len(counts), N_FEATURES)) * 0.35
    y = np.repeat(np.arange(len(counts)), counts).astype(np.int64)
    X = centers[y] + rng.normal(0.0, 1.0, size=(len(y), N_FEATURES))
    return X.astype(np.float32), y


def time_it(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    X, y = make_data(args.seed)
    try:
        n_cpu = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        n_cpu = os.cpu_count()
    print(
        f"data: SEEDED SYNTHETIC clustered Gaussian data (seed={args.seed}), "
        f"not real embeddings; X {X.shape} {X.dtype}, counts {CIFAR10_LT_COUNTS}"
    )
    print(f"host: {platform.python_implementation()} {platform.python_version()}, "
          f"{n_cpu} usable CPU cores")

    runs = {
        "EOS(k=10, paper)": lambda: EOS(k_neighbors=10, random_state=0).fit_resample(X, y),
        "EOS(k=10, authors)": lambda: EOS(
            k_neighbors=10, variant="authors", random_state=0
        ).fit_resample(X, y),
        "SMOTE(k=5)": lambda: make_sampler("smote", 0).fit_resample(X, y),
    }
    for name, fn in runs.items():
        times, (X_res, y_res) = time_it(fn, args.repeats)
        print(
            f"{name:20s} best {min(times):.3f} s  median {statistics.median(times):.3f} s  "
            f"(n={args.repeats})  output X {X_res.shape} {X_res.dtype}, "
            f"per-class {np.bincount(y_res).min()}..{np.bincount(y_res).max()}"
        )


if __name__ == "__main__":
    main()
