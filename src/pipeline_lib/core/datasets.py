"""Source datasets as uint8 image arrays.

Every source is turned into the same in-memory form, written once per dataset by the
``fetch_dataset`` rule to ``data/raw/<dataset>/images.npz``:

    train_x, test_x : uint8, (N, H, W, C)      the train pool and the test pool
    train_y, test_y : int64 class index (0..C-1: the source's class order, or the order of ``classes``)
    class_names     : str, (C,)
    mean, std       : float32 per-channel statistics of train_x scaled to [0, 1]
    train_files, test_files : str, relative file names of the pools (sources read from files only)
    holdout         : present (True) when the test pool *is* the train pool (``test_split: train``);
                      test_x / test_y / test_files are then not stored and :meth:`ImageArrays.load`
                      gives the train arrays for them

Sources
    digits       scikit-learn's 8x8 hand-written digits (embedded in scikit-learn, no download);
                 a seeded, class-balanced test split of ``test_per_class`` images per class.
    cifar10/100  torchvision ``CIFAR10`` / ``CIFAR100``
    svhn         torchvision ``SVHN`` (train / test splits)
    celeba       torchvision ``CelebA``: the five hair classes black, brown, blond, gray, bald;
                 images with exactly one of these attributes, resized to ``image_size``.
    imagefolder  a local folder ``<path>/train/<class>/*`` and ``<path>/test/<class>/*`` (or
                 ``<path>/val/<class>/*`` with ``test_split: val``), torchvision ``ImageFolder`` layout
                 and class order.
    places365    torchvision ``Places365`` (``small=True``: the 256x256 images): train pool = split
                 ``train-standard`` (``<root>/data_256_standard``, up to 5,000 a class), test pool = split
                 ``val`` (``<root>/val_256``, 100 a class).
    inaturalist  torchvision ``INaturalist``.  ``inat_version`` 2017: the 13 super-categories (target type
                 ``super``) of ``<root>/2017`` (the extracted ``train_val_images``), split into train and
                 validation pools by ``train2017.json`` / ``val2017.json`` (in ``<root>`` or
                 ``<root>/2017``); 2021 / 2021_mini: train pool ``2021_train`` / ``2021_train_mini``, test
                 pool ``2021_valid``, the classes any taxon names (kingdom .. genus) given in ``classes``.

Common options (:func:`fetch`)
    classes         keep only these classes, relabelled 0..k-1 in the listed order
    test_split      the test pool: ``test`` / ``val`` (the source's own held-out split) or ``train``
                    (the train pool itself; the per-cut test draw then takes images the cut's training
                    draw does not, see :mod:`pipeline_lib.core.imbalance`)
    pool_per_class  keep at most this many images a class in each pool (seeded with ``split_seed``),
                    plus any file named in ``file_lists``
    image_size      resize to this square size

torchvision sources download into ``root`` when ``download`` is true; when the files are neither
present nor downloadable a :class:`DatasetUnavailable` error says where to put them.
"""
from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

SOURCES = ("digits", "cifar10", "cifar100", "svhn", "celeba", "imagefolder", "places365", "inaturalist")
FILE_SOURCES = ("imagefolder", "places365", "inaturalist")  # pools with file names (file_lists)
CELEBA_HAIR = ("Black_Hair", "Brown_Hair", "Blond_Hair", "Gray_Hair", "Bald")
# the test pools a source offers: its own held-out split ('test' or 'val') or the train pool ('train')
TEST_SPLITS = {
    "digits": ("test", "train"), "cifar10": ("test", "train"), "cifar100": ("test", "train"),
    "svhn": ("test", "train"), "celeba": ("test", "val", "train"), "imagefolder": ("test", "val", "train"),
    "places365": ("val", "train"), "inaturalist": ("val", "train"),
}
INAT_VERSIONS = ("2017", "2021", "2021_mini")
# the super-categories of iNaturalist 2017 (the top folders of train_val_images, sorted as torchvision does)
INAT2017_SUPER = ("Actinopterygii", "Amphibia", "Animalia", "Arachnida", "Aves", "Chromista", "Fungi",
                  "Insecta", "Mammalia", "Mollusca", "Plantae", "Protozoa", "Reptilia")
INAT2021_LEVELS = ("kingdom", "phylum", "class", "order", "family", "genus")
PLACES365_VAL_PER_CLASS = 100  # Places365-Standard's validation split

# where torchvision expects (or downloads) each source's files, relative to ``root``
_EXPECTED_FILES = {
    "cifar10": "cifar-10-batches-py/ (or cifar-10-python.tar.gz)",
    "cifar100": "cifar-100-python/ (or cifar-100-python.tar.gz)",
    "svhn": "train_32x32.mat and test_32x32.mat",
    "celeba": "celeba/ (img_align_celeba/, list_attr_celeba.txt, list_eval_partition.txt, ...)",
    "places365": "categories_places365.txt, places365_train_standard.txt, places365_val.txt, data_256_standard/ "
                 "(or data_256/) and val_256/ (the Places365-Standard 'small' images)",
}


def _inat_expected(version: str) -> str:
    if version == "2017":
        return ("2017/<super-category>/<species>/*.jpg (train_val_images.tar.gz extracted and renamed 2017) and "
                "train2017.json, val2017.json (train_val2017.zip)")
    train = "2021_train" if version == "2021" else "2021_train_mini"
    return f"{train}/ and 2021_valid/ (the extracted train{'_mini' if version != '2021' else ''}.tar.gz and val.tar.gz)"


class DatasetUnavailable(RuntimeError):
    """A dataset that is neither on disk nor downloadable."""


class SourceError(ValueError):
    """A setting the source cannot satisfy (one line, naming the value and what is allowed)."""


class UnknownClass(SourceError):
    """A name in ``classes`` that the source does not have."""


@dataclass
class ImageArrays:
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    class_names: list[str]
    train_files: np.ndarray | None = None
    test_files: np.ndarray | None = None
    holdout: bool = False  # the test pool is the train pool (test_split 'train')

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
        arrays = {"train_x": self.train_x, "train_y": self.train_y}
        if not self.holdout:
            arrays.update(test_x=self.test_x, test_y=self.test_y)
        arrays.update(class_names=np.array(self.class_names), mean=mean, std=std)
        if self.train_files is not None:
            arrays["train_files"] = np.asarray(self.train_files, dtype=str)
        if self.test_files is not None and not self.holdout:
            arrays["test_files"] = np.asarray(self.test_files, dtype=str)
        if self.holdout:
            arrays["holdout"] = np.array(True)
        with open(path, "wb") as fh:  # np.savez on a handle: no mtime in the archive, same bytes
            np.savez(fh, **arrays)

    @staticmethod
    def load(path: str) -> "ImageArrays":
        with np.load(path) as z:
            keys = set(z.files)
            train_x, train_y = z["train_x"], z["train_y"].astype(np.int64)
            train_files = z["train_files"] if "train_files" in keys else None
            holdout = "holdout" in keys and bool(z["holdout"])
            if holdout:
                test_x, test_y, test_files = train_x, train_y, train_files
            else:
                test_x, test_y = z["test_x"], z["test_y"].astype(np.int64)
                test_files = z["test_files"] if "test_files" in keys else None
            return ImageArrays(train_x, train_y, test_x, test_y, [str(c) for c in z["class_names"]],
                               train_files, test_files, holdout)


def load_stats(path: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as z:
        return z["mean"], z["std"]


def default_test_split(source: str) -> str:
    """The source's own held-out split: 'test', or 'val' where there is no labelled test split."""
    return TEST_SPLITS[source][0]


def fetch(source: str, *, root: str | None = None, path: str | None = None, download: bool = True,
          image_size: int | None = None, test_per_class: int = 50, split_seed: int = 0,
          classes: list[str] | None = None, test_split: str | None = None, pool_per_class: int | None = None,
          inat_version: str = "2021_mini", file_lists: dict | None = None) -> ImageArrays:
    """Load (downloading if allowed) a source dataset as :class:`ImageArrays`.

    ``file_lists``: ``{"train": [csv, ...], "test": [csv, ...]}``: every file these lists name is kept in
    its pool whatever ``pool_per_class`` (the lists are checked against the source's files here, before
    any image is read)."""
    if source not in SOURCES:
        raise ValueError(f"unknown dataset source {source!r}; allowed: {', '.join(SOURCES)}")
    split = test_split or default_test_split(source)
    if split not in TEST_SPLITS[source]:
        raise ValueError(f"{source}: test_split {split!r} is not available; allowed: {', '.join(TEST_SPLITS[source])}")
    if file_lists and source not in FILE_SOURCES:
        raise ValueError(f"{source}: file_lists need a source read from files; allowed: {', '.join(FILE_SOURCES)}")
    holdout = split == "train"
    if source == "digits":
        arrays = _digits(test_per_class, split_seed)
    elif source == "imagefolder":
        cat = _imagefolder_catalogue(path, split, classes)
        return _from_catalogue(cat, classes, pool_per_class, split_seed, image_size, file_lists, holdout)
    else:
        root = root or os.path.join("data", "downloads", source)
        expected = _inat_expected(inat_version) if source == "inaturalist" else _EXPECTED_FILES[source]
        try:
            if source == "places365":
                cat = _places_catalogue(root, download, holdout)
            elif source == "inaturalist":
                cat = _inat_catalogue(root, download, holdout, inat_version, classes)
            elif source == "celeba":
                arrays = _celeba(root, download, image_size or 32, split)
            else:
                arrays = _torchvision_arrays(source, root, download)
        except (DatasetUnavailable, SourceError):
            raise
        except Exception as exc:  # torchvision raises RuntimeError / URLError / OSError
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DatasetUnavailable(
                f"{source}: not found in {os.path.abspath(root)} and could not be downloaded "
                f"({type(exc).__name__}: {reason}); put {expected} there "
                f"(or point datasets.<name>.root at a folder that has them)") from exc
        if source in FILE_SOURCES:
            return _from_catalogue(cat, classes, pool_per_class, split_seed, image_size, file_lists, holdout)
    return _subset_arrays(arrays, source, classes, pool_per_class, split_seed, holdout)


# --- classes, pool caps ----------------------------------------------------------------------------------

def _places_name(name: str) -> str:
    """'/a/airfield' -> 'airfield', '/a/apartment_building/outdoor' -> 'apartment_building/outdoor'."""
    parts = name.strip("/").split("/")
    return "/".join(parts[1:]) if len(parts) > 1 and len(parts[0]) == 1 else name.strip("/")


def class_positions(names: list[str], classes: list[str] | None, source: str) -> list[int]:
    """Positions in ``names`` of the requested ``classes`` (in the requested order; all when None).

    Raises :class:`UnknownClass` (one line, listing the names there are) for a name the source does not
    have, ValueError for a class listed twice.  Places365 names may be given with or without the letter
    folder ('airfield' or '/a/airfield')."""
    if not classes:
        return list(range(len(names)))
    where = {n: i for i, n in enumerate(names)}
    out = []
    for c in classes:
        key = _places_name(c) if source == "places365" else c
        if key not in where:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UnknownClass(f"{c!r} is not a class of {source}{hint}; allowed: {', '.join(names)}")
        if where[key] in out:
            raise SourceError(f"class {c!r} is listed twice; allowed: each class once")
        out.append(where[key])
    return out


def cap_per_class(labels: np.ndarray, num_classes: int, cap: int | None, seed, forced=()) -> np.ndarray:
    """Sorted positions (into ``labels``) that keep at most ``cap`` images of each class, chosen with
    ``np.random.RandomState(seed)`` class by class, plus every position in ``forced``.  ``labels`` < 0 are
    dropped; no cap keeps every labelled position."""
    labels = np.asarray(labels)
    if cap is None:
        return np.where(labels >= 0)[0]
    rng = np.random.RandomState(seed)
    forced = np.asarray(sorted(forced), dtype=np.int64)
    keep = []
    for c in range(num_classes):
        members = np.where(labels == c)[0]
        if len(members) > cap:
            members = np.union1d(members[rng.permutation(len(members))[:cap]],
                                 np.intersect1d(forced, members))
        keep.append(members)
    return np.sort(np.concatenate(keep)).astype(np.int64) if keep else np.zeros(0, np.int64)


def _subset_arrays(arrays: ImageArrays, source: str, classes, cap, split_seed, holdout) -> ImageArrays:
    """``classes`` / ``pool_per_class`` / ``test_split: train`` on a source loaded as whole arrays."""
    if not classes and cap is None and not holdout:
        return arrays
    pos = class_positions(arrays.class_names, classes, source)
    relabel = np.full(len(arrays.class_names), -1, np.int64)
    relabel[pos] = np.arange(len(pos))
    tr_y, te_y = relabel[arrays.train_y], relabel[arrays.test_y]
    tr = cap_per_class(tr_y, len(pos), cap, split_seed)
    names = [arrays.class_names[p] for p in pos]
    if holdout:
        return ImageArrays(arrays.train_x[tr], tr_y[tr], arrays.train_x[tr], tr_y[tr], names, holdout=True)
    te = cap_per_class(te_y, len(pos), cap, [split_seed, 1])
    return ImageArrays(arrays.train_x[tr], tr_y[tr], arrays.test_x[te], te_y[te], names)


# --- sources read from files: a catalogue of (relative file, absolute path, class) per pool ----------------

@dataclass
class Pool:
    files: list[str]        # relative file names ('/' separated), as file lists name them
    paths: list[str]        # absolute (or root-relative) paths to read
    labels: np.ndarray      # class index into Catalogue.names; -1 = not one of the classes


@dataclass
class Catalogue:
    source: str
    names: list[str]
    train: Pool
    test: Pool | None       # None: the test pool is the train pool (test_split 'train')
    where: str              # for messages: the folder read
    draft: bool = False     # JPEG draft decoding (large photos down to small sizes)
    test_name: str = "test"


def _from_catalogue(cat: Catalogue, classes, cap, split_seed, image_size, file_lists, holdout) -> ImageArrays:
    pos = class_positions(cat.names, classes, cat.source)
    relabel = np.full(len(cat.names) + 1, -1, np.int64)  # the extra slot maps label -1 to -1
    relabel[pos] = np.arange(len(pos))
    names = [cat.names[p] for p in pos]
    pools = {"train": cat.train} if holdout else {"train": cat.train, "test": cat.test}
    chosen = {}
    for which, pool in pools.items():
        labels = relabel[pool.labels]
        forced = set()
        other = None if holdout else pools["test" if which == "train" else "train"]
        for kind in (("train", "test") if holdout else (which,)):
            for list_path in (file_lists or {}).get(kind, []):
                forced |= set(_force_listed(list_path, pool, labels, names, cat, which, other))
        seed = split_seed if which == "train" else [split_seed, 1]
        chosen[which] = cap_per_class(labels, len(names), cap, seed, forced)
    out = {}
    for which, idx in chosen.items():
        pool = pools[which]
        x = _load_images([pool.paths[i] for i in idx], image_size, cat.draft, cat.where)
        out[which] = (x, relabel[pool.labels][idx], np.asarray([pool.files[i] for i in idx], dtype=str))
    if holdout:
        x, y, f = out["train"]
        return ImageArrays(x, y, x, y, names, f, f, holdout=True)
    return ImageArrays(*out["train"][:2], *out["test"][:2], names, out["train"][2], out["test"][2])


def _force_listed(list_path: str, pool: Pool, labels: np.ndarray, names, cat: Catalogue, which: str, other):
    """Positions in ``pool`` of the files a list names (one-line error for a file that matches none)."""
    lst = read_file_list(list_path)
    keep = np.where(labels >= 0)[0]
    pool_name = "train" if which == "train" else cat.test_name
    index = FileIndex([pool.files[i] for i in keep])
    out = []
    for row, entry in enumerate(lst.files):
        hit = index.find(entry)
        if hit is None or hit < 0:
            hint = ""
            if hit is None and other is not None and FileIndex(other.files).find(entry) is not None:
                hint = (f"; it is a file of the {cat.test_name if which == 'train' else 'train'} pool (the authors' "
                        "Places lists draw their test images from the train images: set test_split: train)")
            what = "several files" if hit == -1 else "no file"
            raise SourceError(f"file list {list_path}, line {row + 2}: {entry!r} matches {what} of the classes "
                              f"{', '.join(names)} in the {pool_name} pool of {cat.where}{hint}")
        out.append(int(keep[hit]))
    return out


def _load_images(paths: list[str], image_size: int | None, draft: bool, where: str) -> np.ndarray:
    from PIL import Image

    imgs = []
    for p in paths:
        with Image.open(p) as im:
            if draft and image_size:
                im.draft("RGB", (image_size, image_size))  # JPEG: decode at a reduced scale >= the size
            imgs.append(_resize(im.convert("RGB"), image_size))
    if not imgs:
        raise DatasetUnavailable(f"{where}: no images of the requested classes")
    shapes = {im.shape for im in imgs}
    if len(shapes) != 1:
        raise DatasetUnavailable(f"{where}: images have several sizes {sorted(shapes)[:3]}; "
                                 "set datasets.<name>.image_size")
    return np.stack(imgs)


def _imagefolder_catalogue(path: str | None, split: str, classes=None) -> Catalogue:
    import torchvision

    test_dir = "train" if split == "train" else split
    layout = "<path>/train/<class>/*" + ("" if split == "train" else f" and <path>/{split}/<class>/*")
    if not path or not os.path.isdir(path):
        raise DatasetUnavailable(f"imagefolder: folder {path!r} does not exist; expected {layout}")
    for sub in ("train", test_dir):
        folder = os.path.join(path, sub)
        if not os.path.isdir(folder):
            raise DatasetUnavailable(f"imagefolder: {folder!r} is missing; expected {layout}")
    parts = {}
    for sub in dict.fromkeys(("train", test_dir)):
        try:
            parts[sub] = torchvision.datasets.ImageFolder(os.path.join(path, sub))
        except (FileNotFoundError, OSError) as exc:
            raise DatasetUnavailable(f"imagefolder: {exc}".splitlines()[0]) from exc
    names = list(parts["train"].classes)
    test_names = list(parts[test_dir].classes)
    if test_names != names:
        if not classes:
            raise DatasetUnavailable(f"imagefolder: train classes {names} differ from {test_dir} classes "
                                     f"{test_names} in {path!r}")
        missing = [c for c in classes if c in names and c not in test_names]
        if missing:
            raise DatasetUnavailable(f"imagefolder: class {missing[0]!r} has no folder in "
                                     f"{os.path.join(path, test_dir)!r}; allowed: {', '.join(test_names)}")

    def pool(sub):
        ds = parts[sub]
        root = os.path.join(path, sub)
        files = [os.path.relpath(p, root).replace(os.sep, "/") for p, _ in ds.samples]
        to_train = np.asarray([names.index(c) if c in names else -1 for c in ds.classes] + [-1], np.int64)
        return Pool(files, [p for p, _ in ds.samples], to_train[np.asarray(ds.targets, np.int64)])

    return Catalogue("imagefolder", names, pool("train"), None if split == "train" else pool(test_dir),
                     f"imagefolder {path!r}", test_name=test_dir)


def _places_catalogue(root: str, download: bool, holdout: bool) -> Catalogue:
    import torchvision

    pools, names = {}, None
    for which, split in (("train", "train-standard"), ("test", "val")):
        if which == "test" and holdout:
            continue
        ds = torchvision.datasets.Places365(root, split=split, small=True, download=download)
        folder = ds.images_dir
        if not os.path.isdir(folder) and split == "train-standard" and os.path.isdir(os.path.join(root, "data_256")):
            folder = os.path.join(root, "data_256")  # the archive's own folder name, before torchvision renames it
        if not os.path.isdir(folder):
            raise RuntimeError(f"image folder {folder} is missing")
        files = [os.path.relpath(p, ds.images_dir).replace(os.sep, "/") for p, _ in ds.imgs]
        pools[which] = Pool(files, [os.path.join(folder, f) for f in files], np.asarray(ds.targets, np.int64))
        by_index = {i: n for n, i in ds.class_to_idx.items()}
        names = [_places_name(by_index[i]) for i in range(len(by_index))]
    return Catalogue("places365", names, pools["train"], pools.get("test"), f"places365 {root!r}", draft=True,
                     test_name="val")


def _inat2017_split(root: str) -> tuple[set, set]:
    """The relative file names ('<super>/<species>/<file>') of iNaturalist 2017's train and val splits."""
    sets = []
    for name in ("train2017.json", "val2017.json"):
        found = [p for p in (os.path.join(root, name), os.path.join(root, "2017", name)) if os.path.isfile(p)]
        if not found:
            raise DatasetUnavailable(
                f"inaturalist 2017: {name} not found in {os.path.abspath(root)} (or its 2017/); the 2017 images "
                "hold train and validation in one folder and these files say which is which: put train2017.json "
                "and val2017.json (train_val2017.zip) there, or use inat_version 2021_mini")
        with open(found[0]) as fh:
            images = json.load(fh)["images"]
        sets.append({img["file_name"].replace("\\", "/").split("/", 1)[-1] for img in images})
    return sets[0], sets[1]


def _inat_catalogue(root: str, download: bool, holdout: bool, version: str, classes) -> Catalogue:
    import torchvision

    INat = torchvision.datasets.INaturalist
    if version not in INAT_VERSIONS:
        raise SourceError(f"inat_version {version!r} is not allowed; allowed: {', '.join(INAT_VERSIONS)}")
    if version == "2017":
        ds = INat(root, version="2017", target_type="super", download=download)
        index = ds.categories_index["super"]
        names = sorted(index, key=index.get)
        entries = sorted((f"{ds.all_categories[c]}/{f}".replace(os.sep, "/"), ds.categories_map[c]["super"])
                         for c, f in ds.index)
        train_set, val_set = _inat2017_split(root)

        def pool(keep):
            rows = [(f, y) for f, y in entries if f in keep]
            return Pool([f for f, _ in rows], [os.path.join(ds.root, f) for f, _ in rows],
                        np.asarray([y for _, y in rows], np.int64))

        return Catalogue("inaturalist", names, pool(train_set), None if holdout else pool(val_set),
                         f"inaturalist 2017 {root!r}", draft=True, test_name="val")
    if not classes:
        raise SourceError(f"inaturalist {version}: list the classes (taxon names such as Plantae, Insecta, Aves); "
                          "allowed without classes: inat_version 2017 (its 13 super-categories)")

    def pool(ver):
        ds = INat(root, version=ver, target_type="full", download=download)
        label_of = _inat2021_labels(ds.all_categories, classes)
        rows = sorted((f"{ds.all_categories[c]}/{f}", label_of[c]) for c, f in ds.index)
        return Pool([f for f, _ in rows], [os.path.join(ds.root, f) for f, _ in rows],
                    np.asarray([y for _, y in rows], np.int64))

    train = pool("2021_train" if version == "2021" else "2021_train_mini")
    test = None if holdout else pool("2021_valid")
    return Catalogue("inaturalist", list(classes), train, test, f"inaturalist {version} {root!r}", draft=True,
                     test_name="val")


def _inat2021_labels(categories: list[str], classes: list[str]) -> list[int]:
    """Per 2021 category folder ('00000_Animalia_Arthropoda_Insecta_..._genus_species'): the position in
    ``classes`` of the one taxon name (kingdom .. genus) it has, -1 for none."""
    labels, seen = [], set()
    for cat in categories:
        taxa = cat.split("_")[1:7]
        hits = [i for i, c in enumerate(classes) if c in taxa]
        if len(hits) > 1:
            raise SourceError(f"inaturalist: classes {classes[hits[0]]!r} and {classes[hits[1]]!r} overlap "
                             f"(category {cat!r} has both); allowed: taxa that do not contain each other")
        labels.append(hits[0] if hits else -1)
        seen.update(taxa)
    missing = [c for c in classes if c not in seen]
    if missing:
        levels = sorted({t for cat in categories for t in cat.split("_")[1:4]})
        raise UnknownClass(f"{missing[0]!r} is not a taxon of inaturalist 2021 (kingdom .. genus); allowed "
                           f"(kingdoms, phyla, classes): {', '.join(levels)} or an order, family or genus name")
    return labels


# --- file lists (the authors' published subsets) ---------------------------------------------------------

@dataclass
class FileList:
    path: str
    files: list[str]
    labels: list[int]
    names: list[str] | None = None   # a class-name column (iNat's supercategory), when there is one


def read_file_list(path: str) -> FileList:
    """A subset list: columns ``file,targets`` (the authors' Places lists), ``path,label,supercategory``
    (iNat; the published files head them ``0,1,2``), or any CSV whose first column is the file and second
    the integer label (a third, if any, the class name).  A header-less list is read as such."""
    import pandas as pd

    if not os.path.isfile(path):
        raise ValueError(f"file list {path} does not exist")
    with open(path) as fh:
        first = fh.readline().strip().split(",")[0].lower()
    headerless = first.endswith(IMG_EXTENSIONS)
    df = pd.read_csv(path, header=None if headerless else 0, dtype=str, keep_default_na=False)
    cols = [str(c) for c in df.columns]
    df.columns = cols
    if "file" in cols:
        fcol, lcol, ncol = "file", "targets" if "targets" in cols else None, None
    elif "path" in cols:
        fcol, lcol = "path", "label" if "label" in cols else None
        ncol = "supercategory" if "supercategory" in cols else None
    else:
        fcol, lcol, ncol = cols[0], cols[1] if len(cols) > 1 else None, cols[2] if len(cols) > 2 else None
    if lcol is None:
        raise ValueError(f"file list {path}: no label column; allowed: file,targets or path,label[,supercategory]")
    labels = []
    for row, value in enumerate(df[lcol]):
        try:
            labels.append(int(value))
        except ValueError:
            raise ValueError(f"file list {path}, line {row + 1 + (not headerless)}: label {value!r} is not an "
                             "integer class index") from None
    files = [f.replace("\\", "/").lstrip("/") for f in df[fcol]]
    return FileList(path, files, labels, list(df[ncol]) if ncol else None)


class FileIndex:
    """Finds a listed file among a pool's relative file names by path suffix: 'train_val_images/Plantae/x/y.jpg'
    matches the pool file 'Plantae/x/y.jpg' and 'a/airfield/1.jpg' matches 'a/airfield/1.jpg' (either may be
    the longer).  :meth:`find` gives the position, None for no match, -1 for several."""

    def __init__(self, files):
        self.files = list(files)
        self.by_name: dict[str, list[int]] = {}
        for i, f in enumerate(self.files):
            self.by_name.setdefault(f.rsplit("/", 1)[-1], []).append(i)

    def find(self, entry: str):
        entry = entry.replace("\\", "/").lstrip("/")
        hits = [i for i in self.by_name.get(entry.rsplit("/", 1)[-1], ())
                if self.files[i] == entry or self.files[i].endswith("/" + entry) or entry.endswith("/" + self.files[i])]
        if len(hits) > 1:
            exact = [i for i in hits if self.files[i] == entry]
            return exact[0] if len(exact) == 1 else -1
        return hits[0] if hits else None


def list_indices(lst: FileList, files, labels, class_names) -> np.ndarray:
    """Positions in a pool (``files``, ``labels``) of the files a list names, in list order.  One-line
    ValueError for a file that matches nothing (or several files) and for a label that disagrees with the
    pool's class (the list's label index, or its class-name column, must name the same class)."""
    if files is None:
        raise ValueError(f"file list {lst.path}: the pool has no file names (refetch the dataset)")
    index = FileIndex([str(f) for f in files])
    out = []
    for row, entry in enumerate(lst.files):
        hit = index.find(entry)
        if hit is None or hit < 0:
            raise ValueError(f"file list {lst.path}, line {row + 2}: {entry!r} matches "
                             f"{'several files' if hit == -1 else 'no file'} of the pool")
        y = int(labels[hit])
        if lst.names is not None:
            if lst.names[row] != class_names[y]:
                raise ValueError(f"file list {lst.path}, line {row + 2}: {entry!r} is class {class_names[y]!r} in "
                                 f"the pool but the list says {lst.names[row]!r}")
        elif lst.labels[row] != y:
            raise ValueError(f"file list {lst.path}, line {row + 2}: {entry!r} is class {y} ({class_names[y]!r}) "
                             f"in the pool but the list says {lst.labels[row]}; list the classes in the list's "
                             f"label order (datasets.<name>.classes)")
        out.append(hit)
    return np.asarray(out, dtype=np.int64)


# --- sources loaded as whole arrays ------------------------------------------------------------------------

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


def _celeba(root: str, download: bool, image_size: int, test_split: str = "test") -> ImageArrays:
    import torchvision
    from PIL import Image

    splits = {}
    for part, split in (("train", "train"), ("test", "valid" if test_split == "val" else "test")):
        if part == "test" and test_split == "train":
            continue
        ds = torchvision.datasets.CelebA(root, split=split, target_type="attr", download=download)
        cols = [ds.attr_names.index(a) for a in CELEBA_HAIR]
        attr = ds.attr[:, cols].numpy()
        keep = np.where(attr.sum(axis=1) == 1)[0]
        labels = attr[keep].argmax(axis=1).astype(np.int64)
        folder = os.path.join(ds.root, ds.base_folder, "img_align_celeba")
        imgs = np.stack([_resize(Image.open(os.path.join(folder, ds.filename[i])).convert("RGB"), image_size)
                         for i in keep])
        splits[part] = (imgs, labels)
    splits.setdefault("test", splits["train"])
    names = [a.replace("_Hair", "").lower() for a in CELEBA_HAIR]
    return ImageArrays(*splits["train"], *splits["test"], names)


# --- what a source holds, known without downloading (for plan-time config checks) ----------------------

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# torchvision's SVHN splits per label (digit 0 relabelled from 10 to 0); they sum to 73,257 and 26,032
SVHN_TRAIN_COUNTS = (4948, 13861, 10585, 8497, 7458, 6882, 5727, 5595, 5045, 4659)
SVHN_TEST_COUNTS = (1744, 5099, 4149, 2882, 2523, 2384, 1977, 2019, 1660, 1595)
# torchvision.datasets.folder.IMG_EXTENSIONS (not imported: that would import torch)
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


@dataclass
class SourceInfo:
    """What is known about a source without downloading; None where unknown."""
    num_classes: int | None
    class_names: list[str] | None
    train_counts: list[int] | None   # images per class (in class order) available to the imbalanced subset
    total_counts: list[int] | None = None   # digits: per class before the test split
    test_counts: list[int] | None = None    # images per class of the test pool
    holdout: bool = False                   # the test pool is the train pool
    notes: dict = field(default_factory=dict)

    def subset(self, positions: list[int]) -> "SourceInfo":
        """The same facts for the classes at ``positions`` (in that order)."""
        pick = (lambda v: None if v is None else [v[p] for p in positions])
        return SourceInfo(len(positions), pick(self.class_names), pick(self.train_counts), pick(self.total_counts),
                          pick(self.test_counts), self.holdout, self.notes)

    def capped(self, cap: int | None) -> "SourceInfo":
        """The counts after ``pool_per_class``."""
        if cap is None:
            return self
        cut = (lambda v: None if v is None else [min(n, cap) for n in v])
        return SourceInfo(self.num_classes, self.class_names, cut(self.train_counts), self.total_counts,
                          cut(self.test_counts), self.holdout, self.notes)


def _count_files(folder: str, names: list[str]) -> list[int]:
    counts = []
    for name in names:
        n = 0
        for _, _, files in os.walk(os.path.join(folder, name), followlinks=True):
            n += sum(f.lower().endswith(IMG_EXTENSIONS) for f in files)
        counts.append(n)
    return counts


def _places_list_counts(path: str, num_classes: int) -> list[int] | None:
    if not os.path.isfile(path):
        return None
    return list(_places_list_counts_cached(path, os.path.getmtime(path), num_classes))


@lru_cache(maxsize=8)
def _places_list_counts_cached(path: str, mtime: float, num_classes: int) -> tuple:
    """Images per class of a Places365 split list (1.8M lines for train-standard: read once per process)."""
    counts = np.zeros(num_classes, np.int64)
    with open(path, "rb") as fh:
        labels = [int(line.rsplit(None, 1)[-1]) for line in fh if line.strip()]
    np.add.at(counts, np.asarray(labels, np.int64), 1)
    return tuple(counts.tolist())


def describe_source(source: str, *, path: str | None = None, root: str | None = None, test_per_class: int = 50,
                    test_split: str | None = None, inat_version: str = "2021_mini", **_ignored) -> SourceInfo:
    """Class names and per-class counts of a source, cheaply and without any download.

    digits: from scikit-learn's embedded copy (minus ``test_per_class`` per class); cifar10/100:
    5000 / 500 per class (test 1000 / 100); svhn: the known counts; celeba: names only (the hair-class
    counts depend on the attribute file); imagefolder: image files per class folder of ``<path>/train``
    and of the test folder (ImageFolder's sorted folder names and extensions); places365: the names from
    ``<root>/categories_places365.txt`` and the counts from the split lists where present (val: 100 a
    class); inaturalist 2017: the 13 super-categories (counts unknown).  ``test_split: train`` makes the
    test counts the train counts (one pool)."""
    split = test_split or (default_test_split(source) if source in TEST_SPLITS else "test")
    info = _describe(source, path=path, root=root or os.path.join("data", "downloads", source),
                     test_per_class=test_per_class, split=split, inat_version=inat_version)
    if split == "train":
        info.test_counts, info.holdout = info.train_counts, True
    return info


def _describe(source, *, path, root, test_per_class, split, inat_version) -> SourceInfo:
    if source == "digits":
        from sklearn.datasets import load_digits

        total = np.bincount(load_digits().target, minlength=10).tolist()
        return SourceInfo(10, [str(c) for c in range(10)], [n - min(test_per_class, n) for n in total], total,
                          [min(test_per_class, n) for n in total])
    if source == "cifar10":
        return SourceInfo(10, list(CIFAR10_CLASSES), [5000] * 10, test_counts=[1000] * 10)
    if source == "cifar100":
        return SourceInfo(100, None, [500] * 100, test_counts=[100] * 100)
    if source == "svhn":
        return SourceInfo(10, [str(c) for c in range(10)], list(SVHN_TRAIN_COUNTS), test_counts=list(SVHN_TEST_COUNTS))
    if source == "celeba":
        return SourceInfo(len(CELEBA_HAIR), [a.replace("_Hair", "").lower() for a in CELEBA_HAIR], None)
    if source == "imagefolder":
        train = os.path.join(path or "", "train")
        if not path or not os.path.isdir(train):
            return SourceInfo(None, None, None)
        names = sorted(e.name for e in os.scandir(train) if e.is_dir())
        test = os.path.join(path, split)
        test_counts = _count_files(test, names) if split != "train" and os.path.isdir(test) else None
        return SourceInfo(len(names), names, _count_files(train, names), test_counts=test_counts)
    if source == "places365":
        cats = os.path.join(root, "categories_places365.txt")
        if not os.path.isfile(cats):
            return SourceInfo(365, None, None, test_counts=[PLACES365_VAL_PER_CLASS] * 365)
        with open(cats) as fh:
            by_index = {int(i): n for n, i in (line.split() for line in fh if line.strip())}
        num = len(by_index)
        names = [_places_name(by_index[i]) for i in range(num)]
        val = _places_list_counts(os.path.join(root, "places365_val.txt"), num)
        return SourceInfo(num, names, _places_list_counts(os.path.join(root, "places365_train_standard.txt"), num),
                          test_counts=val or [PLACES365_VAL_PER_CLASS] * num)
    if source == "inaturalist":
        if inat_version == "2017":
            folder = os.path.join(root, "2017")
            names = sorted(os.listdir(folder)) if os.path.isdir(folder) else list(INAT2017_SUPER)
            return SourceInfo(len(names), names, None)
        folder = os.path.join(root, "2021_train" if inat_version == "2021" else "2021_train_mini")
        taxa = set()
        if os.path.isdir(folder):
            for d in os.listdir(folder):
                taxa.update(d.split("_")[1:7])
        return SourceInfo(None, None, None, notes={"taxa": sorted(taxa)} if taxa else {})
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
