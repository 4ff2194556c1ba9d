"""GAN oversamplers (pipeline_lib.sampling.gans): shapes, counts, determinism, persistence, divergence, GAMO's convex hull."""
import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from pipeline_lib.sampling import gans
from pipeline_lib.infra.schema_defaults import gan_options

COUNTS = (40, 10, 4)  # imbalanced 3-class subset of sklearn's digits
TINY = {
    "gamo": {"epochs": 2, "batch_size": 16, "latent_dim": 8, "width": 4, "hidden": 16, "transient_dim": 8},
    "bagan": {"epochs": 2, "ae_epochs": 2, "batch_size": 16, "latent_dim": 8, "width": 4},
    "cgan": {"epochs": 2, "batch_size": 16, "latent_dim": 8, "width": 4},
    "cgan-conditional": {"mode": "conditional", "epochs": 2, "batch_size": 16, "latent_dim": 8, "width": 4},
}
TINY = {v: gan_options(v.split("-")[0], **o) for v, o in TINY.items()}  # the schema's defaults under the rest
VARIANTS = tuple(TINY)


def _gan(variant):
    return variant.split("-")[0]


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny nets run fastest on one thread (and two threads thrash when the cores are busy)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    x = (d.images * 255 / 16).round().astype(np.uint8)[..., None]
    keep = np.concatenate([np.flatnonzero(d.target == c)[:n] for c, n in enumerate(COUNTS)])
    return x[keep], d.target[keep].astype(np.int64)


def _train(variant, data, seed=0, **extra):
    x, y = data
    return gans.train_gan(_gan(variant), x, y, num_classes=3, options={**TINY[variant], **extra}, seed=seed,
                          dataset="digits-test", log=lambda line: None)


@pytest.fixture(scope="module")
def trained(digits):
    return {v: _train(v, digits) for v in VARIANTS}


def _tensors(obj, prefix=""):
    """Flatten the nested generator / latent state into name -> tensor."""
    if isinstance(obj, torch.Tensor):
        return {prefix: obj}
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, (list, tuple)) else ()
    out = {}
    for k, v in items:
        out.update(_tensors(v, f"{prefix}/{k}"))
    return out


def _gen(state, counts, seed, data):
    x, y = data
    return gans.generate(state, counts, seed=seed, images=x, labels=y)


@pytest.mark.parametrize("variant", VARIANTS)
def test_state_and_generate(variant, trained, digits):
    state = trained[variant]
    for key in ("gan", "options", "image_shape", "num_classes", "generator", "history", "seconds", "class_counts"):
        assert key in state
    assert state["gan"] == _gan(variant) and state["image_shape"] == (8, 8, 1) and state["num_classes"] == 3
    assert state["class_counts"] == list(COUNTS)
    assert list(state["options"]) == list(gans.OPTIONS[_gan(variant)])  # every option, in the schema's order
    assert state["history"] and all("epoch" in row for row in state["history"]) and state["seconds"] > 0
    assert gans.parameter_count(state) > 0

    x, y = _gen(state, {2: 7, 0: 3, 1: 0}, 5, digits)
    assert x.dtype == np.uint8 and x.shape == (10, 8, 8, 1)
    assert y.dtype == np.int64 and y.tolist() == [0] * 3 + [2] * 7  # classes ascending, counts as asked
    assert x.min() >= 0 and x.max() <= 255 and x.std() > 0
    x0, y0 = _gen(state, {}, 5, digits)
    assert x0.shape == (0, 8, 8, 1) and y0.shape == (0,)


@pytest.mark.parametrize("variant", VARIANTS)
def test_determinism(variant, trained, digits):
    state = trained[variant]
    rng_before = torch.get_rng_state()
    again = _train(variant, digits, seed=0)
    assert torch.equal(rng_before, torch.get_rng_state())  # the caller's RNG is left alone
    a, b = _tensors({"g": state["generator"], "l": state.get("latent", {})}), \
        _tensors({"g": again["generator"], "l": again.get("latent", {})})
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    other = _tensors({"g": _train(variant, digits, seed=1)["generator"]})
    assert any(not torch.equal(a["/g" + k[2:]], v) for k, v in other.items() if v.is_floating_point())

    counts = {0: 4, 1: 3, 2: 5}
    x1, _ = _gen(state, counts, 11, digits)
    x2, _ = _gen(again, counts, 11, digits)
    x3, _ = _gen(state, counts, 12, digits)
    assert np.array_equal(x1, x2) and not np.array_equal(x1, x3)


@pytest.mark.parametrize("variant", VARIANTS)
def test_save_load_round_trip(variant, trained, digits, tmp_path):
    path = tmp_path / "sub" / "gen.pt"
    gans.save_generator(str(path), trained[variant])
    assert [p.name for p in path.parent.iterdir()] == ["gen.pt"]  # no temporary file left
    loaded = gans.load_generator(str(path))
    counts = {1: 6, 2: 6}
    assert np.array_equal(_gen(loaded, counts, 3, digits)[0], _gen(trained[variant], counts, 3, digits)[0])
    assert gans.parameter_count(loaded) == gans.parameter_count(trained[variant])


@pytest.mark.parametrize("variant", VARIANTS)
def test_divergence_raises_one_line(variant, digits):
    with pytest.raises(gans.GanDiverged) as err:
        _train(variant, digits, lr=1e30)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"GAN {_gan(variant)!r} diverged on data set 'digits-test' at epoch ")
    assert msg.split(" at epoch ")[1].split(":")[0].isdigit()
    assert msg.endswith((" is nan", " is inf", " is -inf"))


def test_bagan_divergence_in_adversarial_phase(digits):
    with pytest.raises(gans.GanDiverged, match=r"^GAN 'bagan' diverged on data set 'digits-test' at epoch 1: "
                                               r"d_loss is nan$"):
        _train("bagan", digits, lr=1e30, ae_epochs=0)


def test_gamo_samples_in_class_convex_hull(trained, digits):
    x, y = digits
    gx, gy = _gen(trained["gamo"], {0: 20, 1: 40, 2: 40}, 0, digits)
    for c in range(3):
        real = x[y == c].astype(int)
        fake = gx[gy == c].astype(int)
        assert len(fake) and (fake >= real.min(0) - 1).all() and (fake <= real.max(0) + 1).all()


def test_gamo_needs_its_training_images(trained, digits):
    x, y = digits
    with pytest.raises(ValueError, match="training images"):
        gans.generate(trained["gamo"], {1: 2}, seed=0)
    with pytest.raises(ValueError, match="not the ones GAMO was trained on"):
        gans.generate(trained["gamo"], {1: 2}, seed=0, images=x[:-1], labels=y[:-1])
    changed = x.copy()
    changed[-1] = 255 - changed[-1]
    with pytest.raises(ValueError, match="not the ones GAMO was trained on"):
        gans.generate(trained["gamo"], {1: 2}, seed=0, images=changed, labels=y)


def test_cgan_per_class_has_one_generator_per_class(trained):
    per_class, conditional = trained["cgan"], trained["cgan-conditional"]
    assert len(per_class["generator"]["per_class"]) == 3
    assert {row["class"] for row in per_class["history"]} == {0, 1, 2}
    assert gans.parameter_count(per_class) % 3 == 0
    assert "conditional" in conditional["generator"]


def test_bad_options_and_names(digits):
    x, y = digits
    with pytest.raises(ValueError, match=r"'learning_rate'.*allowed: .*lr"):
        gans.train_gan("gamo", x, y, num_classes=3, options={"learning_rate": 1e-3}, seed=0)
    with pytest.raises(ValueError, match="gamo, bagan, cgan"):
        gans.train_gan("wgan", x, y, num_classes=3, options={}, seed=0)
    with pytest.raises(ValueError, match="mode"):
        gans.train_gan("cgan", x, y, num_classes=3, options=gan_options("cgan", mode="joint"), seed=0)
    with pytest.raises(ValueError, match="epochs"):
        gans.train_gan("bagan", x, y, num_classes=3, options=gan_options("bagan", epochs=0), seed=0)
    with pytest.raises(ValueError, match=r"'cgan' options \['lr', 'width'\] missing"):  # no defaults here
        partial = {k: v for k, v in gan_options("cgan").items() if k not in ("lr", "width")}
        gans.train_gan("cgan", x, y, num_classes=3, options=partial, seed=0)
    with pytest.raises(ValueError, match="uint8"):
        gans.train_gan("cgan", x.astype(np.float32), y, num_classes=3, options=gan_options("cgan"), seed=0)


def test_bad_counts(trained, digits):
    with pytest.raises(ValueError, match="class 3"):
        _gen(trained["bagan"], {3: 1}, 0, digits)
    with pytest.raises(ValueError, match="non-negative"):
        _gen(trained["bagan"], {1: -1}, 0, digits)


def test_balance_counts():
    labels = np.array([0] * 5 + [1] * 2 + [2] * 5)
    assert gans.balance_counts(labels, 4) == {0: 0, 1: 3, 2: 0, 3: 5}


@pytest.mark.parametrize("variant", VARIANTS)
def test_cifar_shaped_smoke(variant):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(12, 32, 32, 3), dtype=np.uint8)
    y = np.array([0] * 8 + [1] * 4, dtype=np.int64)
    opts = {**TINY[variant], "epochs": 1, "width": 2}
    state = gans.train_gan(_gan(variant), x, y, num_classes=2, options=opts, seed=0, log=lambda line: None)
    gx, gy = gans.generate(state, gans.balance_counts(y, 2), seed=0, images=x, labels=y)
    assert gx.shape == (4, 32, 32, 3) and gx.dtype == np.uint8 and gy.tolist() == [1] * 4


# --------------------------------------------------------------------------------------------- pipeline stages

@pytest.fixture(scope="module")
def cut_files(digits, tmp_path_factory):
    """A data set's image arrays (datasets.ImageArrays layout) and a cut's index file."""
    import pandas as pd

    x, y = digits
    d = tmp_path_factory.mktemp("cut")
    np.savez(d / "images.npz", train_x=x, train_y=y, test_x=x[:6], test_y=y[:6],
             class_names=np.array(["zero", "one", "two"]), mean=np.zeros(1, np.float32), std=np.ones(1, np.float32))
    keep = np.arange(len(y))[::-1]  # the cut lists the images in another order than the pool
    pd.DataFrame({"sample_id": keep, "label": y[keep]}).to_csv(d / "idx.csv", index=False)
    return str(d / "images.npz"), str(d / "idx.csv")


@pytest.mark.parametrize("variant", ["gamo", "bagan", "cgan"])
def test_train_and_sample_stages(variant, cut_files, tmp_path):
    """Same seed, same generator bytes on the CPU (no wall time inside); the cut balanced to its largest class
    in the pixel pipeline's npz format; the log has the epochs and the time."""
    import hashlib
    import json

    import pandas as pd

    images, idx = cut_files
    sha = []
    for rep in range(2):
        gans.train_stage(images, idx, str(tmp_path / f"g{rep}.pt"), str(tmp_path / f"g{rep}.csv"), gan=variant,
                         options=TINY[variant], seed=3, dataset="digits-test", device="cpu", log=lambda m: None)
        sha.append(hashlib.sha256((tmp_path / f"g{rep}.pt").read_bytes()).hexdigest())
    assert sha[0] == sha[1]
    log = pd.read_csv(tmp_path / "g0.csv")
    assert log["epoch"].max() == 2 and (log["seconds_total"] > 0).all() and (log["generator_parameters"] > 0).all()
    gans.sample_stage(images, idx, str(tmp_path / "g0.pt"), str(tmp_path / "bal.npz"), seed=0, log=lambda m: None)
    z = np.load(tmp_path / "bal.npz")
    assert np.bincount(z["y"]).tolist() == [40, 40, 40] and z["x"].dtype == np.uint8 and z["x"].shape[1:] == (8, 8, 1)
    assert z["is_synthetic"].sum() == 30 + 36 and not z["is_synthetic"][:54].any()
    meta = json.loads(str(z["sampler_meta"]))
    assert meta["sampler"] == variant and meta["balanced"] and meta["class_counts_before"] == [40, 10, 4]


def test_gan_sample_figure(cut_files, tmp_path):
    from pipeline_lib.studies.eos import figures

    images, idx = cut_files
    paths = {}
    for v in ("gamo", "bagan"):
        paths[v] = str(tmp_path / f"{v}.pt")
        gans.train_stage(images, idx, paths[v], str(tmp_path / f"{v}.csv"), gan=v, options=TINY[v], seed=0,
                         dataset="digits-test", device="cpu", log=lambda m: None)
    frame = figures.gan_samples(images, idx, paths, str(tmp_path / "f.png"), str(tmp_path / "f.csv"), per_class=3,
                                seed=0)
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert len(frame) == 2 * 3 and (frame["nearest_real_l2"] >= 0).all() and set(frame["gan"]) == {"gamo", "bagan"}
