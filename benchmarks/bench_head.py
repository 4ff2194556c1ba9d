"""Head retraining on 50,000 x 64 embeddings (the size of EOS-balanced CIFAR-10-LT), 10 epochs.

    .venv/bin/python benchmarks/bench_head.py
"""
import os
import platform
import time

import numpy as np
import torch

from pipeline_lib.core.heads import train_head
from pipeline_lib.infra.schema_defaults import head_config as HeadConfig


def main():
    torch.set_num_threads(os.cpu_count())
    rng = np.random.RandomState(0)
    y = np.repeat(np.arange(10), 5000)
    X = (rng.rand(50000, 64) + 0.5 * np.eye(10, 64)[y]).astype(np.float32)
    print(f"host: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}; "
          "data: seeded random 50,000 x 64 float32, 10 classes")
    for loss in ("ce", "ldam"):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            _, hist = train_head(X, y, num_classes=10, loss=loss, cls_counts=[5000] * 10, cfg=HeadConfig())
            times.append(time.perf_counter() - t0)
        print(f"head {loss:5s}: 10 epochs on 50,000 x 64: best {min(times):.2f} s, median {np.median(times):.2f} s "
              f"({10 * 50000 / min(times):,.0f} rows/s), final train BAC {hist[-1]['train_bac']:.3f}")


if __name__ == "__main__":
    main()
