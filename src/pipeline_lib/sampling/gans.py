"""GAN-based image oversamplers: the baselines of the EOS paper's Table III (GAMO, BAGAN, CGAN).

Written in PyTorch from the papers' descriptions; the authors' public Keras code (IBM/BAGAN and
SankhaSubhra/GAMO) was read for the hyper-parameters and training schedules, no code was copied.

Public API
    GANS, OPTIONS, GanDiverged
    train_gan(name, images, labels, *, num_classes, options, seed, dataset="?", device="cpu", log=print)
    generate(state, counts, *, seed, images=None, labels=None)       -> (uint8 (n, H, W, C), int64 (n,))
    save_generator(path, state) / load_generator(path)
    balance_counts(labels, num_classes) / parameter_count(state)

Data: uint8 (N, H, W, C) images are scaled to [-1, 1] (x / 127.5 - 1) in float32; every generator ends
in tanh (GAMO: a convex combination of real images, so in [-1, 1] too); generate() maps back with
(x + 1) * 127.5, rounded and clipped to 0..255.

Architectures (all three GANs; "DCGAN family", sized by the image):
    levels k: halve the spatial size while it stays even and >= 2 (images <= 16 px) or >= 4 (larger),
    at most 5 times: 8x8 -> 2x2 (k=2), 32x32 -> 4x4 (k=3), 28x28 -> 7x7 (k=2), 64x64 -> 4x4 (k=4).
    generator  z -> Linear -> (width*2^(k-1), h0, w0) -> BN, ReLU -> k x [ConvTranspose 4/2/1 (+BN, ReLU)]
               halving the channels, the last one to C channels -> tanh.
    encoder    k x [Conv 4/2/1 doubling channels from `width`, LeakyReLU 0.2 (+BN / Dropout)] -> flatten
               -> Linear head.  Used as discriminator, classifier and (BAGAN) encoder.
    Weights: DCGAN init N(0, 0.02) for (transposed) convolutions and linear layers of these nets,
    BN weight N(1, 0.02), biases 0 (Radford et al.).  BatchNorm layers are in eval mode (running
    statistics) when generating, so a sample does not depend on what else is generated with it; after
    training a generator's BN statistics are re-estimated as the plain average over 16 training-mode
    passes on fresh noise (batches shaped as its training batches), since the exponential average lags
    behind a generator that changes fast (short runs otherwise generate washed-out images).

BAGAN (Mariani et al. 2018; IBM/BAGAN balancing_gan.py)
    1. autoencoder: encoder (Dropout 0.3, no BN, as the original encoder) -> latent z (latent_dim, linear)
       -> decoder (= the generator); `ae_epochs` epochs of MSE reconstruction, Adam on both.
    2. class-conditional latent: per class c, mean and covariance (unbiased, as np.cov) of the encoder's
       codes of c's training images (encoder in eval mode); stored as mean + Cholesky factor of
       cov + jitter*I (jitter grows x10 from 1e-6*mean variance until the factorisation succeeds; a
       class with one image has covariance 0, only the jitter).
    3. discriminator = the encoder's convolutional trunk (weights copied) + a fresh (C+1)-way softmax
       head, the last class = "fake"; generator = the decoder.
    4. adversarial fine-tuning (`epochs`), per real mini-batch of b images: D step on the b reals (true
       class) + ceil(b/C) generated images (class "fake"), cross-entropy; G step on b + ceil(b/C)
       generated images, cross-entropy towards their conditioning class.  The conditioning classes are
       drawn uniformly over the classes (class-balanced; the code's default "uniform" dratio/gratio).
    Generation: z ~ N(mean_c, cov_c) -> generator.
    Choices where the paper is silent: the DCGAN-family nets above instead of BAGAN's Dense-1024 +
    upsampling/5x5-conv generator and 3x3-conv encoder (LeakyReLU 0.2 instead of Keras' 0.3); new Adam
    states for the adversarial phase (as the code's separately compiled models).

GAMO (Mullick, Datta, Das, ICCV 2019; SankhaSubhra/GAMO dense_gamo_main.py, the pixel-space variant)
    convex generator G = conditional transient mapping unit (cTMU; shared trunk: [noise, one-hot c] ->
    Linear 256, ReLU, BN -> Linear 64, ReLU, BN) + one instance generation unit (IGU) per class:
    Linear(64, n_c) -> softmax = convex weights over the n_c real training images of class c;
    the sample is the weighted sum of those images, so it lies in their convex hull.
    Classifier M (conv encoder, C-way softmax) and conditional discriminator D (conv encoder on the
    image with C one-hot label planes appended, sigmoid).  Per mini-batch of b reals, as the code:
      M step on reals; D step on reals (target 1 - U(0, 0.1));
      b generated samples (G in eval mode, as the code's gen.predict) whose classes are drawn in
      proportion to each class's deficit to the largest class (the code's randomLabelGen); M step on
      them with their class label; D step (target U(0, 0.1));
      G step: max(2, ceil(b/C)) samples for every class with a deficit; loss = MSE(M(x), 1 - onehot(c))
      (the code's form of "be misclassified by M", i.e. the adversarial-to-classifier term) +
      MSE(D(x, c), 1).
    All losses are mean squared errors on the softmax / sigmoid outputs, as in the authors' code (the
    paper writes the game with log-likelihoods).
    Choices: convolutional M and D (the code's MNIST variant uses 256-128 dense nets on flattened
    pixels; its Fashion-MNIST variant works on conv features, not pixels); one G step per mini-batch on
    all deficit classes together instead of one step per class; IGUs exist for every class (the
    majority class's IGU is left untrained, generating from it still gives convex combinations; with
    no imbalance at all every class is trained, drawn uniformly).  Generation needs the very arrays
    trained on: the per-class counts and a SHA-256 of each class's images are stored and checked.

CGAN ("it trains a separate generative model for each class", EOS paper section V-D)
    mode "per_class" (default): one unconditional DCGAN per class trained on that class's images only,
    `epochs` passes over them (ceil(n_c / batch_size) steps per epoch).
    mode "conditional": one conditional DCGAN (Mirza & Osindero 2014): one-hot y concatenated to the
    noise and, as C constant planes, to the discriminator's input; the fakes of a step use the labels
    of the real mini-batch.
    Both: discriminator with BN (not on its first layer), binary cross-entropy on logits, the
    non-saturating generator loss, D step on a real and a fake batch then G step (DCGAN recipe).

Default hyper-parameters (the config schema's `gans` block) and their sources
    bagan  Adam lr 5e-5, beta1 0.5 (beta2 0.999, the Keras default), latent 100 (BalancingGAN defaults);
           batch 32 (bagan_train.py); epochs 150 (run.sh "-e 150"), ae_epochs 150 (train() sets the
           autoencoder epochs to the GAN epochs); dropout 0.3 (encoder); width 64 (our choice).
    gamo   Adam lr 2e-4, beta1 0.5, latent 100, batch 32 (dense_gamo_main.py: Adam(0.0002, 0.5),
           latDim 100, batchSize 32); cTMU 256/64, label smoothing U(0, 0.1) (dense_net.py /
           dense_gamo_main.py).  The code runs max_step 50000 with step += 2, i.e. 25,000 mini-batches
           whatever the data size; we count epochs instead: epochs 100 (our choice); width 64 (ours).
    cgan   DCGAN (Radford et al. 2016): Adam lr 2e-4, beta1 0.5, batch 128, latent 100, N(0, 0.02)
           init, LeakyReLU 0.2; epochs 100 and width 64 are our choice (neither the EOS paper nor
           SA-CGAN [52] give a schedule we could use; the EOS paper gives no GAN hyper-parameters).
    Not found: the EOS authors' GAN baseline code (dd1github/EOS holds no GAN code) and BAGAN's paper
    epochs other than run.sh.

Determinism: training runs inside torch.random.fork_rng seeded with `seed` (weights, batch order,
noise, dropout) without touching the caller's RNG; generate() draws from a torch.Generator seeded with
`seed`.  On CPU the same seed gives byte-identical generator tensors and identical samples.
Divergence: a non-finite epoch-mean loss raises GanDiverged (one line: GAN, data set, epoch, loss).
Every class must have training images (ValueError otherwise).  Speed: the nets are small, so on CPU one
torch thread is fastest (the workflow's runlog.setup pins it); two threads on two busy cores ran ~10x
slower in our measurements.
"""
from __future__ import annotations

import hashlib
import math
import os
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..runtime.orphans import stop_if_orphaned

GANS = ("gamo", "bagan", "cgan")
CGAN_MODES = ("per_class", "conditional")

# the options each GAN reads, in the schema's order (state["options"] keeps it); their defaults live only in
# the config schema's `gans` block (the workflow passes every value; tests and benchmarks fill them with
# pipeline_lib.infra.schema_defaults.gan_options)
OPTIONS = {
    "bagan": ("epochs", "ae_epochs", "batch_size", "lr", "beta1", "beta2", "latent_dim", "width", "dropout"),
    "gamo": ("epochs", "batch_size", "lr", "beta1", "beta2", "latent_dim", "width", "hidden", "transient_dim",
             "label_noise"),
    "cgan": ("mode", "epochs", "batch_size", "lr", "beta1", "beta2", "latent_dim", "width"),
}

_INT_OPTIONS = {"epochs": 1, "ae_epochs": 0, "batch_size": 1, "latent_dim": 1, "width": 1, "hidden": 1,
                "transient_dim": 1}  # name -> smallest value
_GEN_CHUNK = 1024  # images generated per forward pass
_BN_BATCHES = 16  # training-mode passes that re-estimate a generator's BatchNorm statistics after training


class GanDiverged(RuntimeError):
    """A GAN's loss became NaN or infinite during training."""


# --------------------------------------------------------------------------------------------- options

def _check_name(name: str) -> None:
    if name not in GANS:
        raise ValueError(f"unknown GAN {name!r}; expected one of {', '.join(GANS)}")


def _check_options(name: str, options: dict | None) -> dict:
    """``options`` checked (every one of :data:`OPTIONS`, each in range) in :data:`OPTIONS` order."""
    _check_name(name)
    allowed = OPTIONS[name]
    options = dict(options or {})
    for key in options:
        if key not in allowed:
            raise ValueError(f"unknown option {key!r} for GAN {name!r}; allowed: {', '.join(sorted(allowed))}")
    missing = [key for key in allowed if key not in options]
    if missing:
        raise ValueError(f"GAN {name!r} options {missing} missing; pass every option (the workflow fills them "
                         "from the config schema, other code with schema_defaults.gan_options)")
    merged = {key: options[key] for key in allowed}
    for key, value in merged.items():
        if key in _INT_OPTIONS:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < _INT_OPTIONS[key]:
                raise ValueError(f"option {key!r} of GAN {name!r} must be an integer >= {_INT_OPTIONS[key]}, "
                                 f"got {value!r}")
            merged[key] = int(value)
        elif key == "mode":
            if value not in CGAN_MODES:
                raise ValueError(f"option 'mode' of GAN {name!r} must be one of {', '.join(CGAN_MODES)}, "
                                 f"got {value!r}")
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
                raise ValueError(f"option {key!r} of GAN {name!r} must be a number, got {value!r}")
            value = float(value)
            bad = (value <= 0 if key == "lr" else not 0 <= value < 1)
            if bad or math.isnan(value):
                raise ValueError(f"option {key!r} of GAN {name!r} out of range: {value!r}")
            merged[key] = value
    return merged


# --------------------------------------------------------------------------------------------- networks

def _levels(h: int, w: int) -> tuple[int, int, int]:
    """Number of stride-2 levels and the smallest spatial size (h0, w0) of the DCGAN-family nets."""
    floor = 2 if min(h, w) <= 16 else 4
    k = 0
    while h % 2 == 0 and w % 2 == 0 and min(h, w) // 2 >= floor and k < 5:
        h, w, k = h // 2, w // 2, k + 1
    return k, h, w


def _dcgan_init(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class _Generator(nn.Module):
    """z (in_dim) -> image (out_ch, h, w) in [-1, 1]."""

    def __init__(self, in_dim: int, out_ch: int, h: int, w: int, width: int):
        super().__init__()
        k, h0, w0 = _levels(h, w)
        top = width * 2 ** max(k - 1, 0)
        self.top, self.h0, self.w0 = top, h0, w0
        self.fc = nn.Linear(in_dim, top * h0 * w0, bias=False)
        layers: list[nn.Module] = [nn.BatchNorm2d(top), nn.ReLU()]
        ch = top
        for i in range(k):
            last = i == k - 1
            out = out_ch if last else ch // 2
            layers.append(nn.ConvTranspose2d(ch, out, 4, 2, 1, bias=last))
            if not last:
                layers += [nn.BatchNorm2d(out), nn.ReLU()]
            ch = out
        if k == 0:
            layers.append(nn.Conv2d(ch, out_ch, 3, 1, 1))
        layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        _dcgan_init(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(-1, self.top, self.h0, self.w0))


class _Encoder(nn.Module):
    """image (in_ch, h, w) -> out_dim; `trunk` (convolutions + flatten) and `head` (Linear)."""

    def __init__(self, in_ch: int, h: int, w: int, width: int, out_dim: int, *, norm: bool = False,
                 dropout: float = 0.0):
        super().__init__()
        k, h0, w0 = _levels(h, w)
        layers: list[nn.Module] = []
        ch = in_ch
        for i in range(k):
            out = width * 2 ** i
            bn = norm and i > 0
            layers.append(nn.Conv2d(ch, out, 4, 2, 1, bias=not bn))
            if bn:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.LeakyReLU(0.2))
            if dropout:
                layers.append(nn.Dropout(dropout))
            ch = out
        if k == 0:
            layers += [nn.Conv2d(ch, width, 3, 1, 1), nn.LeakyReLU(0.2)]
            ch = width
        self.trunk = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(ch * h0 * w0, out_dim)
        _dcgan_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x))


def _label_planes(x: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """x with the one-hot labels appended as constant planes."""
    onehot = F.one_hot(y, num_classes).to(x.dtype)
    return torch.cat([x, onehot[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])], 1)


class _GamoGenerator(nn.Module):
    """GAMO's convex generator: cTMU trunk shared by all classes + one IGU (convex weights) per class."""

    def __init__(self, latent_dim: int, num_classes: int, class_counts: list[int], hidden: int,
                 transient_dim: int):
        super().__init__()
        self.num_classes = num_classes
        self.trunk = nn.Sequential(
            nn.Linear(latent_dim + num_classes, hidden), nn.ReLU(), nn.BatchNorm1d(hidden),
            nn.Linear(hidden, transient_dim), nn.ReLU(), nn.BatchNorm1d(transient_dim))
        self.igu = nn.ModuleList(nn.Linear(transient_dim, n) for n in class_counts)

    def forward(self, z: torch.Tensor, cls: torch.Tensor, banks: list[torch.Tensor]) -> torch.Tensor:
        """(n, D) samples: for each row the softmax-weighted sum of its class's flattened real images."""
        h = self.trunk(torch.cat([z, F.one_hot(cls, self.num_classes).to(z.dtype)], 1))
        order = torch.argsort(cls, stable=True)
        pieces = []
        for c in torch.unique(cls).tolist():
            idx = order[cls[order] == c]
            weights = torch.softmax(self.igu[c](h[idx]), 1)
            pieces.append(weights @ banks[c])
        return torch.cat(pieces)[torch.argsort(order)]


# --------------------------------------------------------------------------------------------- helpers

def _to_float(images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).to(torch.float32)
    return x / 127.5 - 1.0


def _to_uint8(x: torch.Tensor) -> np.ndarray:
    x = ((x.detach().cpu().to(torch.float32) + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).contiguous().numpy()


def _check_data(images: np.ndarray, labels: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (N, H, W, C), got {images.dtype} {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"labels must be 1-d with one label per image, got {labels.shape} for {len(images)} images")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got {labels.dtype}")
    if int(num_classes) < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}")
    return images, labels.astype(np.int64)


def _fingerprints(images: np.ndarray, labels: np.ndarray, num_classes: int) -> list[str]:
    return [hashlib.sha256(np.ascontiguousarray(images[labels == c]).tobytes()).hexdigest()
            for c in range(num_classes)]


def _batches(n: int, batch_size: int):
    perm = torch.randperm(n)
    for start in range(0, n, batch_size):
        yield perm[start:start + batch_size]


def _adam(params, o: dict) -> torch.optim.Adam:
    return torch.optim.Adam(params, lr=o["lr"], betas=(o["beta1"], o["beta2"]))


def _cpu_state(module: nn.Module) -> dict:
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def _recalibrate_bn(module: nn.Module, forward, batches: int = _BN_BATCHES) -> None:
    """Re-estimate the BatchNorm running statistics of the trained `module` as the plain average over
    `batches` fresh training-mode forward passes (`forward()`, no gradients), so that eval-mode generation
    matches the final generator rather than the exponential average lagging behind training."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    module.train()
    with torch.no_grad():
        for _ in range(batches):
            forward()
    for m, momentum in zip(norms, saved):
        m.momentum = momentum
    module.eval()


class _Epoch:
    """Sums of the losses over an epoch (detached tensors, no per-step sync), checked when it closes."""

    def __init__(self, ctx: dict, epoch: int, **extra):
        self.ctx, self.epoch, self.extra = ctx, epoch, extra
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, name: str, loss: torch.Tensor) -> None:
        self.sums[name] = self.sums.get(name, 0.0) + loss.detach()
        self.counts[name] = self.counts.get(name, 0) + 1

    def close(self, suffix: str = "") -> dict:
        row = {"epoch": self.epoch, **self.extra}
        for name, total in self.sums.items():
            value = float(total) / self.counts[name]
            if not math.isfinite(value):
                _diverged(self.ctx, self.epoch, f"{name}{suffix}", value)
            row[name] = value
        self.ctx["history"].append(row)
        return row


def _diverged(ctx: dict, epoch: int, what: str, value: float):
    raise GanDiverged(f"GAN {ctx['gan']!r} diverged on data set {ctx['dataset']!r} at epoch {epoch}: "
                      f"{what} is {value}")


def _log_epoch(ctx: dict, epochs: int, row: dict, prefix: str = "") -> None:
    epoch = row["epoch"]
    stop_if_orphaned(epoch, epochs, None, ctx["log"])  # every GAN loop's epoch ends here
    if epoch == epochs or epoch % max(1, epochs // 5) == 0:
        losses = " ".join(f"{k}={v:.4f}" for k, v in row.items() if isinstance(v, float))
        ctx["log"](f"[{ctx['gan']}] {ctx['dataset']} {prefix}epoch {epoch}/{epochs} {losses}")


# --------------------------------------------------------------------------------------------- BAGAN

def _class_gaussians(codes: torch.Tensor, y: torch.Tensor, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    d = codes.shape[1]
    means, chols = [], []
    eye = torch.eye(d, dtype=torch.float64)
    for c in range(num_classes):
        zc = codes[y == c].to(torch.float64)
        mu = zc.mean(0)
        cov = (zc - mu).T @ (zc - mu) / (len(zc) - 1) if len(zc) > 1 else torch.zeros(d, d, dtype=torch.float64)
        jitter = 1e-6 * max(float(cov.diagonal().mean()), 1e-6)
        for _ in range(20):
            chol, info = torch.linalg.cholesky_ex(cov + jitter * eye)
            if int(info) == 0:
                break
            jitter *= 10
        means.append(mu)
        chols.append(chol)
    return torch.stack(means).to(torch.float32), torch.stack(chols).to(torch.float32)


def _bagan_latent(means: torch.Tensor, chols: torch.Tensor, cls: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    return means[cls] + torch.einsum("bij,bj->bi", chols[cls], eps)


def _generator_step(opt_g, loss_g: torch.Tensor, disc: nn.Module, acc: "_Epoch", loss_d: torch.Tensor) -> None:
    """One generator update (the discriminator frozen by the caller is unfrozen again); both losses logged."""
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    disc.requires_grad_(True)
    acc.add("d_loss", loss_d)
    acc.add("g_loss", loss_g)


def _train_bagan(x, y, C, o, dev, ctx) -> dict:
    n, ch, h, w = x.shape
    bs, d = o["batch_size"], o["latent_dim"]
    enc = _Encoder(ch, h, w, o["width"], d, dropout=o["dropout"]).to(dev)
    gen = _Generator(d, ch, h, w, o["width"]).to(dev)
    opt = _adam(list(enc.parameters()) + list(gen.parameters()), o)
    for epoch in range(1, o["ae_epochs"] + 1):
        acc = _Epoch(ctx, epoch, phase="autoencoder")
        for idx in _batches(n, bs):
            xb = x[idx].to(dev)
            loss = F.mse_loss(gen(enc(xb)), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            acc.add("ae_loss", loss)
        _log_epoch(ctx, o["ae_epochs"], acc.close(" (autoencoder pre-training)"), "autoencoder ")

    enc.eval()
    with torch.no_grad():
        codes = torch.cat([enc(x[i:i + 1024].to(dev)).cpu() for i in range(0, n, 1024)])
    if not torch.isfinite(codes).all():
        _diverged(ctx, o["ae_epochs"], "the encoder's latent codes", float(codes[~torch.isfinite(codes)][0]))
    means, chols = _class_gaussians(codes, y, C)
    means_d, chols_d = means.to(dev), chols.to(dev)

    disc = _Encoder(ch, h, w, o["width"], C + 1, dropout=o["dropout"]).to(dev)
    disc.trunk.load_state_dict(enc.trunk.state_dict())
    del enc
    opt_d, opt_g = _adam(disc.parameters(), o), _adam(gen.parameters(), o)
    fake_class = C
    for epoch in range(1, o["epochs"] + 1):
        acc = _Epoch(ctx, epoch, phase="gan")
        for idx in _batches(n, bs):
            xb, yb = x[idx].to(dev), y[idx].to(dev)
            b = len(idx)
            nf = math.ceil(b / C)
            cls = torch.randint(C, (nf,)).to(dev)
            with torch.no_grad():
                fake = gen(_bagan_latent(means_d, chols_d, cls, torch.randn(nf, d).to(dev)))
            target = torch.cat([yb, torch.full((nf,), fake_class, dtype=torch.int64, device=dev)])
            loss_d = F.cross_entropy(disc(torch.cat([xb, fake])), target)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()

            cls = torch.randint(C, (nf + b,)).to(dev)
            disc.requires_grad_(False)
            loss_g = F.cross_entropy(disc(gen(_bagan_latent(means_d, chols_d, cls, torch.randn(nf + b, d).to(dev)))),
                                     cls)
            _generator_step(opt_g, loss_g, disc, acc, loss_d)
        _log_epoch(ctx, o["epochs"], acc.close(), "gan ")
    nb = bs + math.ceil(bs / C)
    _recalibrate_bn(gen, lambda: gen(_bagan_latent(means_d, chols_d, torch.randint(C, (nb,)).to(dev),
                                                   torch.randn(nb, d).to(dev))))
    return {"generator": {"decoder": _cpu_state(gen)}, "latent": {"means": means, "chol": chols}}


# --------------------------------------------------------------------------------------------- GAMO

def _train_gamo(x, y, C, o, dev, ctx) -> dict:
    n, ch, h, w = x.shape
    bs, d, noise = o["batch_size"], o["latent_dim"], o["label_noise"]
    counts = torch.bincount(y, minlength=C)
    banks = [x[y == c].reshape(int(counts[c]), -1).to(dev) for c in range(C)]
    deficit = (counts.max() - counts).to(torch.float64)
    if deficit.sum() == 0:  # no imbalance: train every class's IGU, drawn uniformly
        deficit = torch.ones(C, dtype=torch.float64)
    probs = deficit / deficit.sum()
    minority = torch.nonzero(deficit > 0).squeeze(1)

    gen = _GamoGenerator(d, C, counts.tolist(), o["hidden"], o["transient_dim"]).to(dev)
    clf = _Encoder(ch, h, w, o["width"], C).to(dev)
    disc = _Encoder(ch + C, h, w, o["width"], 1).to(dev)
    opt_g, opt_m, opt_d = _adam(gen.parameters(), o), _adam(clf.parameters(), o), _adam(disc.parameters(), o)

    def step(opt, loss):
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def m_loss(xb, yb):
        return F.mse_loss(torch.softmax(clf(xb), 1), F.one_hot(yb, C).to(xb.dtype))

    def d_out(xb, yb):
        return torch.sigmoid(disc(_label_planes(xb, yb, C))).squeeze(1)

    per_class = max(2, math.ceil(bs / C))
    g_cls = minority.repeat_interleave(per_class).to(dev)
    for epoch in range(1, o["epochs"] + 1):
        acc = _Epoch(ctx, epoch)
        for idx in _batches(n, bs):
            xb, yb = x[idx].to(dev), y[idx].to(dev)
            b = len(idx)
            loss = m_loss(xb, yb)
            step(opt_m, loss)
            acc.add("m_loss", loss)
            real_t = (1.0 - torch.rand(b) * noise).to(dev)
            loss = F.mse_loss(d_out(xb, yb), real_t)
            step(opt_d, loss)
            acc.add("d_loss", loss)

            nf = max(b, 2)
            cf = torch.multinomial(probs, nf, replacement=True).to(dev)
            z = torch.randn(nf, d).to(dev)
            gen.eval()  # as Keras' gen.predict in the authors' code: BN running statistics, no update
            with torch.no_grad():
                xf = gen(z, cf, banks).view(nf, ch, h, w)
            gen.train()
            loss = m_loss(xf, cf)
            step(opt_m, loss)
            acc.add("m_loss", loss)
            fake_t = (torch.rand(nf) * noise).to(dev)
            loss = F.mse_loss(d_out(xf, cf), fake_t)
            step(opt_d, loss)
            acc.add("d_loss", loss)

            clf.requires_grad_(False)
            disc.requires_grad_(False)
            z = torch.randn(len(g_cls), d).to(dev)
            xg = gen(z, g_cls, banks).view(-1, ch, h, w)
            loss_cls = F.mse_loss(torch.softmax(clf(xg), 1), 1.0 - F.one_hot(g_cls, C).to(xg.dtype))
            loss_adv = F.mse_loss(d_out(xg, g_cls), torch.ones(len(g_cls), device=dev))
            step(opt_g, loss_cls + loss_adv)
            clf.requires_grad_(True)
            disc.requires_grad_(True)
            acc.add("g_loss", loss_cls + loss_adv)
            acc.add("g_cls_loss", loss_cls)
            acc.add("g_adv_loss", loss_adv)
        _log_epoch(ctx, o["epochs"], acc.close())
    _recalibrate_bn(gen, lambda: gen(torch.randn(len(g_cls), d).to(dev), g_cls, banks))
    gstate = _cpu_state(gen)
    return {"generator": {"trunk": {k[len("trunk."):]: v for k, v in gstate.items() if k.startswith("trunk.")},
                          "igu": [{"weight": gstate[f"igu.{c}.weight"], "bias": gstate[f"igu.{c}.bias"]}
                                  for c in range(C)]}}


# --------------------------------------------------------------------------------------------- CGAN

def _dcgan_steps(gen, disc, opt_g, opt_d, xb, z, acc, cond=None, C=0):
    """One DCGAN update: D on a real and a fake batch, then the non-saturating G step."""
    b = len(xb)
    ones, zeros = torch.ones(b, device=xb.device), torch.zeros(b, device=xb.device)
    if cond is None:
        fake = gen(z)
        d_real, d_fake = disc(xb).squeeze(1), disc(fake.detach()).squeeze(1)
    else:
        fake = gen(torch.cat([z, F.one_hot(cond, C).to(z.dtype)], 1))
        d_real = disc(_label_planes(xb, cond, C)).squeeze(1)
        d_fake = disc(_label_planes(fake.detach(), cond, C)).squeeze(1)
    loss_d = F.binary_cross_entropy_with_logits(d_real, ones) + F.binary_cross_entropy_with_logits(d_fake, zeros)
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    disc.requires_grad_(False)
    out = disc(fake if cond is None else _label_planes(fake, cond, C)).squeeze(1)
    loss_g = F.binary_cross_entropy_with_logits(out, ones)
    _generator_step(opt_g, loss_g, disc, acc, loss_d)


def _train_cgan(x, y, C, o, dev, ctx) -> dict:
    n, ch, h, w = x.shape
    bs, d = o["batch_size"], o["latent_dim"]
    if o["mode"] == "conditional":
        gen = _Generator(d + C, ch, h, w, o["width"]).to(dev)
        disc = _Encoder(ch + C, h, w, o["width"], 1, norm=True).to(dev)
        opt_g, opt_d = _adam(gen.parameters(), o), _adam(disc.parameters(), o)
        for epoch in range(1, o["epochs"] + 1):
            acc = _Epoch(ctx, epoch)
            for idx in _batches(n, bs):
                xb, yb = x[idx].to(dev), y[idx].to(dev)
                _dcgan_steps(gen, disc, opt_g, opt_d, xb, torch.randn(len(idx), d).to(dev), acc, yb, C)
            _log_epoch(ctx, o["epochs"], acc.close())
        nb = min(bs, n)

        def draw():
            cls = y[torch.randint(n, (nb,))].to(dev)  # labels as the training batches have them
            return gen(torch.cat([torch.randn(nb, d).to(dev), F.one_hot(cls, C).to(torch.float32)], 1))
        _recalibrate_bn(gen, draw)
        return {"generator": {"conditional": _cpu_state(gen)}}

    states = []
    for c in range(C):
        xc = x[y == c]
        gen = _Generator(d, ch, h, w, o["width"]).to(dev)
        disc = _Encoder(ch, h, w, o["width"], 1, norm=True).to(dev)
        opt_g, opt_d = _adam(gen.parameters(), o), _adam(disc.parameters(), o)
        for epoch in range(1, o["epochs"] + 1):
            acc = _Epoch(ctx, epoch, **{"class": c})
            for idx in _batches(len(xc), bs):
                _dcgan_steps(gen, disc, opt_g, opt_d, xc[idx].to(dev), torch.randn(len(idx), d).to(dev), acc)
            _log_epoch(ctx, o["epochs"], acc.close(f" (class {c})"), f"class {c} ")
        nb = min(bs, len(xc))
        _recalibrate_bn(gen, lambda: gen(torch.randn(nb, d).to(dev)))
        states.append(_cpu_state(gen))
    return {"generator": {"per_class": states}}


# --------------------------------------------------------------------------------------------- public API

def train_gan(name: str, images: np.ndarray, labels: np.ndarray, *, num_classes: int, options: dict, seed: int,
              dataset: str = "?", device: str = "cpu", log=print) -> dict:
    """Train GAN `name` on uint8 (N, H, W, C) `images` with int labels 0..num_classes-1.

    Returns a torch.save-able state: gan, options (checked, in OPTIONS order), image_shape (H, W, C), num_classes,
    generator (state dicts), history (per-epoch losses), seconds, class_counts, seed, dataset (+ BAGAN's
    class Gaussians 'latent', GAMO's 'class_fingerprints').  Raises GanDiverged on a NaN/inf loss.
    """
    o = _check_options(name, options)
    images, labels = _check_data(images, labels, num_classes)
    C = int(num_classes)
    counts = np.bincount(labels, minlength=C)
    if (counts == 0).any():
        raise ValueError(f"GAN {name!r} on data set {dataset!r}: classes without training images: "
                         f"{np.flatnonzero(counts == 0).tolist()}")
    dev = torch.device(device)
    ctx = {"gan": name, "dataset": dataset, "log": log, "history": []}
    x, y = _to_float(images), torch.from_numpy(labels)
    start = time.perf_counter()
    fork = [dev.index if dev.index is not None else torch.cuda.current_device()] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=fork):
        torch.manual_seed(int(seed))
        trainer = {"bagan": _train_bagan, "gamo": _train_gamo, "cgan": _train_cgan}[name]
        result = trainer(x, y, C, o, dev, ctx)
    state = {
        "gan": name, "options": o, "image_shape": tuple(int(s) for s in images.shape[1:]), "num_classes": C,
        "history": ctx["history"], "seconds": time.perf_counter() - start,
        "class_counts": [int(v) for v in counts], "seed": int(seed), "dataset": dataset, **result,
    }
    if name == "gamo":
        state["class_fingerprints"] = _fingerprints(images, labels, C)
    return state


def save_generator(path: str, state: dict) -> None:
    """Write `state` to `path` atomically (a temporary file in the same folder, then os.replace)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp_", suffix=".pt", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(state, fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_generator(path: str) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def _check_counts(counts: dict, C: int) -> list[tuple[int, int]]:
    out = []
    for c, k in counts.items():
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 <= int(c) < C:
            raise ValueError(f"class {c!r} is not one of 0..{C - 1}")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or int(k) < 0:
            raise ValueError(f"count for class {c} must be a non-negative integer, got {k!r}")
        if int(k):
            out.append((int(c), int(k)))
    return sorted(out)


def generate(state: dict, counts: dict[int, int], *, seed: int, images: np.ndarray | None = None,
             labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """counts[c] new images of class c (classes in ascending order): uint8 (n, H, W, C), int64 (n,)."""
    name, o, C = state["gan"], state["options"], int(state["num_classes"])
    _check_name(name)
    h, w, ch = state["image_shape"]
    todo = _check_counts(counts, C)
    g = torch.Generator().manual_seed(int(seed))
    d = o["latent_dim"]

    if name == "gamo":
        if images is None or labels is None:
            raise ValueError("GAMO generates convex combinations of real images: pass the training images and "
                             "labels it was trained on (images=..., labels=...)")
        images, labels = _check_data(images, labels, C)
        if tuple(images.shape[1:]) != (h, w, ch):
            raise ValueError(f"images have shape {images.shape[1:]}, GAMO was trained on {(h, w, ch)}")
        given = np.bincount(labels, minlength=C).tolist()
        if given != list(state["class_counts"]):
            raise ValueError(f"the images/labels are not the ones GAMO was trained on: class counts {given} != "
                             f"{state['class_counts']}")
        if _fingerprints(images, labels, C) != state["class_fingerprints"]:
            raise ValueError("the images/labels are not the ones GAMO was trained on (their content differs)")
        net = _GamoGenerator(d, C, state["class_counts"], o["hidden"], o["transient_dim"])
        net.trunk.load_state_dict(state["generator"]["trunk"])
        for c, sd in enumerate(state["generator"]["igu"]):
            net.igu[c].load_state_dict(sd)
        x = _to_float(images)
        y = torch.from_numpy(labels)
        banks = {c: x[y == c].reshape(int((y == c).sum()), -1) for c, _ in todo}

        def sample(c, k):
            z = torch.randn(k, d, generator=g)
            return net(z, torch.full((k,), c, dtype=torch.int64), banks).view(k, ch, h, w)
    elif name == "bagan":
        net = _Generator(d, ch, h, w, o["width"])
        net.load_state_dict(state["generator"]["decoder"])
        means, chols = state["latent"]["means"], state["latent"]["chol"]

        def sample(c, k):
            cls = torch.full((k,), c, dtype=torch.int64)
            return net(_bagan_latent(means, chols, cls, torch.randn(k, d, generator=g)))
    else:
        gsd = state["generator"]
        if o["mode"] == "conditional":
            net = _Generator(d + C, ch, h, w, o["width"])
            net.load_state_dict(gsd["conditional"])

            def sample(c, k):
                z = torch.randn(k, d, generator=g)
                return net(torch.cat([z, F.one_hot(torch.full((k,), c), C).to(z.dtype)], 1))
        else:
            nets = []
            for sd in gsd["per_class"]:
                nets.append(_Generator(d, ch, h, w, o["width"]))
                nets[-1].load_state_dict(sd)
                nets[-1].eval()
            net = nn.ModuleList(nets)

            def sample(c, k):
                return nets[c](torch.randn(k, d, generator=g))

    net.eval()
    out_x, out_y = [], []
    with torch.no_grad():
        for c, k in todo:
            for start in range(0, k, _GEN_CHUNK):
                m = min(_GEN_CHUNK, k - start)
                out_x.append(_to_uint8(sample(c, m)))
            out_y.append(np.full(k, c, dtype=np.int64))
    if not out_x:
        return np.zeros((0, h, w, ch), dtype=np.uint8), np.zeros(0, dtype=np.int64)
    return np.concatenate(out_x), np.concatenate(out_y)


def balance_counts(labels: np.ndarray, num_classes: int) -> dict[int, int]:
    """New images per class that bring every class up to the largest one."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=int(num_classes))
    top = int(counts.max()) if len(counts) else 0
    return {c: top - int(counts[c]) for c in range(int(num_classes))}


_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def _count(obj) -> int:
    if isinstance(obj, dict):
        return sum(_count(v) for k, v in obj.items() if not str(k).endswith(_BUFFERS))
    if isinstance(obj, (list, tuple)):
        return sum(_count(v) for v in obj)
    if isinstance(obj, torch.Tensor):
        return obj.numel()
    return 0


def parameter_count(state: dict) -> int:
    """Learnable generator parameters (all per-class generators together; BN running statistics, BAGAN's
    class Gaussians and GAMO's real-image banks are not counted)."""
    return _count(state["generator"])


# --------------------------------------------------------------------------------------------- pipeline stages

def train_stage(images_npz: str, indices_csv: str, out_generator: str, out_log: str, *, gan: str, options: dict,
                seed: int, dataset: str, device: str = "auto", log=print) -> dict:
    """The ``train_gan`` rule: train GAN ``gan`` on one cut's training images; write the generator state
    (:func:`save_generator`, without the wall time, so that the same seed writes the same bytes on the
    CPU) and the per-epoch losses (CSV, with the wall seconds and the generator's parameter count in the
    last columns of every row)."""
    import pandas as pd

    from .oversampling import cut_images
    from ..core.devices import pick_device

    data, x, y = cut_images(images_npz, indices_csv)
    dev = pick_device(device)
    state = train_gan(gan, x, y, num_classes=data.num_classes, options=options, seed=seed, dataset=dataset,
                      device=str(dev), log=log)
    seconds = state.pop("seconds")  # the file holds what the seed determines: same seed, same bytes (CPU)
    save_generator(out_generator, state)
    hist = pd.DataFrame(state["history"])
    hist["seconds_total"] = seconds
    hist["generator_parameters"] = parameter_count(state)
    hist.to_csv(out_log, index=False)
    log(f"{gan}: trained in {seconds:.1f} s on {dev}, {parameter_count(state)} generator parameters")
    return state


def sample_stage(images_npz: str, indices_csv: str, generator: str, out_npz: str, *, seed: int, log=print) -> None:
    """The ``sample_gan`` rule: balance one cut's training images with its trained generator (every class
    up to the largest, :func:`balance_counts`), in the format of the pixel-space oversamplers
    (:func:`pipeline_lib.sampling.oversampling.resample_images_file`): ``x`` (originals first, then the generated
    images by class), ``y``, ``is_synthetic``, ``sampler_meta`` (JSON)."""
    from .oversampling import cut_images, write_balanced_images

    data, x, y = cut_images(images_npz, indices_csv)
    state = load_generator(generator)
    if tuple(state["image_shape"]) != tuple(x.shape[1:]) or int(state["num_classes"]) != data.num_classes:
        raise ValueError(f"{generator}: generator for images {tuple(state['image_shape'])} and "
                         f"{state['num_classes']} classes, the cut has {tuple(x.shape[1:])} and {data.num_classes}")
    counts = balance_counts(y, data.num_classes)
    new_x, new_y = generate(state, counts, seed=seed, images=x, labels=y)
    x_out, y_out = np.concatenate([x, new_x]), np.concatenate([y.astype(np.int64), new_y])
    syn = np.r_[np.zeros(len(x), bool), np.ones(len(new_x), bool)]
    record = {"sampler": state["gan"], "sampler_options": state["options"], "sampler_seed": int(seed),
              "generator_seed": int(state["seed"]),
              "class_counts_before": np.bincount(y, minlength=data.num_classes).tolist(),
              "class_counts_after": np.bincount(y_out, minlength=data.num_classes).tolist()}
    record["balanced"] = len(set(record["class_counts_after"])) == 1
    log(f"{state['gan']}: {len(x)} images -> {len(x_out)}; class counts {record['class_counts_after']}")
    write_balanced_images(out_npz, x_out, y_out, syn, record)
