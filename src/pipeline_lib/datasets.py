"""Source datasets as uint8 image arrays.

Every source is turned into the same in-memory form, written once per dataset by the
``fetch_dataset`` rule to ``data/raw/<dataset>/images.npz``:

    train_x, test_x : uint8, (N, H, W, C)
    train_y, test_y : int64 class index (0..C-1, in the source's class order)
    class_names     : str, (C,)
    mean, std       : float32 per-channel statistics of train_x scaled to [0, 1]

Sources
    digits       scikit-learn's 8x8 hand-written digits (embedded in scikit-learn, no download);
                 a seeded, class-balanced test split of ``test_per_class`` images per class.
    cifar10/100  torchvision ``CIFAR10`` / ``CIFAR100``
    svhn         torchvision ``SVHN`` (train / test splits)
    celeba       torchvision ``CelebA``: the five hair classes black, brown, blond, gray, bald;
                 images with exactly one of these attributes, resized to ``image_size``.
    imagefolder  a local folder ``<path>/train/<class>/*`` and ``<path>/test/<class>/*``
                 (torchvision ``ImageFolder`` layout and class order).

torchvision sources download into ``root`` when ``download`` is true; when the files are neither
present nor downloadable a :class:`DatasetUnavailable` error says where to put them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

SOURCES = ("digits", "cifar10", "cifar100", "svhn", "celeba", "imagefolder")
CELEBA_HAIR = ("Black_Hair", "Brown_Hair", "Blond_Hair", "Gray_Hair", "Bald")

# where torchvision expects (or downloads) each source's files, relative to ``root``
_EXPECTED_FILES = {
    "cifar10": "cifar-10-batches-py/ (or cifar-10-python.tar.gz)",
    "cifar100": "cifar-100-python/ (or cifar-100-python.tar.gz)",
    "svhn": "train_32x32.mat and test_32x32.mat",
    "celeba": "celeba/ (img_align_celeba/, list_attr_celeba.txt, list_eval_partition.txt, ...)",
}


class DatasetUnavailable(RuntimeError):
    """A dataset that is neither on disk nor downloadable."""


@dataclass
class ImageArrays:
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    class_names: list[str]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def channel_stats(self) -> tuple[np.ndarray, np.ndarray]:
        x = self.train_x.astype(np.float64) / 255.0
        axes = tuple(range(x.ndim - 1))
        return x.mean(axis=axes).astype(np.float32), x.std(axis=axes).astype(np.float32)

    def save(self, path: str) -> None:
        mean, std = self.channel_stats()
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "wb") as fh:  # np.savez on a handle: no mtime in the archive, same bytes
            np.savez(fh, train_x=self.train_x, train_y=self.train_y, test_x=self.test_x,
                     test_y=self.test_y, class_names=np.array(self.class_names), mean=mean, std=std)

    @staticmethod
    def load(path: str) -> "ImageArrays":
        with np.load(path) as z:
            return ImageArrays(z["train_x"], z["train_y"].astype(np.int64), z["test_x"],
                               z["test_y"].astype(np.int64), [str(c) for c in z["class_names"]])


def load_stats(path: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as z:
        return z["mean"], z["std"]


def fetch(source: str, *, root: str | None = None, path: str | None = None, download: bool = True,
          image_size: int | None = None, test_per_class: int = 50, split_seed: int = 0) -> ImageArrays:
    """Load (downloading if allowed) a source dataset as :class:`ImageArrays`."""
    if source == "digits":
        return _digits(test_per_class, split_seed)
    if source == "imagefolder":
        return _imagefolder(path, image_size)
    if source not in _EXPECTED_FILES:
        raise ValueError(f"unknown dataset source {source!r}; allowed: {', '.join(SOURCES)}")
    root = root or os.path.join("data", "downloads", source)
    try:
        if source == "celeba":
            return _celeba(root, download, image_size or 32)
        return _torchvision_arrays(source, root, download)
    except DatasetUnavailable:
        raise
    except Exception as exc:  # torchvision raises RuntimeError / URLError / OSError
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatasetUnavailable(
            f"{source}: not found in {os.path.abspath(root)} and could not be downloaded "
            f"({type(exc).__name__}: {reason}); put {_EXPECTED_FILES[source]} there "
            f"(or point datasets.<name>.root at a folder that has them)") from exc


def _digits(test_per_class: int, split_seed: int) -> ImageArrays:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = np.rint(d.images * (255.0 / 16.0)).astype(np.uint8)[..., None]  # (N, 8, 8, 1)
    y = d.target.astype(np.int64)
    rng = np.random.RandomState(split_seed)
    test = []
    for c in range(10):
        idx = np.where(y == c)[0]
        rng.shuffle(idx)
        test.append(np.sort(idx[:test_per_class]))
    test = np.concatenate(test)
    train = np.setdiff1d(np.arange(len(y)), test)
    return ImageArrays(x[train], y[train], x[test], y[test], [str(c) for c in range(10)])


def _torchvision_arrays(source: str, root: str, download: bool) -> ImageArrays:
    import torchvision

    if source == "svhn":
        tr = torchvision.datasets.SVHN(root, split="train", download=download)
        te = torchvision.datasets.SVHN(root, split="test", download=download)
        return ImageArrays(tr.data.transpose(0, 2, 3, 1).copy(), np.asarray(tr.labels, np.int64),
                           te.data.transpose(0, 2, 3, 1).copy(), np.asarray(te.labels, np.int64),
                           [str(c) for c in range(10)])
    cls = torchvision.datasets.CIFAR10 if source == "cifar10" else torchvision.datasets.CIFAR100
    tr = cls(root, train=True, download=download)
    te = cls(root, train=False, download=download)
    return ImageArrays(np.asarray(tr.data), np.asarray(tr.targets, np.int64), np.asarray(te.data),
                       np.asarray(te.targets, np.int64), list(tr.classes))


def _resize(img, image_size: int | None):
    from PIL import Image

    if image_size and img.size != (image_size, image_size):
        img = img.resize((image_size, image_size), Image.BILINEAR)
    return np.asarray(img, dtype=np.uint8)


def _celeba(root: str, download: bool, image_size: int) -> ImageArrays:
    import torchvision
    from PIL import Image

    splits = {}
    for split in ("train", "test"):
        ds = torchvision.datasets.CelebA(root, split=split, target_type="attr", download=download)
        cols = [ds.attr_names.index(a) for a in CELEBA_HAIR]
        attr = ds.attr[:, cols].numpy()
        keep = np.where(attr.sum(axis=1) == 1)[0]
        labels = attr[keep].argmax(axis=1).astype(np.int64)
        folder = os.path.join(ds.root, ds.base_folder, "img_align_celeba")
        imgs = np.stack([_resize(Image.open(os.path.join(folder, ds.filename[i])).convert("RGB"), image_size)
                         for i in keep])
        splits[split] = (imgs, labels)
    names = [a.replace("_Hair", "").lower() for a in CELEBA_HAIR]
    return ImageArrays(*splits["train"], *splits["test"], names)


def _imagefolder(path: str | None, image_size: int | None) -> ImageArrays:
    import torchvision
    from PIL import Image

    if not path or not os.path.isdir(path):
        raise DatasetUnavailable(f"imagefolder: folder {path!r} does not exist; expected "
                                 "<path>/train/<class>/* and <path>/test/<class>/*")
    parts = {}
    for split in ("train", "test"):
        folder = os.path.join(path, split)
        if not os.path.isdir(folder):
            raise DatasetUnavailable(f"imagefolder: {folder!r} is missing; expected "
                                     "<path>/train/<class>/* and <path>/test/<class>/*")
    for split in ("train", "test"):
        try:
            parts[split] = torchvision.datasets.ImageFolder(os.path.join(path, split))
        except (FileNotFoundError, OSError) as exc:
            raise DatasetUnavailable(f"imagefolder: {exc}".splitlines()[0]) from exc
    classes = parts["train"].classes
    if parts["test"].classes != classes:
        raise DatasetUnavailable(f"imagefolder: train classes {classes} differ from test classes "
                                 f"{parts['test'].classes} in {path!r}")
    out = []
    for split in ("train", "test"):
        ds = parts[split]
        imgs = [_resize(Image.open(p).convert("RGB"), image_size) for p, _ in ds.samples]
        shapes = {im.shape for im in imgs}
        if len(shapes) != 1:
            raise DatasetUnavailable(f"imagefolder: images in {path!r} have several sizes {sorted(shapes)[:3]}; "
                                     "set datasets.<name>.image_size")
        out += [np.stack(imgs), np.asarray(ds.targets, np.int64)]
    return ImageArrays(*out, list(classes))


# --- what a source holds, known without downloading (for plan-time config checks) ----------------------

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# torchvision's SVHN train split per label (digit 0 relabelled from 10 to 0); sums to 73,257
SVHN_TRAIN_COUNTS = (4948, 13861, 10585, 8497, 7458, 6882, 5727, 5595, 5045, 4659)
# torchvision.datasets.folder.IMG_EXTENSIONS (not imported: that would import torch)
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


@dataclass
class SourceInfo:
    """What is known about a source's train split without downloading; None where unknown."""
    num_classes: int | None
    class_names: list[str] | None
    train_counts: list[int] | None   # images per class (in class order) available to the imbalanced subset
    total_counts: list[int] | None = None   # digits: per class before the test split


def describe_source(source: str, *, path: str | None = None, test_per_class: int = 50, **_ignored) -> SourceInfo:
    """Class names and per-class train counts of a source, cheaply and without any download.

    digits: from scikit-learn's embedded copy (minus ``test_per_class`` per class); cifar10/100:
    5000 / 500 per class; svhn: the known train counts; celeba: names only (the hair-class counts of
    the train split depend on the attribute file); imagefolder: image files per class folder of
    ``<path>/train`` (ImageFolder's sorted folder names and extensions)."""
    if source == "digits":
        from sklearn.datasets import load_digits

        total = np.bincount(load_digits().target, minlength=10).tolist()
        return SourceInfo(10, [str(c) for c in range(10)], [n - min(test_per_class, n) for n in total], total)
    if source == "cifar10":
        return SourceInfo(10, list(CIFAR10_CLASSES), [5000] * 10)
    if source == "cifar100":
        return SourceInfo(100, None, [500] * 100)
    if source == "svhn":
        return SourceInfo(10, [str(c) for c in range(10)], list(SVHN_TRAIN_COUNTS))
    if source == "celeba":
        return SourceInfo(len(CELEBA_HAIR), [a.replace("_Hair", "").lower() for a in CELEBA_HAIR], None)
    if source == "imagefolder":
        train = os.path.join(path or "", "train")
        if not path or not os.path.isdir(train):
            return SourceInfo(None, None, None)
        names = sorted(e.name for e in os.scandir(train) if e.is_dir())
        counts = []
        for name in names:
            n = 0
            for _, _, files in os.walk(os.path.join(train, name), followlinks=True):
                n += sum(f.lower().endswith(IMG_EXTENSIONS) for f in files)
            counts.append(n)
        return SourceInfo(len(names), names, counts)
    return SourceInfo(None, None, None)


# --- tabular benchmark sets (imbalanced-learn's Zenodo collection) -------------------------------------

def imblearn_names() -> list[str]:
    """The 27 names ``imblearn.datasets.fetch_datasets`` knows."""
    from imblearn.datasets._zenodo import MAP_NAME_ID

    return list(MAP_NAME_ID)


def imblearn_file(name: str, data_home: str | None) -> str:
    """Where ``fetch_datasets`` caches ``name`` (``<data_home>/zenodo/x<ID>data.npz``)."""
    from imblearn.datasets._zenodo import MAP_NAME_ID, POST_FILENAME, PRE_FILENAME
    from sklearn.datasets import get_data_home

    return os.path.join(get_data_home(data_home), "zenodo", f"{PRE_FILENAME}{MAP_NAME_ID[name]}{POST_FILENAME}")


def fetch_tabular(name: str, *, data_home: str | None = None, download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(X float64, y int64)`` of an imbalanced-learn benchmark set through the library's own
    ``fetch_datasets`` (which downloads the whole collection once when ``download`` is true).  The
    sets are binary with labels -1 / 1 and 1 the minority; here y = 1 for the minority, else 0."""
    from imblearn.datasets import fetch_datasets

    if name not in imblearn_names():
        raise DatasetUnavailable(f"unknown imbalanced-learn dataset {name!r}; allowed: {', '.join(imblearn_names())}")
    if not download and not os.path.isfile(imblearn_file(name, data_home)):
        raise DatasetUnavailable(f"{name}: {imblearn_file(name, data_home)} not found and downloading is off")
    bunch = fetch_datasets(data_home=data_home, filter_data=(name,), download_if_missing=download)[name]
    X = np.asarray(bunch.data, dtype=np.float64)
    y = (np.asarray(bunch.target) == 1).astype(np.int64)
    return X, y


def stratified_split(X: np.ndarray, y: np.ndarray, *, seed: int, test_size: float = 0.3):
    """Stratified train/test split (sklearn, ``random_state=seed``) and a StandardScaler fitted on the
    train split only.  Returns ``(train_rows, test_rows, X_train, X_test, scaler)``; the row arrays
    index ``X`` (ascending within each split's sampled order as sklearn returns it)."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    rows = np.arange(len(y))
    train_rows, test_rows = train_test_split(rows, test_size=test_size, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(X[train_rows])
    return train_rows, test_rows, scaler.transform(X[train_rows]), scaler.transform(X[test_rows]), scaler
