"""Backbone training throughput: the full training loop (permutation and augmentation draws, on-device
gather, crop+flip augmentation, loss, optimiser step, device-side sums) against the bare
forward+backward+step on the same batches, measured the same way.

    .venv/bin/python benchmarks/bench_backbone.py [--arch resnet32] [--images 1280] [--repeats 5]
                                                  [--device auto] [--threads N] [--malloc keep|default]

Both figures come from pipeline_lib.core.training.step_throughput: the same images and batch sizes, the same
step (on a GPU: eager, then also the CUDA-graph step), one untimed warm-up epoch, then the median of
--repeats timed epochs, the device synchronised at the end of each.  The bare step runs on batches
gathered and augmented beforehand, resident on the device.  Prints images/s of both, their ratio
(target: the loop keeps >= 90 % of the bare rate), the spread of the repeats and the machine's load
average (on a shared machine other processes change CPU figures a lot: compare runs at similar load).

Data: seeded random uint8 CIFAR-shaped images with random labels (throughput does not depend on content;
random labels keep every batch mixed: a batch of one class drives the loss to 0 and the weights into
denormal floats, which slows a CPU down many times).

Precision (``backbone_training.precision``, :mod:`pipeline_lib.core.precision`): the CPU's relevant flags are
printed first; the loop and the bare step are measured in fp32 and in bf16 (the product's bf16 is autocast
with channels-last), and ``--layouts`` adds the bare step in all four variants (fp32 / bf16, each with and
without channels-last), interleaved step by step so that other load on the machine hits each variant alike.

Heap: by default the process runs with the heap setting of every Snakemake job
(:mod:`pipeline_lib.runtime.memory`: freed memory kept for the next batch); ``--malloc default`` measures with
glibc's own thresholds, for comparison.
"""
import argparse
import os
import platform
import time

import numpy as np
import torch

from pipeline_lib.core import precision
from pipeline_lib.core.losses import make_loss
from pipeline_lib.core.models import build_model
from pipeline_lib.infra.schema_defaults import train_config
from pipeline_lib.core.devices import pick_device
from pipeline_lib.core.training import step_throughput
from pipeline_lib.runtime import memory

TARGET = 0.90


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="resnet32")
    ap.add_argument("--images", type=int, default=1280)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=5, help="timed epochs of each measurement (median reported)")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument("--precision", nargs="+", default=["fp32", "bf16"], choices=precision.PRECISIONS,
                    help="precisions of the loop / bare-step measurement (default: fp32 bf16)")
    ap.add_argument("--layouts", action="store_true",
                    help="also the bare step in fp32 / bf16 x NCHW / channels-last, interleaved")
    ap.add_argument("--malloc", choices=("keep", "default"), default="keep",
                    help="keep: the job heap setting every Snakemake job runs with (default); default: glibc's")
    a = ap.parse_args()
    if a.images < a.batch:
        ap.error(f"--images {a.images} not allowed; allowed: >= --batch ({a.batch})")
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.malloc == "keep":  # the heap as in every Snakemake job (pipeline_lib.runtime.memory)
        memory.keep_freed_memory()
    dev = pick_device(a.device)
    cuda = dev.type == "cuda"
    print(f"host: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"device {dev}{' (' + torch.cuda.get_device_name(dev) + ')' if cuda else ''}, "
          f"threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}, "
          f"heap: {memory.settings()}")
    rng = np.random.RandomState(0)
    x = rng.randint(0, 256, (a.images, 32, 32, 3)).astype(np.uint8)
    y = rng.randint(0, 10, a.images).astype(np.int64)
    mean, std = [0.49, 0.48, 0.45], [0.25, 0.24, 0.26]
    batches = -(-a.images // a.batch)
    print(f"{a.arch}, batch {a.batch}, {a.images} images ({batches} batches) per epoch; 1 warm-up + "
          f"{a.repeats} timed epochs each; the authors' schedule and augmentation (schema defaults)")
    flags = precision.cpu_flags()
    print(f"CPU flags: {' '.join(flags) or 'none'} of {' '.join(precision.CPU_FLAGS)}; native bf16: "
          f"{'yes' if precision.cpu_has_bf16(flags) else 'no'}")
    if a.layouts:
        for name, rate in layout_throughput(a.arch, a.batch, a.repeats, dev).items():
            print(f"[bare step, {name:22s}] {rate:9.1f} images/s (interleaved, {a.repeats} x 4 steps each)")
    for prec in a.precision:
        for graph in ((False, True) if cuda else (False,)):
            cfg = train_config(batch_size=a.batch, device=a.device, cuda_graph=graph, precision=prec)
            r = step_throughput(x, y, num_classes=10, arch=a.arch, loss="ce", cfg=cfg, mean=mean, std=std,
                                repeats=a.repeats, log=lambda *_: None)
            chosen = precision.resolve(prec, dev)
            kind = ("CUDA graph" if graph else "eager, fused SGD" if cuda else "CPU") + f", {chosen}" + (
                f" (setting {prec})" if prec == "auto" else "") + (", channels-last" if chosen == "bf16" or cuda else "")
            spread = lambda v: f"{a.images / max(v):.1f}-{a.images / min(v):.1f}"  # noqa: E731
            print(f"[{kind}] bare forward+backward+step: {r['bare_images_s']:9.1f} images/s "
                  f"(median; repeats {spread(r['bare_epoch_s_all'])})")
            print(f"[{kind}] training loop:              {r['loop_images_s']:9.1f} images/s "
                  f"(median; repeats {spread(r['loop_epoch_s_all'])})")
            print(f"[{kind}] loop / bare: {100 * r['loop_vs_bare']:.1f} % (target >= {100 * TARGET:.0f} %: "
                  f"{'met' if r['loop_vs_bare'] >= TARGET else 'NOT met'}); load average now {os.getloadavg()[0]:.2f}")


def layout_throughput(arch: str, batch: int, repeats: int, device) -> dict:
    """Images/s of the bare forward+backward+SGD step of ``arch`` on one random batch in four variants
    (fp32 / bf16 autocast x NCHW / channels-last), the steps of the four interleaved (after two warm-up
    steps each) so that other load on the machine slows each alike."""
    x0 = torch.randn(batch, 3, 32, 32, generator=torch.Generator().manual_seed(0)).to(device)
    y = torch.randint(0, 10, (batch,), generator=torch.Generator().manual_seed(1)).to(device)
    variants = {}
    for bf16 in (False, True):
        for cl in (False, True):
            torch.manual_seed(0)
            m = build_model(arch, 10, 3).to(device)
            fmt = torch.channels_last if cl else torch.contiguous_format
            m = m.to(memory_format=fmt)
            opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
            name = f"{'bf16' if bf16 else 'fp32'}, {'channels-last' if cl else 'NCHW'}"
            variants[name] = (m, opt, x0.contiguous(memory_format=fmt), bf16)
    crit = make_loss("ce", [1] * 10, {}).to(device)

    def step(m, opt, xb, bf16):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            out = m(xb)
        loss = crit(out.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for v in variants.values():
        step(*v)
        step(*v)
    spent = dict.fromkeys(variants, 0.0)
    for _ in range(4 * repeats):
        for name, v in variants.items():
            t0 = time.perf_counter()
            step(*v)
            spent[name] += time.perf_counter() - t0
    return {name: 4 * repeats * batch / s for name, s in spent.items()}


if __name__ == "__main__":
    main()
