"""Compact CIFAR-10-LT file for benchmarks/gpu_check.py: the training images of the long-tailed cuts
(their union, once each) and the whole test set, as uint8, in one compressed .npz of at most 60 MB.

    .venv/bin/python benchmarks/make_gpu_data.py --src ../shared/data/cifar10 \
        --out benchmarks/gpu_data/cifar10_lt.npz [--cuts 0 10 100] [--ratio 100]

--src is a CIFAR-10 folder in ImageFolder layout (<src>/train/<class>/*.png, <src>/test/<class>/*.png).
Classes and files are taken in sorted order, as torchvision's ImageFolder (the pipeline's ``imagefolder``
source) takes them; the cuts are LDAM-DRW's exponential draws (pipeline_lib.core.imbalance.subset_table, the
cut number as seed) over that order.  (A copy whose files are sorted by name is not in the order of the
python batches, so the images drawn are not the very ones a torchvision ``cifar10`` source draws.)
Only the images the file needs are decoded.  --train-per-class / --test-per-class keep only the first N
files of each class (for tests: a file from them is not CIFAR-10-LT and not comparable to the paper).

Compression: zlib on raw CIFAR pixels saves little (one cut + the test set: 62 MB of 69), so the pixels
are coded reversibly before LZMA: colour as (G, R-G, B-G) and each plane as its 2-D difference
(x[i,j] - x[i,j-1] - x[i-1,j] + x[i-1,j-1], all mod 256), stored plane by plane.  That takes the three
cuts (20,218 train images) and the 10,000 test images to about 50 MB.  :func:`read_pack` undoes it
(numpy only).  The output is deterministic: the same folder and arguments give the same bytes.

Keys: train_x_coded, test_x_coded (coded uint8), train_y, test_y (int64), train_ids (index of each
stored train image in the full sorted train listing), cut_<c> (the cut's sample ids, in subset_table
order), cuts, class_names, ratio, imbalance, train_per_class, test_per_class (-1 = all), codec.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import time
import zipfile

import numpy as np

CODEC = "gdiff2d-lzma-v1"
MAX_MB = 60.0


def encode(x: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W, 3) -> coded uint8 (3, N, H, W): planes G, R-G, B-G, each 2-D differenced (mod 256)."""
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"images must be uint8 (N, H, W, 3), got {x.dtype} {x.shape}")
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    planes = np.stack([g, r - g, b - g])  # uint8 arithmetic wraps mod 256
    d = np.diff(planes, axis=3, prepend=np.zeros_like(planes[..., :1]))
    return np.ascontiguousarray(np.diff(d, axis=2, prepend=np.zeros_like(d[:, :, :1])))


def decode(coded: np.ndarray) -> np.ndarray:
    """Inverse of :func:`encode`: coded uint8 (3, N, H, W) -> uint8 (N, H, W, 3)."""
    planes = np.cumsum(np.cumsum(coded, axis=2, dtype=np.uint8), axis=3, dtype=np.uint8)
    g, rg, bg = planes
    return np.ascontiguousarray(np.stack([rg + g, g, bg + g], axis=-1))


def write_pack(path: str, arrays: dict) -> int:
    """``arrays`` as an .npz whose members are LZMA-compressed (np.load reads it), with fixed
    timestamps (same arrays, same bytes).  Returns the file size in bytes."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, value in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_LZMA
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(value), allow_pickle=False)
            zf.writestr(info, buf.getvalue())
    os.replace(tmp, path)
    return os.path.getsize(path)


def read_pack(path: str) -> dict:
    """The file of :func:`main`, decoded: train_x / test_x uint8 (N, H, W, 3) and every other key as
    stored (``cuts`` as a list of ints, ``cut_<c>`` as int64 sample ids)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"GPU data file {path!r} not found; write it with benchmarks/make_gpu_data.py")
    with np.load(path, allow_pickle=False) as z:
        out = {k: z[k] for k in z.files}
    codec = str(out.pop("codec"))
    if codec != CODEC:
        raise ValueError(f"{path}: codec {codec!r} not supported; allowed: {CODEC}")
    out["train_x"] = decode(out.pop("train_x_coded"))
    out["test_x"] = decode(out.pop("test_x_coded"))
    out["cuts"] = [int(c) for c in out["cuts"]]
    out["class_names"] = [str(c) for c in out["class_names"]]
    return out


def list_split(src: str, split: str, per_class: int | None, classes: list[str] | None = None):
    """Sorted class names, and the sorted (path, label) list of ``<src>/<split>``; ``per_class``: the
    first N files of each class only."""
    from pipeline_lib.core.datasets import IMG_EXTENSIONS

    folder = os.path.join(src, split)
    if not os.path.isdir(folder):
        raise SystemExit(f"--src {src!r}: {folder!r} is missing; expected <src>/train/<class>/*.png and "
                         "<src>/test/<class>/*.png")
    names = sorted(e.name for e in os.scandir(folder) if e.is_dir())
    if classes is not None and names != classes:
        raise SystemExit(f"--src {src!r}: test classes {names} differ from train classes {classes}")
    files = []
    for label, name in enumerate(names):
        found = sorted(f for f in os.listdir(os.path.join(folder, name)) if f.lower().endswith(IMG_EXTENSIONS))
        files += [(os.path.join(folder, name, f), label) for f in found[:per_class]]
    return names, files


def load_images(paths: list[str]) -> np.ndarray:
    from PIL import Image

    imgs = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
    shapes = {im.shape for im in imgs}
    if len(shapes) != 1:
        raise SystemExit(f"images have several sizes {sorted(shapes)[:3]}; expected one (32 x 32 for CIFAR-10)")
    return np.stack(imgs)


def build(src: str, cuts: list[int], ratio: float, train_per_class: int | None = None,
          test_per_class: int | None = None, log=print) -> dict:
    """The arrays of the file (coded), from the folder ``src``."""
    from pipeline_lib.core.imbalance import subset_table

    classes, train_files = list_split(src, "train", train_per_class)
    _, test_files = list_split(src, "test", test_per_class, classes)
    train_labels = np.array([lab for _, lab in train_files], np.int64)
    tables = {c: subset_table(train_labels, classes, {"type": "exp", "ratio": ratio}, c) for c in cuts}
    ids = np.unique(np.concatenate([t["sample_id"].to_numpy() for t in tables.values()]))
    t0 = time.perf_counter()
    train_x = load_images([train_files[i][0] for i in ids])
    test_x = load_images([p for p, _ in test_files])
    log(f"read {len(ids)} train images (union of cuts {', '.join(map(str, cuts))}: "
        + ", ".join(f"cut {c} {len(t)}" for c, t in tables.items())
        + f") and {len(test_x)} test images of {len(classes)} classes in {time.perf_counter() - t0:.1f} s")
    arrays = {"codec": np.array(CODEC), "class_names": np.array(classes), "cuts": np.array(cuts, np.int64),
              "ratio": np.array(float(ratio)), "imbalance": np.array("exp"),
              "train_per_class": np.array(-1 if train_per_class is None else train_per_class, np.int64),
              "test_per_class": np.array(-1 if test_per_class is None else test_per_class, np.int64),
              "train_ids": ids.astype(np.int64), "train_y": train_labels[ids],
              "test_y": np.array([lab for _, lab in test_files], np.int64)}
    for c, t in tables.items():
        arrays[f"cut_{c}"] = t["sample_id"].to_numpy().astype(np.int64)
    arrays["train_x_coded"] = encode(train_x)
    arrays["test_x_coded"] = encode(test_x)
    return arrays


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", required=True, help="CIFAR-10 folder: <src>/train/<class>/*.png, <src>/test/<class>/*.png")
    ap.add_argument("--out", required=True, help="the .npz to write (e.g. benchmarks/gpu_data/cifar10_lt.npz)")
    ap.add_argument("--cuts", type=int, nargs="+", default=[0, 10, 100], help="cut seeds (default: 0 10 100)")
    ap.add_argument("--ratio", type=float, default=100.0, help="imbalance ratio n_max / n_min (default 100)")
    ap.add_argument("--train-per-class", type=int, default=None, help="first N train files per class only (tests)")
    ap.add_argument("--test-per-class", type=int, default=None, help="first N test files per class only (tests)")
    ap.add_argument("--max-mb", type=float, default=MAX_MB, help=f"largest file allowed, MB (default {MAX_MB:g})")
    a = ap.parse_args(argv)
    for flag, value in (("--train-per-class", a.train_per_class), ("--test-per-class", a.test_per_class)):
        if value is not None and value < 1:
            raise SystemExit(f"{flag} {value} not allowed; allowed: an integer >= 1")
    if len(set(a.cuts)) != len(a.cuts):
        raise SystemExit(f"--cuts {a.cuts} repeats a cut; allowed: distinct integers")
    t0 = time.perf_counter()
    arrays = build(a.src, a.cuts, a.ratio, a.train_per_class, a.test_per_class)
    size = write_pack(a.out, arrays)
    mb = size / 1e6
    if mb > a.max_mb:
        os.remove(a.out)
        raise SystemExit(f"{a.out}: {mb:.1f} MB is over --max-mb {a.max_mb:g}; allowed: fewer --cuts or a "
                         "larger --max-mb")
    n_train, n_test = arrays["train_y"].size, arrays["test_y"].size
    raw = (arrays["train_x_coded"].nbytes + arrays["test_x_coded"].nbytes) / 1e6
    print(f"wrote {a.out}: {mb:.1f} MB ({n_train} train + {n_test} test images, {raw:.1f} MB raw), "
          f"cuts {a.cuts}, ratio {a.ratio:g}, "
          f"codec {CODEC}, in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
