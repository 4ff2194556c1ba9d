"""Backbone training throughput: the full training loop (permutation and augmentation draws, on-device
gather, crop+flip augmentation, loss, optimiser step, device-side sums) against the bare
forward+backward+step on the same batches, measured the same way.

    .venv/bin/python benchmarks/bench_backbone.py [--arch resnet32] [--images 1280] [--repeats 5]
                                                  [--device auto] [--threads N]

Both figures come from pipeline_lib.training.step_throughput: the same images and batch sizes, the same
step (on a GPU: eager, then also the CUDA-graph step), one untimed warm-up epoch, then the median of
--repeats timed epochs, the device synchronised at the end of each.  The bare step runs on batches
gathered and augmented beforehand, resident on the device.  Prints images/s of both, their ratio
(target: the loop keeps >= 90 % of the bare rate), the spread of the repeats and the machine's load
average (on a shared machine other processes change CPU figures a lot: compare runs at similar load).

Data: seeded random uint8 CIFAR-shaped images with random labels (throughput does not depend on content;
random labels keep every batch mixed: a batch of one class drives the loss to 0 and the weights into
denormal floats, which slows a CPU down many times).
"""
import argparse
import os
import platform

import numpy as np
import torch

from pipeline_lib.schema_defaults import train_config
from pipeline_lib.training import pick_device, step_throughput

TARGET = 0.90


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="resnet32")
    ap.add_argument("--images", type=int, default=1280)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=5, help="timed epochs of each measurement (median reported)")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    a = ap.parse_args()
    if a.images < a.batch:
        ap.error(f"--images {a.images} not allowed; allowed: >= --batch ({a.batch})")
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = pick_device(a.device)
    cuda = dev.type == "cuda"
    print(f"host: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"device {dev}{' (' + torch.cuda.get_device_name(dev) + ')' if cuda else ''}, "
          f"threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}")
    rng = np.random.RandomState(0)
    x = rng.randint(0, 256, (a.images, 32, 32, 3)).astype(np.uint8)
    y = rng.randint(0, 10, a.images).astype(np.int64)
    mean, std = [0.49, 0.48, 0.45], [0.25, 0.24, 0.26]
    batches = -(-a.images // a.batch)
    print(f"{a.arch}, batch {a.batch}, {a.images} images ({batches} batches) per epoch; 1 warm-up + "
          f"{a.repeats} timed epochs each; the authors' schedule and augmentation (schema defaults)")
    for graph in ((False, True) if cuda else (False,)):
        cfg = train_config(batch_size=a.batch, device=a.device, cuda_graph=graph)
        r = step_throughput(x, y, num_classes=10, arch=a.arch, loss="ce", cfg=cfg, mean=mean, std=std,
                            repeats=a.repeats, log=lambda *_: None)
        kind = "CUDA graph" if graph else ("eager, fused SGD, bf16" if cuda else "float32")
        spread = lambda v: f"{a.images / max(v):.1f}-{a.images / min(v):.1f}"  # noqa: E731
        print(f"[{kind}] bare forward+backward+step: {r['bare_images_s']:9.1f} images/s "
              f"(median; repeats {spread(r['bare_epoch_s_all'])})")
        print(f"[{kind}] training loop:              {r['loop_images_s']:9.1f} images/s "
              f"(median; repeats {spread(r['loop_epoch_s_all'])})")
        print(f"[{kind}] loop / bare: {100 * r['loop_vs_bare']:.1f} % (target >= {100 * TARGET:.0f} %: "
              f"{'met' if r['loop_vs_bare'] >= TARGET else 'NOT met'}); load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
