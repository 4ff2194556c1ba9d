"""Your own samplers by import path and smote-variants (pipeline_lib.sampling.custom_samplers)."""
import numpy as np
import pytest

from pipeline_lib.sampling import custom_samplers as cs
from pipeline_lib.core import embeddings as emb
from pipeline_lib.infra.config import ConfigError, check_custom_samplers
from pipeline_lib.sampling.oversampling import resample_file

ADASYN = {"name": "my_adasyn", "class": "imblearn.over_sampling.ADASYN", "params": {"n_neighbors": 3}}
POLY = {"name": "polyfit", "smote_variants": "polynom_fit_SMOTE_star", "params": {}}


def tiny(n=(30, 12, 8), d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(i, 1.0, size=(k, d)) for i, k in enumerate(n)]).astype(np.float32)
    return X, np.repeat(np.arange(len(n)), n)


@pytest.mark.parametrize("entry, words", [
    ({"name": "a", "class": "imblearn.over_sampling.NoSuchSampler"}, ["has no 'NoSuchSampler'"]),
    ({"name": "a", "class": "no_such_pkg.Sampler"}, ["cannot import module 'no_such_pkg'"]),
    ({"name": "a", "class": "imblearn.over_sampling.ADASYN", "params": {"k_neighbours": 5}}, ["not accepted", "k_neighbours"]),
    ({"name": "a", "class": "imblearn.over_sampling.ADASYN", "params": {"n_neighbors": -1}}, ["rejected", "n_neighbors"]),
    ({"name": "a", "class": "sklearn.svm.SVC"}, ["has no fit_resample"]),
    ({"name": "a", "smote_variants": "polynom_fit_SMOTE_star", "params": {"nope": 1}}, ["not accepted", "nope"]),
    ({"name": "smote", "class": "imblearn.over_sampling.ADASYN"}, ["must match"]),
    ({"name": "eos2", "class": "imblearn.over_sampling.ADASYN"}, ["must match"]),
])
def test_bad_entries_stop_the_plan_with_one_line(entry, words):
    with pytest.raises(ConfigError) as err:
        check_custom_samplers({"samplers": ["eos", entry], "pixel_oversampling": {"methods": []}})
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("samplers: sampler ") or "must match" in msg
    assert all(w in msg for w in words), msg


def test_pixel_entries_are_checked_too():
    bad = {"name": "a", "class": "sklearn.svm.SVC"}
    with pytest.raises(ConfigError, match="^pixel_oversampling.methods: sampler 'a': .*fit_resample"):
        check_custom_samplers({"samplers": ["eos"], "pixel_oversampling": {"methods": ["smote", bad]}})


def test_good_entries_pass_and_describe_their_package():
    check_custom_samplers({"samplers": ["eos", ADASYN, POLY], "pixel_oversampling": {"methods": [ADASYN]}})
    import imblearn

    d = cs.describe(ADASYN)
    assert d == {"name": "my_adasyn", "class": "imblearn.over_sampling.ADASYN", "package": "imbalanced-learn",
                 "version": imblearn.__version__, "params": {"n_neighbors": 3}}
    from importlib.metadata import version

    assert cs.describe(POLY)["package"].replace("_", "-") == "smote-variants"
    assert cs.describe(POLY)["version"] == version("smote-variants")
    assert cs.label(ADASYN).startswith("my_adasyn: imblearn.over_sampling.ADASYN (imbalanced-learn ")


def test_import_path_sampler_is_seeded_and_matches_imblearn(tmp_path):
    from imblearn.over_sampling import ADASYN as Adasyn

    from pipeline_lib.sampling.oversampling import _resample

    X, y = tiny()
    Xr, yr, syn, sampler, _ = _resample(X, y, "my_adasyn", 7, {}, ADASYN)
    ref_X, ref_y = Adasyn(n_neighbors=3, random_state=7).fit_resample(X, y)
    assert sampler.random_state == 7
    np.testing.assert_array_equal(Xr, ref_X.astype(np.float32))
    np.testing.assert_array_equal(yr, ref_y)
    assert not syn[:len(X)].any() and syn[len(X):].all()


def test_parquet_metadata_carries_name_class_package_version(tmp_path):
    X, y = tiny()
    df = emb.make_frame(np.arange(len(y)), y, y, X, np.zeros(len(y), bool))
    src, out = tmp_path / "train.parquet", tmp_path / "my_adasyn.parquet"
    emb.write(str(src), df, {"class_names": ["a", "b", "c"], "dataset": "toy"})
    resample_file(str(src), str(out), "my_adasyn", random_state=0, options=ADASYN["params"], spec=ADASYN,
                  log=lambda *a: None)
    res, meta = emb.read(str(out))
    assert meta["sampler"] == "my_adasyn" and meta["sampler_class"] == "imblearn.over_sampling.ADASYN"
    assert meta["sampler_package"] == "imbalanced-learn" and meta["sampler_version"]
    assert meta["sampler_params"]["n_neighbors"] == 3 and meta["sampler_seed"] == 0
    assert len(res) > len(df) and res["is_synthetic"].sum() == len(res) - len(df)


def test_smote_variants_sampler_on_a_tiny_set():
    X, y = tiny()
    s = cs.build(POLY, 3)
    Xr, yr = s.fit_resample(X, y)
    np.testing.assert_array_equal(Xr[:len(X)], X)  # originals first, unchanged
    np.testing.assert_array_equal(yr[:len(y)], y)
    new = np.bincount(yr[len(y):], minlength=3)
    assert new[0] == 0 and new[1] > 0 and new[2] > 0
    assert np.all(np.diff(yr[len(y):]) >= 0)  # new rows grouped by class
    Xr2, yr2 = cs.build(POLY, 3).fit_resample(X, y)  # seeded: same rows again
    np.testing.assert_array_equal(Xr, Xr2)
    # binary: the oversampler's own sample()
    Xb, yb = cs.build({"name": "b", "smote_variants": "SMOTE", "params": {}}, 0).fit_resample(X[:42], y[:42])
    assert np.bincount(yb).tolist() == [30, 30]


def test_originals_first_reorders_a_shuffled_output():
    X = np.array([[0.0], [1.0], [2.0]])
    y = np.array([0, 1, 1])
    X_res = np.array([[5.0], [2.0], [0.0], [4.0], [1.0]])
    y_res = np.array([0, 1, 0, 0, 1])
    Xo, yo = cs.originals_first(X, y, X_res, y_res)
    np.testing.assert_array_equal(Xo[:, 0], [0, 1, 2, 5, 4])
    np.testing.assert_array_equal(yo, [0, 1, 1, 0, 0])
    with pytest.raises(ValueError, match="lacks an original row"):
        cs.originals_first(X, y, np.delete(X_res, 2, axis=0), np.delete(y_res, 2))
