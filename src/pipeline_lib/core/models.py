"""CNN backbones for the image experiments: CIFAR ResNets, WideResNets and DenseNet-BC.

**ResNet** (He et al. 2016, §4.2; Idelbayev's implementation as used by LDAM-DRW and EOS), arch
``resnet20|32|44|56|110``: conv3x3(in->16)+BN+ReLU, three stages of BasicBlocks with 16/32/64 channels and
strides 1/2/2, (depth-2)/6 blocks per stage (resnet32: 5, resnet56: 9), option-A shortcuts (stride-2
subsampling and zero-padded channels, no 1x1 conv), global average pooling to a 64-d non-negative feature
(``FEATURE_DIM``).

**WideResNet** WRN-d-k (Zagoruyko & Komodakis 2016), arch ``wrn<d>_<k>`` with (d-4) % 6 == 0: conv3x3(in->16),
three groups of (d-4)/6 pre-activation wide basic blocks (BN-ReLU-conv3x3-BN-ReLU-conv3x3, dropout 0) with
16k/32k/64k channels and strides 1/2/2, a 1x1 conv shortcut (on the pre-activated input) where the shape
changes, then BN+ReLU and global average pooling to a 64k-d feature.

**DenseNet-BC** (Huang et al. 2017, bottleneck + compression 0.5), arch ``densenet<L>_<k>`` with
(L-4) % 6 == 0 and L >= 16 (k = growth rate): conv3x3(in->2k), three dense blocks of (L-4)/6 bottleneck
layers (BN-ReLU-conv1x1(4k)-BN-ReLU-conv3x3(k), output concatenated to the input), between them transitions
BN-ReLU-conv1x1(floor(c/2))-avgpool2, then BN+ReLU and global average pooling; the feature width is the
channel count that comes out (2k + 3nk with two halvings: 342 for densenet100_12).  L >= 16 (two layers per
block) because a one-layer block has no dense connectivity; densenet10_* is refused.

Every model has ``feature_dim``, ``features(x)`` (the extractor: post-ReLU, pooled, non-negative, shape
(N, feature_dim); phase 1 / embedding export) and ``head`` (``nn.Linear(feature_dim, C)`` or, for LDAM, the
cosine ``NormedLinear(feature_dim, C)``; replaced by a retrained head in phase 3, see :func:`reassemble`).
Conv and Linear weights are Kaiming-normal initialised, BatchNorm weight 1 / bias 0 (PyTorch's default).
:func:`check_arch` validates a name, :func:`feature_dim` gives the width without building the network.

Parameter counts (10 classes, 3 input channels; ``sum(p.numel() for p in build_model(arch, 10).parameters())``):

    ===================  ==========  ===========  =========================================
    arch                 parameters  feature_dim  published
    ===================  ==========  ===========  =========================================
    resnet56                853,018           64  0.85M (He et al. 2016)
    densenet40_12 (BC)      176,122          132  --
    densenet100_12 (BC)     769,162          342  0.8M (Huang et al. 2017, rounded up)
    wrn16_4               2,748,890          256  2.7M (Zagoruyko & Komodakis 2016)
    wrn22_4               4,298,970          256  --
    wrn28_2               1,467,610          128  --
    wrn28_4               5,849,050          256  --
    wrn28_10             36,479,194          640  36.5M (Zagoruyko & Komodakis 2016)
    wrn40_2               2,243,546          128  2.2M (Zagoruyko & Komodakis 2016)
    ===================  ==========  ===========  =========================================

(densenet250_24: 15,324,406 and densenet190_40: 25,624,430, the published 15.3M / 25.6M; so the 0.77M of
densenet100_12 is the published "0.8M", rounded.)

Paper configuration (EOS §V-E4, Table V: ResNet-56, a WideResNet with "approx. 5X the number of parameters
as the other two models", a DenseNet): ``resnet56`` (0.85M), ``densenet100_12`` (0.77M, the standard CIFAR
DenseNet-BC, the same size as ResNet-56 so "the other two" are alike) and ``wrn22_4`` (4.30M = 5.0x
resnet56, 5.6x densenet100_12), of the usual CIFAR WRNs (depth 16/22/28/40, width 2/4/8/10) the one closest to
"approx. 5X": wrn16_4 is 3.2x, wrn40_2 2.6x, wrn28_2 1.7x, wrn28_4 6.9x / 7.6x, wrn16_8 (11.0M) 13x,
wrn28_10 43x.  densenet40_12 (BC, 0.18M) would make the WRN ~24x one
of the two, so it is unlikely.  The authors' code (dd1github/EOS) has no WRN/DenseNet, so this is inferred.

Demo variants (8x8 one-channel digits, CPU): ``wrn10_1`` (77.6k parameters with 1 channel, one block per
group, 64-d feature like the resnets, ~15 ms per training step of 128 images on 2 cores vs ~35 ms for
resnet20) and ``densenet16_8`` (20k parameters, two layers per block, 32-d feature, ~22 ms per step).
"""
from __future__ import annotations

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

# the names and widths are torch-free (plan-time config checks need no torch)
from .arch_names import FEATURE_DIM, densenet_widths, parse_arch


def _init(m: nn.Module) -> None:
    if isinstance(m, (nn.Linear, nn.Conv2d)):
        nn.init.kaiming_normal_(m.weight)


def _make_head(dim: int, num_classes: int, normed_head: bool) -> nn.Module:
    return NormedLinear(dim, num_classes) if normed_head else nn.Linear(dim, num_classes)


def class_weight_rows(weight, normed_head: bool):
    """A head's weight as (classes, features), one row per class: ``nn.Linear`` stores it so,
    :class:`NormedLinear` (LDAM's cosine head) as (features, classes).  Numpy or torch, not copied."""
    return weight.T if normed_head else weight


class NormedLinear(nn.Module):
    """Cosine classifier: logits = normalize(x) @ normalize(W, dim=0) (no bias), LDAM-DRW's head."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.weight.data.uniform_(-1, 1).renorm_(2, 1, 1e-5).mul_(1e5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=1).mm(F.normalize(self.weight, dim=0))


# ------------------------------------------------------------------------------------------------ ResNet


class _ShortcutA(nn.Module):
    def __init__(self, planes: int):
        super().__init__()
        self.pad = planes // 4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))


class BasicBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = _ShortcutA(planes) if stride != 1 or in_planes != planes else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNetCifar(nn.Module):
    def __init__(self, depth: int = 32, num_classes: int = 10, in_channels: int = 3, normed_head: bool = False):
        super().__init__()
        if (depth - 2) % 6:
            raise ValueError(f"CIFAR ResNet depth must be 6n+2, got {depth}")
        n = (depth - 2) // 6
        self.feature_dim = FEATURE_DIM
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, in_planes = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for s in [stride] + [1] * (n - 1):
                blocks.append(BasicBlock(in_planes, planes, s))
                in_planes = planes
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.head = _make_head(self.feature_dim, num_classes, normed_head)
        self.apply(_init)  # NormedLinear is not an nn.Linear: it keeps its own init

    def features(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return F.adaptive_avg_pool2d(out, 1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


# -------------------------------------------------------------------------------------------- WideResNet


class WideBasicBlock(nn.Module):
    """Pre-activation wide basic block: BN-ReLU-conv3x3(stride)-BN-ReLU-conv3x3 (+ dropout between the convs
    when ``dropout`` > 0), shortcut identity or, where the shape changes, a 1x1 conv of the pre-activated
    input (as in the authors' code)."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1, dropout: float = 0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.dropout = float(dropout)
        self.shortcut = (nn.Conv2d(in_planes, planes, 1, stride, 0, bias=False)
                         if stride != 1 or in_planes != planes else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = F.relu(self.bn1(x))
        out = self.conv1(pre)
        out = F.relu(self.bn2(out))
        if self.dropout > 0:
            out = F.dropout(out, p=self.dropout, training=self.training)
        out = self.conv2(out)
        return out + (x if self.shortcut is None else self.shortcut(pre))


class WideResNet(nn.Module):
    """WRN-depth-widen (CIFAR): widths 16, 16k, 32k, 64k; (depth-4)/6 blocks per group; 64k-d feature."""

    def __init__(self, depth: int = 28, widen: int = 10, num_classes: int = 10, in_channels: int = 3,
                 normed_head: bool = False, dropout: float = 0.0):
        super().__init__()
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f"WideResNet depth must be 6n+4 with n >= 1, got {depth}")
        n = (depth - 4) // 6
        widths = (16 * widen, 32 * widen, 64 * widen)
        self.feature_dim = widths[-1]
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        groups, in_planes = [], 16
        for planes, stride in zip(widths, (1, 2, 2)):
            blocks = []
            for s in [stride] + [1] * (n - 1):
                blocks.append(WideBasicBlock(in_planes, planes, s, dropout))
                in_planes = planes
            groups.append(nn.Sequential(*blocks))
        self.block1, self.block2, self.block3 = groups
        self.bn = nn.BatchNorm2d(self.feature_dim)
        self.head = _make_head(self.feature_dim, num_classes, normed_head)
        self.apply(_init)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = F.relu(self.bn(out))
        return F.adaptive_avg_pool2d(out, 1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


# ------------------------------------------------------------------------------------------ DenseNet-BC


class _Bottleneck(nn.Module):
    """BN-ReLU-conv1x1(4k)-BN-ReLU-conv3x3(k); the k new maps are concatenated to the input."""

    def __init__(self, in_planes: int, growth: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, 4 * growth, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, 1, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return torch.cat([x, out], 1)


class _Transition(nn.Module):
    """BN-ReLU-conv1x1(out)-avgpool2."""

    def __init__(self, in_planes: int, out_planes: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_planes)
        self.conv = nn.Conv2d(in_planes, out_planes, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(self.conv(F.relu(self.bn(x))), 2)


class DenseNetBC(nn.Module):
    """DenseNet-BC-depth-growth (CIFAR): 3 dense blocks of (depth-4)/6 bottleneck layers, compression 0.5."""

    def __init__(self, depth: int = 100, growth: int = 12, num_classes: int = 10, in_channels: int = 3,
                 normed_head: bool = False):
        super().__init__()
        if depth < 16 or (depth - 4) % 6:
            raise ValueError(f"DenseNet-BC depth must be 6n+4 with n >= 2, got {depth}")
        n = (depth - 4) // 6
        first, widths = densenet_widths(depth, growth)
        self.conv1 = nn.Conv2d(in_channels, first, 3, 1, 1, bias=False)
        c = first
        for i in range(3):
            block = nn.Sequential(*[_Bottleneck(c + j * growth, growth) for j in range(n)])
            setattr(self, f"block{i + 1}", block)
            c += n * growth
            if i < 2:
                setattr(self, f"trans{i + 1}", _Transition(c, widths[i]))
                c = widths[i]
        self.feature_dim = c
        self.bn = nn.BatchNorm2d(c)
        self.head = _make_head(self.feature_dim, num_classes, normed_head)
        self.apply(_init)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        out = self.trans1(self.block1(self.conv1(x)))
        out = self.trans2(self.block2(out))
        out = F.relu(self.bn(self.block3(out)))
        return F.adaptive_avg_pool2d(out, 1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


# ----------------------------------------------------------------------------------------------- common

Backbone = ResNetCifar | WideResNet | DenseNetBC


def build_model(arch: str, num_classes: int, in_channels: int = 3, normed_head: bool = False) -> Backbone:
    """The network named ``arch`` (see :func:`check_arch`; ValueError on any other name)."""
    family, depth, k = parse_arch(arch)
    if family == "resnet":
        return ResNetCifar(depth, num_classes, in_channels, normed_head)
    if family == "wrn":
        return WideResNet(depth, k, num_classes, in_channels, normed_head)
    return DenseNetBC(depth, k, num_classes, in_channels, normed_head)


def reassemble(model: Backbone, head: nn.Module) -> Backbone:
    """Phase-3 network: a copy of the trained extractor with ``head`` as its classifier."""
    out = copy.deepcopy(model)
    out.head = copy.deepcopy(head)
    return out


def save_backbone(path: str, model: Backbone, **meta) -> None:
    """Weights plus what is needed to rebuild the network (arch, classes, channels, head type)."""
    torch.save({"state_dict": model.state_dict(), **meta}, path)


def load_backbone(path: str, map_location="cpu") -> tuple[Backbone, dict]:
    """Rebuild any architecture from the saved meta (``arch`` string) and load its weights."""
    ckpt = torch.load(path, map_location=map_location, weights_only=False)
    meta = {k: v for k, v in ckpt.items() if k != "state_dict"}
    model = build_model(meta["arch"], meta["num_classes"], meta["in_channels"], meta["normed_head"])
    model.load_state_dict(ckpt["state_dict"])
    return model.eval(), meta
