"""Backbone training throughput: the full training loop (permutation, on-device crop+flip augmentation,
loss, optimiser step) against the bare forward+backward+step rate on one fixed batch.

    .venv/bin/python benchmarks/bench_backbone.py [--arch resnet32] [--images 1280] [--device auto]

Prints images/s of both and the loop's overhead (target: the loop loses <= 10%).
Data: random uint8 CIFAR-shaped images (throughput does not depend on content).
"""
import argparse
import os
import platform
import time

import numpy as np
import torch

from pipeline_lib.losses import make_loss
from pipeline_lib.models import build_model
from pipeline_lib.training import TrainConfig, pick_device, to_tensor, train_backbone, train_step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="resnet32")
    ap.add_argument("--images", type=int, default=1280)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = pick_device(a.device)
    cuda = dev.type == "cuda"
    print(f"host: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"device {dev}{' (' + torch.cuda.get_device_name() + ')' if cuda else ''}, threads {a.threads}")
    rng = np.random.RandomState(0)
    x = rng.randint(0, 256, (a.images, 32, 32, 3)).astype(np.uint8)
    y = np.repeat(np.arange(10), a.images // 10)
    mean, std = [0.49, 0.48, 0.45], [0.25, 0.24, 0.26]

    # bare step: one fixed batch through the loop's own train_step (forward + backward + SGD step)
    torch.manual_seed(0)
    model = build_model(a.arch, 10).to(dev)
    if cuda:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    crit = make_loss("ce", [a.images // 10] * 10)
    xb = to_tensor(x[:a.batch], mean, std, dev)
    yb = torch.as_tensor(y[:a.batch], device=dev)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    for i in range(a.steps + 3):
        if i == 3:
            sync()
            t0 = time.perf_counter()
        train_step(model, opt, lambda out: crit(out, yb), xb)
    sync()
    bare = a.steps * a.batch / (time.perf_counter() - t0)

    # the real loop: two epochs, the second one timed (the first warms up kernels/allocator)
    cfg = TrainConfig(epochs=2, batch_size=a.batch, lr=0.1, momentum=0.9, weight_decay=2e-4, crop_padding=4, flip=True,
                      select_on="final", seed=0, device=a.device)  # the authors' schedule (schema defaults)
    _, hist = train_backbone(x, y, num_classes=10, arch=a.arch, loss="ce", cfg=cfg, mean=mean, std=std,
                             log=lambda *_: None)
    loop = a.images / hist[-1]["seconds"]
    print(f"{a.arch} batch {a.batch}: bare forward+backward+step {bare:8.1f} images/s")
    print(f"{a.arch} batch {a.batch}: training loop (epoch of {a.images}) {loop:8.1f} images/s")
    print(f"loop overhead vs bare step: {100 * (1 - loop / bare):+.1f}% (target <= 10%)")


if __name__ == "__main__":
    main()
