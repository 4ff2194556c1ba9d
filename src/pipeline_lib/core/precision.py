"""Arithmetic precision of backbone training: ``fp32``, ``bf16`` or ``auto`` (setting
``backbone_training.precision``).

``bf16`` trains under ``torch.autocast(dtype=torch.bfloat16)`` with the network and its input batches in
channels-last memory format; the weights, the optimiser state, the loss and every saved tensor stay
float32 (autocast casts each weight for its matrix product only), so a bf16 backbone is saved, loaded,
exported and evaluated exactly as an fp32 one.  ``fp32`` is plain float32 (on a GPU still channels-last,
a layout only).  ``auto`` picks bf16 on CUDA and on a CPU with native bf16 dot products (AVX512-BF16 or
the AMX tile units: oneDNN runs bf16 convolutions on them), and fp32 on any other CPU, where bf16 would be
emulated and slower.

Why fp32 stays the schema's default: bf16 changes the arithmetic, so a bf16 backbone is not the
bytes of an fp32 one (it is deterministic in itself: same config, same machine, same bytes); the demo's
published numbers and every byte-for-byte check of this project are fp32.  Use ``auto`` (as
``configs/paper.yaml`` does) for speed at paper scale.

The choice is recorded (:func:`describe`): the backbone's metadata and the run log get the resolved
precision, the setting it came from, and the CPU's relevant flags.
"""
from __future__ import annotations

import platform
from functools import lru_cache

import torch

PRECISIONS = ("auto", "fp32", "bf16")
# /proc/cpuinfo flags that decide (or explain) the CPU's bf16 speed
CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8")


def check(name: str) -> str:
    if name not in PRECISIONS:
        raise ValueError(f"precision {name!r} not allowed; allowed: {', '.join(PRECISIONS)}")
    return name


def cpu_flags() -> list[str]:
    """Those of :data:`CPU_FLAGS` this CPU reports (Linux ``/proc/cpuinfo``; torch's own probes
    elsewhere)."""
    return list(_cpu_flags())


@lru_cache(maxsize=1)
def _cpu_flags() -> tuple[str, ...]:
    """:func:`cpu_flags`, read once per process (a training run resolves and records its precision several
    times; the hardware does not change in between)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    return tuple(f for f in CPU_FLAGS if f in have)
    except OSError:
        pass
    found = []
    probes = {"avx512_bf16": "_is_avx512_bf16_supported", "amx_tile": "_is_amx_tile_supported"}
    for flag, probe in probes.items():
        fn = getattr(torch.cpu, probe, None)
        if fn is not None and fn():
            found.append(flag)
    return tuple(found)


def cpu_has_bf16(flags: list[str] | None = None) -> bool:
    """Native bf16 dot products: AVX512-BF16 or AMX-BF16."""
    flags = cpu_flags() if flags is None else flags
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve(name: str, device: torch.device, flags: list[str] | None = None) -> str:
    """``fp32`` or ``bf16`` for the setting ``name`` on ``device``."""
    check(name)
    if name != "auto":
        return name
    if device.type == "cuda":
        return "bf16"
    return "bf16" if cpu_has_bf16(flags) else "fp32"


def describe(name: str, device: torch.device) -> dict:
    """What a backbone records: ``{"precision": resolved, "precision_setting": name, "device": ...,
    "cpu": processor, "cpu_flags": [...]}``."""
    flags = cpu_flags()
    return {"precision": resolve(name, device, flags), "precision_setting": name, "device": device.type,
            "cpu": platform.processor() or platform.machine(), "cpu_flags": flags}
