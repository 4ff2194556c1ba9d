"""CIFAR-style ResNets (He et al. 2016, §4.2; Idelbayev's implementation as used by LDAM-DRW and EOS).

conv3x3(in->16)+BN+ReLU, three stages of BasicBlocks with 16/32/64 channels and strides 1/2/2,
(depth-2)/6 blocks per stage (resnet32: 5, resnet56: 9), option-A shortcuts (stride-2 subsampling
and zero-padded channels, no 1x1 conv), global average pooling to a 64-d non-negative feature, then
the classifier head: ``nn.Linear(64, C)`` or, for LDAM, the cosine ``NormedLinear`` head.
Conv and Linear weights are Kaiming-normal initialised.

The network is split in two so that the three-phase EOS procedure is explicit:
``model.features(x)`` is the extractor (phase 1 / embedding export), ``model.head`` the classifier
(replaced by a retrained head in phase 3, see :func:`reassemble`).
"""
from __future__ import annotations

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

ARCHITECTURES = ("resnet20", "resnet32", "resnet44", "resnet56", "resnet110")
FEATURE_DIM = 64


def _init(m: nn.Module) -> None:
    if isinstance(m, (nn.Linear, nn.Conv2d)):
        nn.init.kaiming_normal_(m.weight)


class NormedLinear(nn.Module):
    """Cosine classifier: logits = normalize(x) @ normalize(W, dim=0) (no bias), LDAM-DRW's head."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.weight.data.uniform_(-1, 1).renorm_(2, 1, 1e-5).mul_(1e5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=1).mm(F.normalize(self.weight, dim=0))


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
        self.head = NormedLinear(FEATURE_DIM, num_classes) if normed_head else nn.Linear(FEATURE_DIM, num_classes)
        self.apply(_init)  # NormedLinear is not an nn.Linear: it keeps its own init

    def features(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return F.adaptive_avg_pool2d(out, 1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def build_model(arch: str, num_classes: int, in_channels: int = 3, normed_head: bool = False) -> ResNetCifar:
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown backbone {arch!r}; allowed: {', '.join(ARCHITECTURES)}")
    return ResNetCifar(int(arch[len("resnet"):]), num_classes, in_channels, normed_head)


def reassemble(model: ResNetCifar, head: nn.Module) -> ResNetCifar:
    """Phase-3 network: a copy of the trained extractor with ``head`` as its classifier."""
    out = copy.deepcopy(model)
    out.head = copy.deepcopy(head)
    return out


def save_backbone(path: str, model: ResNetCifar, **meta) -> None:
    """Weights plus what is needed to rebuild the network (arch, classes, channels, head type)."""
    torch.save({"state_dict": model.state_dict(), **meta}, path)


def load_backbone(path: str, map_location="cpu") -> tuple[ResNetCifar, dict]:
    ckpt = torch.load(path, map_location=map_location, weights_only=False)
    meta = {k: v for k, v in ckpt.items() if k != "state_dict"}
    model = build_model(meta["arch"], meta["num_classes"], meta["in_channels"], meta["normed_head"])
    model.load_state_dict(ckpt["state_dict"])
    return model.eval(), meta


class TabularMLP(nn.Module):
    """The dense 4-layer network of "How Data Augmentation Works with Imbalanced Data" (§IV-A):
    d -> 100 -> 50 -> d//2 -> C with ReLU after each hidden layer (PyTorch default initialisation).

    Split like :class:`ResNetCifar`: ``features(x)`` is the d//2-dimensional penultimate layer (after
    its ReLU) that the latent-space samplers (EOS, DSM) work on, ``head`` the classification layer."""

    def __init__(self, in_features: int, num_classes: int = 2):
        super().__init__()
        self.in_features, self.num_classes = int(in_features), int(num_classes)
        hidden = max(1, self.in_features // 2)
        self.encoder = nn.Sequential(nn.Linear(self.in_features, 100), nn.ReLU(), nn.Linear(100, 50), nn.ReLU(),
                                     nn.Linear(50, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, self.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))


def save_mlp(path: str, model: TabularMLP, **meta) -> None:
    torch.save({"state_dict": model.state_dict(), "in_features": model.in_features,
                "num_classes": model.num_classes, **meta}, path)


def load_mlp(path: str) -> tuple[TabularMLP, dict]:
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    model = TabularMLP(ckpt["in_features"], ckpt["num_classes"])
    model.load_state_dict(ckpt["state_dict"])
    return model.eval(), {k: v for k, v in ckpt.items() if k != "state_dict"}
