"""Phase 1: backbone training with the whole training set resident on the device.

The loop follows airbench's idea: the (small) image tensor lives on the device, every epoch draws a
permutation and does crop-with-padding and horizontal-flip augmentation on whole batches of
tensors, so there is no DataLoader, no worker processes and no host->device copy per batch.  On a
GPU, and on a CPU with native bf16 when asked to (``precision``: :mod:`pipeline_lib.core.precision`), it uses
bf16 autocast and channels-last memory format; by default the CPU runs in float32.

No host synchronisation inside an epoch: every random draw of an epoch (permutation, crop offsets,
flips, REMIX draws) is made on the CPU up front (:func:`epoch_plan`, in the order the loop consumes
them, so the values are those of a per-batch draw) and moved to the device in one copy; loss and
accuracy are summed on the device and read once per epoch.  On a GPU the SGD step is the fused one
(one kernel for all parameters), and with ``cuda_graph`` (setting ``backbone_training.cuda_graph``)
the whole full-size step (gather, augmentation, forward, backward, SGD, sums) is captured once as a
CUDA graph and replayed; the last, smaller batch of an epoch runs eagerly, so every sample is used
every epoch, as without the graph.  The CPU path is unchanged by either.

Schedule (LDAM-DRW / EOS): SGD lr 0.1, momentum 0.9, weight decay 2e-4, batch 128, 200 epochs,
linear warm-up over the first 5 epochs, lr x0.01 after epoch 160 and x0.0001 after epoch 180.
Shorter runs scale the three milestones proportionally (5/200, 160/200, 180/200 of the epochs).

Randomness: every epoch uses its own ``torch.Generator`` seeded from (seed, epoch) on the CPU, so a
run that is killed and resumed from its per-epoch checkpoint continues with exactly the same
permutations and augmentations as an uninterrupted run.

Model selection: ``select_on="final"`` (default) keeps the last epoch.  ``select_on="test"``
reproduces the authors' protocol (the state with the best *test* macro-F1, evaluated every epoch);
it selects on the test set and therefore overstates test performance.
"""
from __future__ import annotations

import copy
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from .devices import pick_device, to_tensor
from .losses import drw_weight_for_epoch, make_loss, parse_loss_name, uses_normed_head
from .metrics import macro_f1
from . import precision
from .models import build_model
from ..runtime.orphans import stop_if_orphaned
from .remix import remix_lambda, remix_positions

SELECT_ON = ("final", "test")


@dataclass(kw_only=True)
class SGDConfig:
    """SGD settings shared by phase 1 (backbone) and phase 3 (head).  Every setting comes from the config
    (``backbone_training`` / ``head_training``; their defaults live in the config schema, not here) and
    ``seed`` from its top-level ``seed``; only ``loss_options`` (no options: each loss's own defaults)
    has a default."""
    epochs: int
    batch_size: int
    lr: float
    momentum: float
    weight_decay: float
    select_on: str
    seed: int
    loss_options: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.select_on not in SELECT_ON:
            raise ValueError(f"select_on {self.select_on!r} not allowed; allowed: {', '.join(SELECT_ON)}")


@dataclass(kw_only=True)
class TrainConfig(SGDConfig):
    crop_padding: int
    flip: bool
    device: str  # auto | cpu | cuda
    remix_alpha: float | None = None  # REMIX (Bellinger et al.) mini-batches when set (pixel_oversampling)
    # GPU only: replay the full-size step as a captured CUDA graph (not with REMIX, whose batches vary).
    # The schema's default (false) is repeated here so that callers written before the setting still work.
    cuda_graph: bool = False
    # auto | fp32 | bf16 (pipeline_lib.core.precision); the schema's default repeated for the same reason
    precision: str = "fp32"

    def __post_init__(self):
        super().__post_init__()
        precision.check(self.precision)
        if not isinstance(self.cuda_graph, bool):
            raise ValueError(f"cuda_graph {self.cuda_graph!r} not allowed; allowed: true, false")





def milestones(epochs: int) -> tuple[int, int, int]:
    """(warm-up epochs, first decay, second decay) scaled from LDAM-DRW's (5, 160, 180) of 200."""
    warm = max(1, round(epochs * 5 / 200))
    return warm, round(epochs * 160 / 200), round(epochs * 180 / 200)


def lr_at(epoch: int, epochs: int, base_lr: float) -> float:
    """Learning rate of 0-based ``epoch``, as LDAM-DRW's ``adjust_learning_rate`` (with epoch+1)."""
    e = epoch + 1
    warm, d1, d2 = milestones(epochs)
    if e <= warm:
        return base_lr * e / warm
    if e > d2:
        return base_lr * 1e-4
    if e > d1:
        return base_lr * 1e-2
    return base_lr





def draw_augment(b: int, padding: int, flip: bool, gen: torch.Generator):
    """The random draws of :func:`augment` for a batch of ``b``, on the CPU: crop offsets ``(oy, ox)``
    (None without padding) and the flip mask (None without flip), in this order."""
    oy = ox = mask = None
    if padding > 0:
        oy = torch.randint(0, 2 * padding + 1, (b,), generator=gen)
        ox = torch.randint(0, 2 * padding + 1, (b,), generator=gen)
    if flip:
        mask = torch.rand(b, generator=gen) < 0.5
    return oy, ox, mask


def apply_augment(x: torch.Tensor, padding: int, flip: bool, oy, ox, mask, pad_value: torch.Tensor) -> torch.Tensor:
    """:func:`augment` with its draws given (on ``x``'s device): no host synchronisation, capturable."""
    b, c, h, w = x.shape
    if padding > 0:
        xp = pad_value.view(1, c, 1, 1).expand(b, c, h + 2 * padding, w + 2 * padding).clone()
        xp[:, :, padding:padding + h, padding:padding + w] = x
        rows = (oy[:, None] + torch.arange(h, device=x.device))[:, :, None]  # (B, H, 1)
        cols = (ox[:, None] + torch.arange(w, device=x.device))[:, None, :]  # (B, 1, W)
        bidx = torch.arange(b, device=x.device)[:, None, None]
        x = xp[bidx, :, rows, cols].permute(0, 3, 1, 2)  # (B, H, W, C) -> (B, C, H, W)
    if flip:
        x = torch.where(mask.view(b, 1, 1, 1), x.flip(3), x)
    return x.contiguous()


def augment(x: torch.Tensor, padding: int, flip: bool, gen: torch.Generator, pad_value: torch.Tensor) -> torch.Tensor:
    """Random crop with ``padding`` (padded with ``pad_value`` per channel, i.e. black pixels after
    normalisation, as torchvision's RandomCrop) and random horizontal flip, for a whole batch."""
    draws = draw_augment(len(x), padding, flip, gen)
    return apply_augment(x, padding, flip, *(None if t is None else t.to(x.device) for t in draws), pad_value)


@dataclass
class EpochPlan:
    """Every random draw of one epoch (:func:`epoch_plan`).  ``rows``: the training rows of all batches,
    concatenated; ``oy``, ``ox``, ``flip``: per row (empty without padding / flip); ``mate``: per row, the
    position in its batch of its REMIX mixup partner (empty without REMIX); ``bounds``: each batch's
    (start, stop) in those; ``lams``: each batch's REMIX lambda."""
    rows: torch.Tensor
    oy: torch.Tensor
    ox: torch.Tensor
    flip: torch.Tensor
    mate: torch.Tensor
    bounds: list
    lams: list

    def to(self, device) -> "EpochPlan":
        """The plan on ``device``, in a single copy (one host synchronisation per epoch)."""
        parts = [self.rows, self.oy, self.ox, self.flip.long(), self.mate]
        moved = torch.cat(parts).to(device).split([len(p) for p in parts])
        return EpochPlan(moved[0], moved[1], moved[2], moved[3].bool(), moved[4], self.bounds, self.lams)

    def batch(self, k: int):
        """(rows, oy, ox, flip, mate, lam) of batch ``k``; None for what the epoch does not draw."""
        a, b = self.bounds[k]
        part = [t[a:b] if len(t) else None for t in (self.rows, self.oy, self.ox, self.flip, self.mate)]
        return (*part, self.lams[k] if self.lams else None)


def epoch_plan(n: int, cfg: TrainConfig, gen: torch.Generator, y_cpu: torch.Tensor | None = None) -> EpochPlan:
    """All draws of one epoch from its generator ``gen``, in the order a per-batch loop makes them: the
    permutation, then per batch [REMIX balancing], crop offsets, flips, [REMIX lambda, mixup partners].
    REMIX needs the labels ``y_cpu``."""
    perm = torch.randperm(n, generator=gen)
    empty = torch.zeros(0, dtype=torch.long)
    rows, oys, oxs, flips, mates, bounds, lams = [], [], [], [], [], [], []
    start = 0
    for i in range(0, n, cfg.batch_size):
        idx = perm[i:i + cfg.batch_size]
        if cfg.remix_alpha:
            idx = idx[remix_positions(y_cpu[idx], gen)]
        oy, ox, mask = draw_augment(len(idx), cfg.crop_padding, cfg.flip, gen)
        if cfg.remix_alpha:
            lams.append(remix_lambda(cfg.remix_alpha, gen))
            mates.append(torch.randperm(len(idx), generator=gen))
        rows.append(idx)
        oys.append(empty if oy is None else oy)
        oxs.append(empty if ox is None else ox)
        flips.append(empty.bool() if mask is None else mask)
        bounds.append((start, start + len(idx)))
        start += len(idx)
    return EpochPlan(torch.cat(rows), torch.cat(oys), torch.cat(oxs), torch.cat(flips),
                     torch.cat(mates) if mates else empty, bounds, lams)


def train_step(model, opt, loss_fn, xb: torch.Tensor, bf16: bool):
    """One SGD step; with ``bf16`` under bf16 autocast (on CUDA without autocast's weight-cast cache,
    which CUDA-graph capture does not allow; each weight is cast once per step either way), the input in
    channels-last format on CUDA and with bf16.  ``loss_fn(logits)`` gets float32 logits.  Returns
    (logits, loss) detached, without a host synchronisation."""
    cuda = xb.device.type == "cuda"
    if cuda or bf16:
        xb = xb.contiguous(memory_format=torch.channels_last)
    with torch.autocast(xb.device.type, dtype=torch.bfloat16, enabled=bf16, cache_enabled=False if cuda else None):
        out = model(xb)
    loss = loss_fn(out.float())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return out.detach(), loss.detach()


def batch_step(model, opt, criterion, x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig, pad_value: torch.Tensor,
               sums: tuple, rows, oy, ox, flip, mate=None, lam=None, bf16: bool = False) -> None:
    """One batch of the loop: gather ``x[rows]``, augment, SGD step (REMIX mixup when ``lam`` is given),
    and add loss x batch size and the number correct to the device scalars ``sums`` = (total, correct).
    No host synchronisation; without REMIX capturable as a CUDA graph."""
    total, correct = sums
    xb = apply_augment(x[rows], cfg.crop_padding, cfg.flip, oy, ox, flip, pad_value)
    yb = y[rows]
    if lam is not None:  # mixup of inputs and one-hot labels: CE is linear in the target
        xb = lam * xb + (1 - lam) * xb[mate]
        out, batch_loss = train_step(
            model, opt, lambda o: lam * criterion(o, yb) + (1 - lam) * criterion(o, yb[mate]), xb, bf16)
    else:
        out, batch_loss = train_step(model, opt, lambda o: criterion(o, yb), xb, bf16)
    total += batch_loss * len(rows)
    correct += (out.argmax(1) == yb).sum()


class GraphedStep:
    """A CUDA-graph replay of ``fn()``, a step that reads only fixed ("static") input tensors which the
    caller refills before each call.  The first ``warmup`` calls run ``fn`` eagerly on a side stream
    (real steps: they warm up cuDNN's algorithm choice, the optimiser's state and the allocator), the
    next one captures ``fn`` and replays it, every later call replays.  A new ``key`` (e.g. other loss
    weights) starts over.  CUDA only; returns what ``fn`` returned when captured (overwritten by each
    replay)."""

    def __init__(self, fn, warmup: int = 3):
        self.fn, self.warmup = fn, warmup
        self.graph, self.key, self.done, self.out = None, None, 0, None

    def __call__(self, key=None):
        if key != self.key:
            self.graph, self.key, self.done = None, key, 0
        if self.graph is None and self.done < self.warmup:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                self.out = self.fn()
            torch.cuda.current_stream().wait_stream(side)
            self.done += 1
            return self.out
        if self.graph is None:
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.out = self.fn()
        self.graph.replay()
        return self.out


def make_optimizer(model, cfg: SGDConfig, device: torch.device, *, lr_tensor: bool = False):
    """SGD with the config's momentum and weight decay.  On CUDA the fused implementation (one kernel for
    all parameters); ``lr_tensor``: the learning rate is a device tensor (changed in place by
    :func:`set_lr`, so a captured CUDA graph sees the new value).  On the CPU PyTorch's default."""
    if device.type != "cuda":
        return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    lr = torch.tensor(float(cfg.lr), dtype=torch.float32, device=device) if lr_tensor else cfg.lr
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay,
                           fused=True)


def set_lr(opt, lr: float) -> None:
    """Set every group's learning rate: in place where it is a tensor (no host synchronisation)."""
    for g in opt.param_groups:
        if isinstance(g["lr"], torch.Tensor):
            g["lr"].fill_(lr)
        else:
            g["lr"] = lr


@torch.inference_mode()
def predict(model, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[i:i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


def _save_atomic(obj, path: str) -> None:
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _setup(images: np.ndarray, labels: np.ndarray, num_classes: int, arch: str, loss: str, cfg: TrainConfig,
           mean, std):
    """Device, model, loss, optimiser, the device-resident data and whether to train in bf16 (the
    resolved ``cfg.precision``) of a run (shared by :func:`train_backbone` and :func:`step_throughput`)."""
    device = pick_device(cfg.device)
    bf16 = precision.resolve(cfg.precision, device) == "bf16"
    cls_counts = np.bincount(labels, minlength=num_classes).tolist()
    torch.manual_seed(cfg.seed)
    model = build_model(arch, num_classes, images.shape[-1], normed_head=uses_normed_head(loss)).to(device)
    criterion = make_loss(loss, cls_counts, cfg.loss_options).to(device)
    cuda = device.type == "cuda"
    graph = cuda and cfg.cuda_graph and not cfg.remix_alpha
    opt = make_optimizer(model, cfg, device, lr_tensor=graph)
    if cuda:
        torch.backends.cudnn.benchmark = True
    if cuda or bf16:
        model = model.to(memory_format=torch.channels_last)
    x = to_tensor(images, mean, std, device)
    y_cpu = torch.as_tensor(labels, dtype=torch.long)
    y = y_cpu.to(device)
    pad_value = ((0.0 - torch.as_tensor(np.asarray(mean, np.float32))) /
                 torch.as_tensor(np.asarray(std, np.float32))).to(device)
    return device, cls_counts, model, criterion, opt, graph, x, y_cpu, y, pad_value, bf16


def _static_inputs(cfg: TrainConfig, device) -> dict:
    """Fixed input tensors of the graphed loop step (one full batch: rows, crop offsets, flips)."""
    b = cfg.batch_size
    zeros = lambda dtype: torch.zeros(b, dtype=dtype, device=device)  # noqa: E731
    return {"rows": zeros(torch.long), "oy": zeros(torch.long) if cfg.crop_padding > 0 else None,
            "ox": zeros(torch.long) if cfg.crop_padding > 0 else None,
            "flip": zeros(torch.bool) if cfg.flip else None}


def train_backbone(images: np.ndarray, labels: np.ndarray, *, num_classes: int, arch: str, loss: str,
                   cfg: TrainConfig, mean, std, test_images: np.ndarray | None = None,
                   test_labels: np.ndarray | None = None, checkpoint: str | None = None, log=print):
    """Train a CIFAR ResNet on the (imbalanced) ``images``; returns ``(model, history)``.

    ``checkpoint``: path of a per-epoch checkpoint; if it exists (and was written for the same
    settings) training resumes after its last completed epoch.
    """
    _, drw = parse_loss_name(loss)
    device, cls_counts, model, criterion, opt, graph, x, y_cpu, y, pad_value, bf16 = _setup(
        images, labels, num_classes, arch, loss, cfg, mean, std)
    if cfg.cuda_graph and not graph:
        log(f"cuda_graph not used: {'REMIX batches vary in content' if cfg.remix_alpha else 'device ' + device.type}")
    chosen = precision.describe(cfg.precision, device)
    log(f"precision {chosen['precision']} (setting {cfg.precision}; device {device.type}; CPU {chosen['cpu']}, "
        f"flags {' '.join(chosen['cpu_flags']) or 'none of ' + ' '.join(precision.CPU_FLAGS)})")
    xt = to_tensor(test_images, mean, std, device) if cfg.select_on == "test" else None

    signature = {"arch": arch, "loss": loss, "n": int(len(labels)), **asdict(cfg)}
    start, history, best = 0, [], None
    if checkpoint and os.path.exists(checkpoint):
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        if state.get("signature") == signature:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            start, history, best = state["epoch"] + 1, state["history"], state["best"]
            log(f"resuming from {checkpoint} after epoch {state['epoch'] + 1}/{cfg.epochs}")
        else:
            log(f"ignoring {checkpoint}: written for other settings")

    n = len(y)
    sums = (torch.zeros((), device=device), torch.zeros((), device=device))  # loss x batch size, correct
    weight, weight_version = None, 0  # the loss's class weight, set only when it changes (a graph reads it)
    if graph:
        static = _static_inputs(cfg, device)
        step = GraphedStep(lambda: batch_step(model, opt, criterion, x, y, cfg, pad_value, sums, static["rows"],
                                              static["oy"], static["ox"], static["flip"], bf16=bf16))
    for epoch in range(start, cfg.epochs):
        t0 = time.perf_counter()
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)
        lr = lr_at(epoch, cfg.epochs, cfg.lr)
        set_lr(opt, lr)
        if drw:
            w = drw_weight_for_epoch(cls_counts, epoch, cfg.epochs)
            if (w is None) != (weight is None) or (w is not None and not torch.equal(w, weight)):
                criterion.set_class_weight(None if w is None else w.to(device))
                weight, weight_version = w, weight_version + 1
        model.train()
        plan = epoch_plan(n, cfg, gen, y_cpu).to(device)  # the epoch's one host->device copy
        for s in sums:
            s.zero_()
        seen = 0
        for k in range(len(plan.bounds)):
            rows, oy, ox, flip, mate, lam = plan.batch(k)
            if graph and len(rows) == cfg.batch_size:
                for name, value in (("rows", rows), ("oy", oy), ("ox", ox), ("flip", flip)):
                    if value is not None:
                        static[name].copy_(value)
                step(key=weight_version)
            else:  # the CPU, REMIX, or the last, smaller batch of the epoch
                batch_step(model, opt, criterion, x, y, cfg, pad_value, sums, rows, oy, ox, flip, mate, lam, bf16)
            seen += len(rows)
        total, correct = sums
        row = {"epoch": epoch + 1, "lr": lr, "train_loss": float(total) / seen,
               "train_acc": float(correct) / seen}
        if not math.isfinite(row["train_loss"]):
            raise FloatingPointError(f"training diverged at epoch {epoch + 1}: loss {row['train_loss']}")
        if xt is not None:
            pred = predict(model, xt).cpu().numpy()
            row["test_macro_f1"] = macro_f1(test_labels, pred, num_classes)
            if best is None or row["test_macro_f1"] > best["score"]:
                best = {"score": row["test_macro_f1"], "epoch": epoch + 1,
                        "state": copy.deepcopy(model.state_dict())}
        row["seconds"] = time.perf_counter() - t0
        history.append(row)
        log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
        if checkpoint:
            _save_atomic({"signature": signature, "epoch": epoch, "model": model.state_dict(),
                          "optimizer": opt.state_dict(), "history": history, "best": best}, checkpoint)
        stop_if_orphaned(epoch + 1, cfg.epochs, checkpoint, log)  # Snakemake gone: stop, checkpoint kept
    if cfg.select_on == "test" and best is not None:
        model.load_state_dict(best["state"])
        log(f"selected epoch {best['epoch']} (best test macro-F1 {best['score']:.4f}, authors' protocol)")
    model = model.to(memory_format=torch.contiguous_format)
    return model.eval(), history


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_throughput(images: np.ndarray, labels: np.ndarray, *, num_classes: int, arch: str, loss: str,
                    cfg: TrainConfig, mean, std, repeats: int = 3, log=print) -> dict:
    """Images/s of the training loop and of the bare step, measured alike: the same images, batches and
    step (eager or CUDA graph as ``cfg`` says), one untimed warm-up pass, then the median of ``repeats``
    timed passes of one epoch each (the device synchronised at the end of each).

    loop: :func:`train_backbone` for 1 + ``repeats`` epochs (permutation, augmentation draws, gather,
    augmentation, step, sums, the per-epoch read-back), seconds of each epoch from its history.
    bare: forward + backward + SGD step only, on the same number of batches of the same sizes, made
    (gathered and augmented) beforehand and resident on the device.

    Returns {"loop_images_s", "bare_images_s", "loop_vs_bare" (ratio), "loop_epoch_s", "bare_epoch_s"
    (medians), "loop_epoch_s_all", "bare_epoch_s_all" (every timed pass), "batches"}."""
    if repeats < 1:
        raise ValueError(f"repeats {repeats!r} not allowed; allowed: an integer >= 1")
    n = len(labels)
    _, hist = train_backbone(images, labels, num_classes=num_classes, arch=arch, loss=loss,
                             cfg=replace(cfg, epochs=1 + repeats), mean=mean, std=std, log=lambda *_: None)
    loop_all = [h["seconds"] for h in hist[1:]]
    loop_s = float(np.median(loop_all))

    device, _, model, criterion, opt, graph, x, y_cpu, y, pad_value, bf16 = _setup(
        images, labels, num_classes, arch, loss, cfg, mean, std)
    model.train()
    set_lr(opt, cfg.lr)
    plan = epoch_plan(n, cfg, torch.Generator().manual_seed(cfg.seed), y_cpu).to(device)
    batches = []
    for k in range(len(plan.bounds)):
        rows, oy, ox, flip, _, _ = plan.batch(k)
        batches.append((apply_augment(x[rows], cfg.crop_padding, cfg.flip, oy, ox, flip, pad_value), y[rows]))
    if graph:
        static_x, static_y = torch.zeros_like(batches[0][0]), torch.zeros_like(batches[0][1])
        step = GraphedStep(lambda: train_step(model, opt, lambda o: criterion(o, static_y), static_x, bf16))
    times = []
    for rep in range(1 + repeats):
        _sync(device)
        t0 = time.perf_counter()
        for xb, yb in batches:
            if graph and len(yb) == cfg.batch_size:
                static_x.copy_(xb)
                static_y.copy_(yb)
                step()
            else:
                train_step(model, opt, lambda o: criterion(o, yb), xb, bf16)
        _sync(device)
        times.append(time.perf_counter() - t0)
    bare_s = float(np.median(times[1:]))
    out = {"loop_images_s": n / loop_s, "bare_images_s": n / bare_s, "loop_vs_bare": bare_s / loop_s,
           "loop_epoch_s": loop_s, "bare_epoch_s": bare_s, "loop_epoch_s_all": loop_all, "bare_epoch_s_all": times[1:],
           "batches": len(batches)}
    log(f"loop {out['loop_images_s']:.1f} images/s, bare step {out['bare_images_s']:.1f} images/s "
        f"(loop/bare {100 * out['loop_vs_bare']:.1f}%)")
    return out


def run_stage(images_npz: str, indices_csv: str, out_model: str, out_history: str, *, arch: str, loss: str,
              training: dict, loss_options: dict, seed: int, normalize: dict | None = None,
              train_npz: str | None = None, out_predictions: str | None = None,
              test_indices_csv: str | None = None, log=print) -> None:
    """The ``train_backbone`` / ``train_pixel_backbone`` rules: train on one cut's images, write the
    weights and the epoch log.

    ``train_npz``: train on these arrays (``x``, ``y``; a pixel-space oversampled set) instead of the
    cut's subset.  ``test_indices_csv``: the cut's test set (``sample_id`` = index into the test pool;
    None = the whole test pool).  ``out_predictions``: also write the network's predictions on it (Parquet).
    A per-epoch checkpoint next to ``out_model`` lets a killed run resume; it is removed on success.
    """
    import pandas as pd

    from .datasets import ImageArrays
    from .models import save_backbone

    data = ImageArrays.load(images_npz)
    if train_npz:
        with np.load(train_npz) as z:
            x_train, y_train = z["x"], z["y"].astype(np.int64)
    else:
        idx = pd.read_csv(indices_csv)["sample_id"].to_numpy()
        x_train, y_train = data.train_x[idx], data.train_y[idx]
    test_ids = (pd.read_csv(test_indices_csv)["sample_id"].to_numpy() if test_indices_csv
                else np.arange(len(data.test_y)))
    test_x, test_y = data.test_x[test_ids], data.test_y[test_ids]
    if normalize:
        mean, std = normalize["mean"], normalize["std"]
    else:
        mean, std = data.channel_stats()
    cfg = TrainConfig(**training, seed=seed, loss_options=loss_options)
    checkpoint = out_model + ".resume.pt"
    model, history = train_backbone(
        x_train, y_train, num_classes=data.num_classes, arch=arch, loss=loss, cfg=cfg,
        mean=mean, std=std, test_images=test_x, test_labels=test_y, checkpoint=checkpoint, log=log)
    device = next(model.parameters()).device
    chosen = precision.describe(cfg.precision, device)  # recorded in the backbone's metadata
    if out_predictions:  # on the training device, before moving the model off it
        pred = predict(model, to_tensor(test_x, mean, std, device)).cpu().numpy()
    model = model.cpu()
    save_backbone(out_model, model, arch=arch, num_classes=data.num_classes,
                  in_channels=int(data.train_x.shape[-1]), normed_head=uses_normed_head(loss), loss=loss,
                  mean=[float(v) for v in mean], std=[float(v) for v in std], class_names=data.class_names,
                  select_on=cfg.select_on, epochs=cfg.epochs, **chosen)
    pd.DataFrame(history).to_csv(out_history, index=False)
    if out_predictions:
        out = pd.DataFrame({"sample_id": test_ids.astype(np.int64), "label": test_y, "pred": pred.astype(np.int64)})
        out.attrs = {"class_names": list(data.class_names), "loss": loss}
        out.to_parquet(out_predictions, index=False)
    if os.path.exists(checkpoint):
        os.remove(checkpoint)
