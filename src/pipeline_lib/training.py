"""Phase 1: backbone training with the whole training set resident on the device.

The loop follows airbench's idea: the (small) image tensor lives on the device, every epoch draws a
permutation and does crop-with-padding and horizontal-flip augmentation on whole batches of
tensors, so there is no DataLoader, no worker processes and no host->device copy per batch.  On a
GPU it uses bf16 autocast and channels-last memory format; on the CPU it runs in float32.

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
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from .losses import drw_weight_for_epoch, make_loss, parse_loss_name, uses_normed_head
from .metrics import macro_f1
from .models import build_model
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


def pick_device(name: str = "auto") -> torch.device:
    """``auto``: a GPU if one is visible, else the CPU.  With several visible GPUs each process claims
    its own (see :mod:`pipeline_lib.devices`), so parallel jobs on one workstation do not share one."""
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch.cuda.is_available() is False")
    from .devices import claim_gpu

    # a SLURM job sees only the GPUs allotted to it; elsewhere jobs claim a GPU index each
    index = 0 if os.environ.get("SLURM_JOB_ID") else claim_gpu(torch.cuda.device_count())
    torch.cuda.set_device(index)
    return torch.device("cuda", index)


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


def to_tensor(images_u8: np.ndarray, mean, std, device) -> torch.Tensor:
    """uint8 (N, H, W, C) -> normalised float32 (N, C, H, W) on ``device``."""
    x = torch.from_numpy(np.ascontiguousarray(images_u8)).to(device)
    x = x.permute(0, 3, 1, 2).float().div_(255.0)
    m = torch.as_tensor(np.asarray(mean, np.float32), device=device).view(1, -1, 1, 1)
    s = torch.as_tensor(np.asarray(std, np.float32), device=device).view(1, -1, 1, 1)
    return ((x - m) / s).contiguous()


def augment(x: torch.Tensor, padding: int, flip: bool, gen: torch.Generator, pad_value: torch.Tensor) -> torch.Tensor:
    """Random crop with ``padding`` (padded with ``pad_value`` per channel, i.e. black pixels after
    normalisation, as torchvision's RandomCrop) and random horizontal flip, for a whole batch."""
    b, c, h, w = x.shape
    if padding > 0:
        xp = pad_value.view(1, c, 1, 1).expand(b, c, h + 2 * padding, w + 2 * padding).clone()
        xp[:, :, padding:padding + h, padding:padding + w] = x
        oy = torch.randint(0, 2 * padding + 1, (b,), generator=gen).to(x.device)
        ox = torch.randint(0, 2 * padding + 1, (b,), generator=gen).to(x.device)
        rows = (oy[:, None] + torch.arange(h, device=x.device))[:, :, None]  # (B, H, 1)
        cols = (ox[:, None] + torch.arange(w, device=x.device))[:, None, :]  # (B, 1, W)
        bidx = torch.arange(b, device=x.device)[:, None, None]
        x = xp[bidx, :, rows, cols].permute(0, 3, 1, 2)  # (B, H, W, C) -> (B, C, H, W)
    if flip:
        mask = (torch.rand(b, generator=gen) < 0.5).to(x.device).view(b, 1, 1, 1)
        x = torch.where(mask, x.flip(3), x)
    return x.contiguous()


def train_step(model, opt, loss_fn, xb: torch.Tensor):
    """One SGD step; on CUDA with channels-last input and bf16 autocast.  ``loss_fn(logits)`` gets
    float32 logits.  Returns (logits, loss) detached, without a host synchronisation."""
    cuda = xb.device.type == "cuda"
    if cuda:
        xb = xb.contiguous(memory_format=torch.channels_last)
    with torch.autocast(xb.device.type, dtype=torch.bfloat16, enabled=cuda):
        out = model(xb)
    loss = loss_fn(out.float())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return out.detach(), loss.detach()


@torch.no_grad()
def predict(model, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[i:i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


def _save_atomic(obj, path: str) -> None:
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train_backbone(images: np.ndarray, labels: np.ndarray, *, num_classes: int, arch: str, loss: str,
                   cfg: TrainConfig, mean, std, test_images: np.ndarray | None = None,
                   test_labels: np.ndarray | None = None, checkpoint: str | None = None, log=print):
    """Train a CIFAR ResNet on the (imbalanced) ``images``; returns ``(model, history)``.

    ``checkpoint``: path of a per-epoch checkpoint; if it exists (and was written for the same
    settings) training resumes after its last completed epoch.
    """
    device = pick_device(cfg.device)
    _, drw = parse_loss_name(loss)
    cls_counts = np.bincount(labels, minlength=num_classes).tolist()
    torch.manual_seed(cfg.seed)
    model = build_model(arch, num_classes, images.shape[-1], normed_head=uses_normed_head(loss)).to(device)
    criterion = make_loss(loss, cls_counts, cfg.loss_options).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True
        model = model.to(memory_format=torch.channels_last)

    x = to_tensor(images, mean, std, device)
    y_cpu = torch.as_tensor(labels, dtype=torch.long)
    y = y_cpu.to(device)
    pad_value = ((0.0 - torch.as_tensor(np.asarray(mean, np.float32))) /
                 torch.as_tensor(np.asarray(std, np.float32))).to(device)
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
    for epoch in range(start, cfg.epochs):
        t0 = time.perf_counter()
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)
        lr = lr_at(epoch, cfg.epochs, cfg.lr)
        for g in opt.param_groups:
            g["lr"] = lr
        if drw:
            w = drw_weight_for_epoch(cls_counts, epoch, cfg.epochs)
            criterion.set_class_weight(None if w is None else w.to(device))
        model.train()
        perm_cpu = torch.randperm(n, generator=gen)
        perm = perm_cpu.to(device)
        total, correct, seen = torch.zeros((), device=device), torch.zeros((), device=device), 0
        for i in range(0, n, cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            if cfg.remix_alpha:  # balancing uses the CPU copy of the labels: no device sync
                idx = idx[remix_positions(y_cpu[perm_cpu[i:i + cfg.batch_size]], gen).to(device)]
            xb = augment(x[idx], cfg.crop_padding, cfg.flip, gen, pad_value)
            yb = y[idx]
            if cfg.remix_alpha:  # mixup of inputs and one-hot labels: CE is linear in the target
                lam = remix_lambda(cfg.remix_alpha, gen)
                mate = torch.randperm(len(idx), generator=gen).to(device)
                xb = lam * xb + (1 - lam) * xb[mate]
                out, batch_loss = train_step(
                    model, opt, lambda o: lam * criterion(o, yb) + (1 - lam) * criterion(o, yb[mate]), xb)
            else:
                out, batch_loss = train_step(model, opt, lambda o: criterion(o, yb), xb)
            total += batch_loss * len(idx)
            correct += (out.argmax(1) == yb).sum()
            seen += len(idx)
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
    if cfg.select_on == "test" and best is not None:
        model.load_state_dict(best["state"])
        log(f"selected epoch {best['epoch']} (best test macro-F1 {best['score']:.4f}, authors' protocol)")
    model = model.to(memory_format=torch.contiguous_format)
    return model.eval(), history


def run_stage(images_npz: str, indices_csv: str, out_model: str, out_history: str, *, arch: str, loss: str,
              training: dict, loss_options: dict, seed: int, normalize: dict | None = None,
              train_npz: str | None = None, out_predictions: str | None = None, log=print) -> None:
    """The ``train_backbone`` / ``train_pixel_backbone`` rules: train on one cut's images, write the
    weights and the epoch log.

    ``train_npz``: train on these arrays (``x``, ``y``; a pixel-space oversampled set) instead of the
    cut's subset.  ``out_predictions``: also write the network's test-set predictions (Parquet).
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
    if normalize:
        mean, std = normalize["mean"], normalize["std"]
    else:
        mean, std = data.channel_stats()
    cfg = TrainConfig(**training, seed=seed, loss_options=loss_options)
    checkpoint = out_model + ".resume.pt"
    model, history = train_backbone(
        x_train, y_train, num_classes=data.num_classes, arch=arch, loss=loss, cfg=cfg,
        mean=mean, std=std, test_images=data.test_x, test_labels=data.test_y, checkpoint=checkpoint, log=log)
    if out_predictions:  # on the training device, before moving the model off it
        device = next(model.parameters()).device
        pred = predict(model, to_tensor(data.test_x, mean, std, device)).cpu().numpy()
    model = model.cpu()
    save_backbone(out_model, model, arch=arch, num_classes=data.num_classes,
                  in_channels=int(data.train_x.shape[-1]), normed_head=uses_normed_head(loss), loss=loss,
                  mean=[float(v) for v in mean], std=[float(v) for v in std], class_names=data.class_names,
                  select_on=cfg.select_on, epochs=cfg.epochs)
    pd.DataFrame(history).to_csv(out_history, index=False)
    if out_predictions:
        out = pd.DataFrame({"sample_id": np.arange(len(pred)), "label": data.test_y, "pred": pred.astype(np.int64)})
        out.attrs = {"class_names": list(data.class_names), "loss": loss}
        out.to_parquet(out_predictions, index=False)
    if os.path.exists(checkpoint):
        os.remove(checkpoint)
