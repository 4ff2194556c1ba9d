import numpy as np
import pytest
from PIL import Image

from pipeline_lib.datasets import DatasetUnavailable, ImageArrays, fetch, load_stats


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
