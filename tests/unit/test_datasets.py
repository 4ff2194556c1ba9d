import os

import numpy as np
import pytest
from PIL import Image

from pipeline_lib.core.datasets import DatasetUnavailable, ImageArrays, fetch, load_stats


def test_digits_split_is_balanced_and_disjoint():
    d = fetch("digits", test_per_class=30, split_seed=0)
    assert d.train_x.dtype == np.uint8 and d.train_x.shape[1:] == (8, 8, 1)
    assert np.bincount(d.test_y).tolist() == [30] * 10
    assert len(d.train_y) + len(d.test_y) == 1797
    assert d.train_x.max() == 255 and d.class_names == [str(i) for i in range(10)]
    again = fetch("digits", test_per_class=30, split_seed=0)
    assert np.array_equal(d.test_x, again.test_x)
    other = fetch("digits", test_per_class=30, split_seed=1)
    assert not np.array_equal(d.test_x, other.test_x)


def test_arrays_roundtrip_and_same_bytes(tmp_path):
    d = fetch("digits")
    d.save(str(tmp_path / "a.npz"))
    d.save(str(tmp_path / "b.npz"))
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    back = ImageArrays.load(str(tmp_path / "a.npz"))
    assert np.array_equal(back.train_x, d.train_x) and back.class_names == d.class_names
    mean, std = load_stats(str(tmp_path / "a.npz"))
    assert mean.shape == (1,) and 0 < mean[0] < 1 and std[0] > 0


def _folder(root, classes=("cat", "dog"), n=(3, 2), size=6):
    rng = np.random.RandomState(0)
    for split, k in (("train", n[0]), ("test", n[1])):
        for c in classes:
            (root / split / c).mkdir(parents=True)
            for i in range(k):
                Image.fromarray(rng.randint(0, 255, (size, size, 3)).astype(np.uint8)).save(root / split / c / f"{i}.png")


@pytest.mark.slow
def test_imagefolder_reads_layout(tmp_path):
    _folder(tmp_path)
    d = fetch("imagefolder", path=str(tmp_path))
    assert d.class_names == ["cat", "dog"]
    assert d.train_x.shape == (6, 6, 6, 3) and d.test_x.shape == (4, 6, 6, 3)
    assert d.train_y.tolist() == [0, 0, 0, 1, 1, 1]
    first = np.asarray(Image.open(tmp_path / "train" / "cat" / "0.png"))
    assert np.array_equal(d.train_x[0], first)
    resized = fetch("imagefolder", path=str(tmp_path), image_size=4)
    assert resized.train_x.shape[1:] == (4, 4, 3)


def test_imagefolder_missing_split(tmp_path):
    _folder(tmp_path)
    import shutil
    shutil.rmtree(tmp_path / "test")
    with pytest.raises(DatasetUnavailable, match="test'? is missing"):
        fetch("imagefolder", path=str(tmp_path))
    (tmp_path / "test" / "cat").mkdir(parents=True)  # a class folder without images
    with pytest.raises(DatasetUnavailable, match="imagefolder: .*cat"):
        fetch("imagefolder", path=str(tmp_path))


@pytest.mark.parametrize("source, expected", [("cifar10", "cifar-10-batches-py"), ("cifar100", "cifar-100-python"),
                                              ("svhn", "train_32x32.mat")])
def test_missing_download_says_where_to_put_files(tmp_path, source, expected):
    with pytest.raises(DatasetUnavailable) as exc:
        fetch(source, root=str(tmp_path / "dl"), download=False)
    msg = str(exc.value)
    assert "\n" not in msg and str(tmp_path / "dl") in msg and expected in msg


def test_unknown_source():
    with pytest.raises(ValueError, match="allowed: digits, cifar10"):
        fetch("mnist")


# --- class subsets, test pools, pool caps, file names -----------------------------------------------------

def _pools(root, counts, splits=("train", "val"), size=6, ext="png"):
    """A class-per-folder copy: ``counts`` {class: (n_train, n_test)}; pixel (0, 0) holds the class number
    and pixel (0, 1) the image number, so a test can tell which file an array row came from."""
    for s, split in enumerate(splits):
        for k, (cls, ns) in enumerate(sorted(counts.items())):
            (root / split / cls).mkdir(parents=True)
            for i in range(ns[s]):
                img = np.full((size, size, 3), 7, np.uint8)
                img[0, 0], img[0, 1] = 10 * k, i
                Image.fromarray(img).save(root / split / cls / f"{i:03d}.{ext}")
    return root


def test_imagefolder_class_subset_relabels_in_listed_order(tmp_path):
    _pools(tmp_path, {"ant": (4, 2), "bee": (3, 2), "cat": (5, 3)})
    d = fetch("imagefolder", path=str(tmp_path), classes=["cat", "ant"], test_split="val")
    assert d.class_names == ["cat", "ant"]
    assert np.bincount(d.train_y).tolist() == [5, 4] and np.bincount(d.test_y).tolist() == [3, 2]
    assert list(d.train_files[:5]) == ["ant/000.png", "ant/001.png", "ant/002.png", "ant/003.png", "cat/000.png"]
    assert d.train_y[:5].tolist() == [1, 1, 1, 1, 0]  # source order kept, labels from the listed order
    for x, y, f in zip(d.train_x, d.train_y, d.train_files):  # every row is the file it names
        assert x[0, 0, 0] == {"ant": 0, "cat": 20}[f.split("/")[0]] and x[0, 1, 0] == int(f[-7:-4])
        assert d.class_names[y] == f.split("/")[0]
    assert set(d.test_files) == {"cat/000.png", "cat/001.png", "cat/002.png", "ant/000.png", "ant/001.png"}


def test_imagefolder_val_pool_and_missing_folder(tmp_path):
    _pools(tmp_path, {"a": (3, 2), "b": (3, 2)})
    with pytest.raises(DatasetUnavailable, match=r"'.*test' is missing; expected <path>/train/<class>/\* and "
                                                 r"<path>/test/<class>/\*"):
        fetch("imagefolder", path=str(tmp_path))  # default: <path>/test
    d = fetch("imagefolder", path=str(tmp_path), test_split="val")
    assert len(d.test_y) == 4 and not d.holdout


def test_unknown_class_is_one_line_listing_the_names(tmp_path):
    from pipeline_lib.core.datasets import UnknownClass

    _pools(tmp_path, {"ant": (2, 1), "bee": (2, 1)})
    with pytest.raises(UnknownClass) as exc:
        fetch("imagefolder", path=str(tmp_path), classes=["ant", "bea"], test_split="val")
    assert str(exc.value) == "'bea' is not a class of imagefolder (did you mean 'bee'?); allowed: ant, bee"
    with pytest.raises(UnknownClass, match=r"'10' is not a class of digits \(did you mean '1'\?\); allowed: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9$"):
        fetch("digits", classes=["1", "10"])


def test_holdout_pool_is_stored_once(tmp_path):
    _pools(tmp_path, {"a": (3, 0), "b": (2, 0)}, splits=("train",))
    d = fetch("imagefolder", path=str(tmp_path), test_split="train")
    assert d.holdout and d.test_x is d.train_x and list(d.test_files) == list(d.train_files)
    d.save(str(tmp_path / "h.npz"))
    with np.load(tmp_path / "h.npz") as z:
        assert "test_x" not in z.files and bool(z["holdout"])
    back = ImageArrays.load(str(tmp_path / "h.npz"))
    assert back.holdout and np.array_equal(back.test_x, d.train_x) and back.test_y.tolist() == d.train_y.tolist()


def test_files_only_stored_when_known(tmp_path):
    d = fetch("digits", classes=["3", "1"])
    assert d.class_names == ["3", "1"] and set(np.unique(d.train_y)) == {0, 1} and d.train_files is None
    full = fetch("digits")
    assert np.array_equal(d.test_x[d.test_y == 0], full.test_x[full.test_y == 3])
    d.save(str(tmp_path / "d.npz"))
    with np.load(tmp_path / "d.npz") as z:
        assert z.files == ["train_x", "train_y", "test_x", "test_y", "class_names", "mean", "std"]


def test_pool_cap_is_seeded_and_keeps_listed_files(tmp_path):
    _pools(tmp_path, {"a": (12, 5), "b": (6, 5)})
    kw = dict(path=str(tmp_path), test_split="val", pool_per_class=4)
    d = fetch("imagefolder", **kw)
    assert np.bincount(d.train_y).tolist() == [4, 4] and np.bincount(d.test_y).tolist() == [4, 4]
    again = fetch("imagefolder", **kw)
    assert list(again.train_files) == list(d.train_files) and np.array_equal(again.train_x, d.train_x)
    other = fetch("imagefolder", **kw, split_seed=3)
    assert list(other.train_files) != list(d.train_files)
    listed = [f for f in [f"a/{i:03d}.png" for i in range(12)] if f not in set(d.train_files)][:2]
    (tmp_path / "trn.csv").write_text("file,targets\n" + "".join(f"{f},0\n" for f in listed))
    (tmp_path / "tst.csv").write_text("file,targets\nb/004.png,1\n")
    kept = fetch("imagefolder", **kw, file_lists={"train": [str(tmp_path / "trn.csv")], "test": [str(tmp_path / "tst.csv")]})
    assert set(listed) <= set(kept.train_files) and set(d.train_files) <= set(kept.train_files)
    assert np.bincount(kept.train_y).tolist() == [6, 4] and "b/004.png" in set(kept.test_files)
    (tmp_path / "bad.csv").write_text("file,targets\na/000.png,0\na/099.png,0\n")
    with pytest.raises(ValueError) as exc:
        fetch("imagefolder", **kw, file_lists={"train": [str(tmp_path / "bad.csv")], "test": []})
    assert str(exc.value).startswith(f"file list {tmp_path / 'bad.csv'}, line 3: 'a/099.png' matches no file of the "
                                     "classes a, b in the train pool")


def test_file_list_formats(tmp_path):
    from pipeline_lib.core.datasets import FileIndex, read_file_list

    (tmp_path / "p.csv").write_text("file,targets\na/airfield/00000001.jpg,0\n")
    (tmp_path / "i.csv").write_text("0,1,2\ntrain_val_images/Aves/Corvus corax/ab.jpg,2,Aves\n")
    (tmp_path / "n.csv").write_text("path,label,supercategory\nAves/x/cd.jpg,2,Aves\n")
    (tmp_path / "h.csv").write_text("x/1.png,1\nx/2.png,0\n")
    p, i, n, h = (read_file_list(str(tmp_path / f)) for f in ("p.csv", "i.csv", "n.csv", "h.csv"))
    assert (p.files, p.labels, p.names) == (["a/airfield/00000001.jpg"], [0], None)
    assert (i.files, i.labels, i.names) == (["train_val_images/Aves/Corvus corax/ab.jpg"], [2], ["Aves"])
    assert (n.files, n.names) == (["Aves/x/cd.jpg"], ["Aves"]) and h.files == ["x/1.png", "x/2.png"]
    index = FileIndex(["Aves/Corvus corax/ab.jpg", "a/airfield/00000001.jpg", "b/barn/00000001.jpg"])
    assert index.find("train_val_images/Aves/Corvus corax/ab.jpg") == 0  # the list's path is longer
    assert index.find("airfield/00000001.jpg") == 1                      # the pool's path is longer
    assert index.find("00000001.jpg") == -1 and index.find("c/00000001.jpg") is None
    (tmp_path / "bad.csv").write_text("file,targets\na/1.jpg,zero\n")
    with pytest.raises(ValueError, match=r"bad.csv, line 2: label 'zero' is not an integer"):
        read_file_list(str(tmp_path / "bad.csv"))


# --- Places365 and iNaturalist read through torchvision, on tiny fake copies ------------------------------

def _jpeg(path, value, size=40):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size, size, 3), value, np.uint8)).save(path, quality=95)


@pytest.fixture
def places_root(tmp_path, monkeypatch):
    """Places365's files (category list, split lists, data_256_standard/, val_256/) for four classes.  The
    md5 sums torchvision checks are those of the real lists, so the check is switched off here."""
    import torchvision.datasets.places365 as p365

    monkeypatch.setattr(p365, "check_integrity", lambda path, md5=None: os.path.isfile(path))
    root = tmp_path / "places"
    cats = ["/a/airfield", "/a/amusement_park", "/a/aquarium", "/b/barn"]
    root.mkdir()
    (root / "categories_places365.txt").write_text("".join(f"{c} {i}\n" for i, c in enumerate(cats)))
    train, val = [], []
    for i, c in enumerate(cats):
        for j in range(1, 7 - i):
            rel = f"{c}/{j:08d}.jpg"
            _jpeg(root / "data_256_standard" / rel.lstrip("/"), 40 * i + j)
            train.append(f"{rel} {i}")
        for j in range(2):
            name = f"Places365_val_{2 * i + j + 1:08d}.jpg"
            _jpeg(root / "val_256" / name, 40 * i + 20 + j)
            val.append(f"{name} {i}")
    (root / "places365_train_standard.txt").write_text("\n".join(train) + "\n")
    (root / "places365_val.txt").write_text("\n".join(val) + "\n")
    return root


def test_places365_through_torchvision(places_root):
    from pipeline_lib.core.datasets import describe_source

    d = fetch("places365", root=str(places_root), download=False, image_size=8,
              classes=["barn", "airfield", "/a/aquarium"])
    assert d.class_names == ["barn", "airfield", "aquarium"] and d.train_x.shape[1:] == (8, 8, 3)
    assert np.bincount(d.train_y).tolist() == [3, 6, 4] and np.bincount(d.test_y).tolist() == [2, 2, 2]
    assert d.train_files[0] == "a/airfield/00000001.jpg" and d.test_files[0] == "Places365_val_00000001.jpg"
    assert abs(int(d.train_x[0, 4, 4, 0]) - 1) <= 2 and abs(int(d.test_x[0, 4, 4, 0]) - 20) <= 2
    info = describe_source("places365", root=str(places_root))
    assert info.class_names == ["airfield", "amusement_park", "aquarium", "barn"]
    assert info.train_counts == [6, 5, 4, 3] and info.test_counts == [2, 2, 2, 2]
    held = fetch("places365", root=str(places_root), download=False, image_size=8, classes=["airfield", "barn"],
                 test_split="train")
    assert held.holdout and len(held.test_y) == 9


def test_places365_missing_says_what_to_put_where(tmp_path):
    with pytest.raises(DatasetUnavailable) as exc:
        fetch("places365", root=str(tmp_path / "none"), download=False, classes=["airfield", "barn"])
    msg = str(exc.value)
    assert "\n" not in msg and "categories_places365.txt" in msg and "data_256_standard/" in msg
    with pytest.raises(ValueError, match="test_split 'test' is not available; allowed: val, train"):
        fetch("places365", root=str(tmp_path), test_split="test")


def test_inaturalist_2017_split_by_json_and_authors_paths(tmp_path):
    import json

    root = tmp_path / "inat"
    files = {"train": [], "val": []}
    for k, (sup, species) in enumerate([("Aves", "Corvus corax"), ("Plantae", "Abies concolor"),
                                        ("Fungi", "Amanita muscaria")]):
        for j in range(5):
            name = f"{sup}/{species}/{k}{j:031d}.jpg"
            _jpeg(root / "2017" / name, 30 * k + j)
            files["val" if j >= 3 else "train"].append(name)
    for split in ("train", "val"):
        (root / f"{split}2017.json").write_text(json.dumps(
            {"images": [{"file_name": f"train_val_images/{f}"} for f in files[split]]}))
    d = fetch("inaturalist", root=str(root), download=False, inat_version="2017", image_size=8,
              classes=["Plantae", "Aves"])
    assert d.class_names == ["Plantae", "Aves"]
    assert np.bincount(d.train_y).tolist() == [3, 3] and np.bincount(d.test_y).tolist() == [2, 2]
    assert set(d.test_files) == {f for f in files["val"] if not f.startswith("Fungi")}
    everything = fetch("inaturalist", root=str(root), download=False, inat_version="2017", image_size=8)
    assert everything.class_names == ["Aves", "Fungi", "Plantae"]  # all super-categories present
    (root / "val2017.json").unlink()
    with pytest.raises(DatasetUnavailable, match="val2017.json not found"):
        fetch("inaturalist", root=str(root), download=False, inat_version="2017", classes=["Aves", "Plantae"])


def test_inaturalist_2021_classes_are_taxa(tmp_path):
    from pipeline_lib.core.datasets import UnknownClass

    root = tmp_path / "inat"
    cats = ["00000_Animalia_Arthropoda_Insecta_Lepidoptera_Noctuidae_Abagrotis_alternata",
            "00001_Animalia_Chordata_Aves_Passeriformes_Corvidae_Corvus_corax",
            "00002_Plantae_Tracheophyta_Pinopsida_Pinales_Pinaceae_Abies_concolor"]
    for ver, n in (("2021_train_mini", 4), ("2021_valid", 2)):
        for k, cat in enumerate(cats):
            for j in range(n):
                _jpeg(root / ver / cat / f"{ver}_{j}.jpg", 30 * k + j)
    d = fetch("inaturalist", root=str(root), download=False, inat_version="2021_mini", image_size=8,
              classes=["Plantae", "Aves"])
    assert d.class_names == ["Plantae", "Aves"] and np.bincount(d.train_y).tolist() == [4, 4]
    assert np.bincount(d.test_y).tolist() == [2, 2] and d.test_files[0].startswith("00001_Animalia")
    with pytest.raises(UnknownClass, match="'Reptilia' is not a taxon of inaturalist 2021"):
        fetch("inaturalist", root=str(root), download=False, inat_version="2021_mini", classes=["Aves", "Reptilia"])
    with pytest.raises(ValueError, match="'Animalia' and 'Aves' overlap"):
        fetch("inaturalist", root=str(root), download=False, inat_version="2021_mini", classes=["Animalia", "Aves"])


@pytest.mark.slow
def test_cifar10_five_class_step_subset_stands_in_for_places(cifar_folder, tmp_path):
    """A five-class step subset of the real CIFAR-10 folder: the Places / iNat data path on real images."""
    from pipeline_lib.core.imbalance import balanced_table, cut_tables

    kw = dict(path=str(cifar_folder), classes=["cat", "dog", "airplane", "ship", "truck"], pool_per_class=150)
    fetch("imagefolder", **kw).save(str(tmp_path / "a.npz"))
    fetch("imagefolder", **kw).save(str(tmp_path / "b.npz"))
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()  # same seed, same bytes
    data = ImageArrays.load(str(tmp_path / "a.npz"))
    assert data.class_names == kw["classes"] and data.train_x.shape == (750, 32, 32, 3) and len(data.test_y) == 750
    for files, labels in ((data.train_files, data.train_y), (data.test_files, data.test_y)):
        assert [f.split("/")[0] for f in files] == [data.class_names[y] for y in labels]
    first = files[0]
    assert np.array_equal(data.test_x[0], np.asarray(Image.open(cifar_folder / "test" / first)))
    step, draw = {"type": "step", "ratio": 10, "n_max": 100}, [50, 50, 25, 25, 25]
    tables = {cut: cut_tables(data, step, cut, test_draw=draw) for cut in (0, 10)}
    for cut, (train, test) in tables.items():
        assert train["label"].value_counts().sort_index().tolist() == [100, 100, 10, 10, 10]
        assert test["label"].value_counts().sort_index().tolist() == draw
        bal = balanced_table(data.train_y, data.class_names, train, cut)
        assert bal["label"].value_counts().tolist() == [100] * 5
    assert set(tables[0][1]["sample_id"]) != set(tables[10][1]["sample_id"])
    assert set(tables[0][0]["sample_id"]) != set(tables[10][0]["sample_id"])
    again = cut_tables(data, step, 10, test_draw=draw)
    assert again[0].equals(tables[10][0]) and again[1].equals(tables[10][1])
