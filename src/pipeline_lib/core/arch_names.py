"""Backbone names and feature widths, without torch (plan-time checks of the config use them; the
networks themselves are in :mod:`pipeline_lib.core.models`, which re-exports these)."""
from __future__ import annotations

import re

ARCHITECTURES = ("resnet20", "resnet32", "resnet44", "resnet56", "resnet110")  # the resnets; see check_arch
FEATURE_DIM = 64  # the resnets' feature width; other families: feature_dim(arch) / model.feature_dim

_WRN = re.compile(r"wrn([1-9][0-9]*)_([1-9][0-9]*)")
_DENSENET = re.compile(r"densenet([1-9][0-9]*)_([1-9][0-9]*)")
ALLOWED_FORMS = ("resnet20|32|44|56|110, wrn<d>_<k> with (d-4) % 6 == 0 (e.g. wrn28_10, wrn16_4), "
                 "densenet<L>_<k> with (L-4) % 6 == 0 and L >= 16 (DenseNet-BC, k = growth rate, "
                 "e.g. densenet100_12)")


def parse_arch(arch) -> tuple[str, int, int]:
    """arch -> (family, depth, k) for a valid name (k = 0 for the resnets), else ValueError."""
    def bad(why: str = "") -> ValueError:
        return ValueError(f"unknown backbone {arch!r}{why}; allowed: {ALLOWED_FORMS}")

    if not isinstance(arch, str):
        raise bad(" (not a string)")
    if arch in ARCHITECTURES:
        return "resnet", int(arch[len("resnet"):]), 0
    if m := _WRN.fullmatch(arch):
        d, k = int(m.group(1)), int(m.group(2))
        if d < 10 or (d - 4) % 6:
            raise bad(f" (WideResNet depth {d} is not 6n+4 with n >= 1)")
        return "wrn", d, k
    if m := _DENSENET.fullmatch(arch):
        depth, k = int(m.group(1)), int(m.group(2))
        if depth < 16 or (depth - 4) % 6:
            raise bad(f" (DenseNet-BC depth {depth} is not 6n+4 with n >= 2)")
        return "densenet", depth, k
    raise bad()


def check_arch(arch: str) -> None:
    """Raise ValueError (naming ``arch`` and the allowed forms) unless ``arch`` is a backbone name."""
    parse_arch(arch)


def densenet_widths(depth: int, growth: int) -> tuple[int, list[int]]:
    """(channels after the first conv, channels after each of the three dense blocks' transitions/end)."""
    n, c = (depth - 4) // 6, 2 * growth
    first, widths = c, []
    for i in range(3):
        c += n * growth
        if i < 2:
            c //= 2  # compression 0.5 (floor, as in the reference implementations)
        widths.append(c)
    return first, widths


def feature_dim(arch: str) -> int:
    """Width of ``features(x)`` for ``arch`` without building the network."""
    family, depth, k = parse_arch(arch)
    if family == "resnet":
        return FEATURE_DIM
    if family == "wrn":
        return 64 * k
    return densenet_widths(depth, k)[1][-1]
