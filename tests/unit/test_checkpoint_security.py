"""A checkpoint file from outside must never run code while it is read (pipeline_lib.core.checkpoints._load).

The hostile files are built here: a pickler that writes ``GLOBAL module name`` + ``REDUCE`` for any name, so
that every numpy callable a pickle could name is tried, not just the ones pickle would find by itself."""
import os
import pickle
import sys
import types

import numpy as np
import pytest
import torch

from conftest import SHARED
from pipeline_lib.core import checkpoints as ck

AUTHORS = SHARED / "data" / "authors_checkpoints" / "cifar10"
SD = {"linear.weight": torch.ones(2, 3), "linear.bias": torch.zeros(2)}


class Call:
    """Pickles as ``module.name(*args)``: the global is named in the file, never imported by the pickler."""

    def __init__(self, module, name, args=()):
        self.module, self.name, self.args = module, name, args


class _Pickler(pickle._Pickler):
    dispatch = dict(pickle._Pickler.dispatch)

    def save_call(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.save(tuple(obj.args))
        self.write(pickle.REDUCE)

    dispatch[Call] = save_call


def _dump(obj, fh, protocol=2):
    _Pickler(fh, protocol).dump(obj)


HOSTILE = types.SimpleNamespace(Pickler=_Pickler, dump=_dump, __name__="hostile_pickle")


def save(path, obj, **kw):
    torch.save(obj, path, **kw)
    return str(path)


def refusal(path) -> str:
    with pytest.raises(ck.CheckpointError) as info:
        ck.read_state_dict(path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg
    return msg


def allowed_names() -> set[str]:
    return {o[1] if isinstance(o, tuple) else f"{o.__module__}.{o.__qualname__}" for o in ck.allowed_globals()}


def test_the_allow_list_is_explicit_and_small():
    names = allowed_names()
    assert names >= {"numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.dtype"}
    assert all(n in ("numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.dtype")
               or (n.startswith("numpy.dtypes.") and n.endswith("DType")) for n in names), names
    assert not {"numpy.dtypes.ObjectDType", "numpy.dtypes.VoidDType", "numpy.dtypes.StringDType"} & names


def test_the_runstring_exploit_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('x')"
    # first make sure the payload works: loaded without the guard it does run
    evil = Call("numpy.testing._private.utils", "runstring", (code, {}))
    p = save(tmp_path / "evil.pth", {"state_dict": SD, "best_acc1": evil}, pickle_module=HOSTILE)
    torch.load(p, weights_only=False)
    assert marker.exists()
    marker.unlink()
    msg = refusal(p)
    assert not marker.exists()
    assert "'numpy.testing._private.utils.runstring'" in msg and "refuses" in msg and "state_dict()" in msg
    # the same file in the legacy (non-zip) format
    legacy = save(tmp_path / "evil_legacy.pth", {"state_dict": SD, "best_acc1": evil}, pickle_module=HOSTILE,
                  _use_new_zipfile_serialization=False)
    assert "runstring" in refusal(legacy) and not marker.exists()


def _numpy_callables():
    import numpy.testing  # noqa: F401 - its modules are where the known exploit lives

    found = set()
    for modname, mod in list(sys.modules.items()):
        if (modname == "numpy" or modname.startswith("numpy.")) and isinstance(mod, types.ModuleType):
            for attr in dir(mod):
                try:
                    obj = getattr(mod, attr)
                except Exception:  # noqa: BLE001 - lazy attributes that fail to import
                    continue
                if callable(obj):
                    found.add((modname, attr))
    return sorted(found)


def test_every_other_numpy_callable_is_refused(tmp_path):
    allowed = allowed_names()
    names = [(m, a) for m, a in _numpy_callables() if f"{m}.{a}" not in allowed]
    assert len(names) > 1000 and ("numpy.testing._private.utils", "runstring") in names
    p = tmp_path / "h.pth"
    loaded, other = [], []
    for module, attr in names:
        save(p, {"state_dict": SD, "best_acc1": Call(module, attr)}, pickle_module=HOSTILE)
        try:
            ck.read_state_dict(str(p))
            loaded.append(f"{module}.{attr}")
        except ck.CheckpointError as err:
            if f"'{module}.{attr}'" not in str(err) or "refuses" not in str(err):
                other.append(str(err))
    assert not loaded and not other[:3]


@pytest.mark.parametrize("legacy", [False, True])
def test_numpy_scalars_and_dtypes_still_load(tmp_path, legacy):
    obj = {"state_dict": SD, "best_acc1": np.float64(72.5), "epoch": np.int64(134), "f": np.float32(0.5),
           "b": np.bool_(True), "dtype": np.dtype("float32"),
           # numpy < 2 names the scalar reconstructor numpy.core.multiarray.scalar
           "old": Call("numpy.core.multiarray", "scalar", (np.dtype("float64"), np.float64(61.25).tobytes()))}
    p = save(tmp_path / "ok.pth", obj, pickle_module=HOSTILE, _use_new_zipfile_serialization=not legacy)
    assert set(ck.read_state_dict(p)) == set(SD)
    got = ck._load(p, "x")
    assert got["best_acc1"] == 72.5 and got["old"] == 61.25 and got["dtype"] == np.dtype("float32")


def test_numpy_arrays_and_modules_are_refused(tmp_path):
    arr = save(tmp_path / "arr.pth", {"state_dict": SD, "x": np.arange(3)})
    assert "numpy._core.multiarray._reconstruct" in refusal(arr) or "numpy.core" in refusal(arr)
    whole = save(tmp_path / "whole.pth", torch.nn.Linear(3, 2))
    assert "torch.nn.modules.linear.Linear" in refusal(whole)
    osys = save(tmp_path / "os.pth", {"state_dict": SD, "x": Call("os", "system", ("true",))}, pickle_module=HOSTILE)
    assert "'os.system'" in refusal(osys) or "posix.system" in refusal(osys)


def test_legacy_and_plain_pickles_give_one_line_and_no_torch_warning(tmp_path, capfd):
    legacy = save(tmp_path / "legacy.pth", {"state_dict": SD, "x": torch.nn.Linear(3, 2)},
                  _use_new_zipfile_serialization=False)
    plain = tmp_path / "plain.pkl"
    with open(plain, "wb") as fh:
        pickle.dump({"state_dict": SD, "x": Call}, fh, protocol=4)
    truncated = tmp_path / "cut.pth"
    good = save(tmp_path / "good.pth", SD)
    truncated.write_bytes(open(good, "rb").read()[:500])
    capfd.readouterr()
    assert "refuses" in refusal(legacy)
    assert "not a readable PyTorch file" in refusal(plain) or "refuses" in refusal(plain)
    assert "not a readable PyTorch file" in refusal(truncated)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def _authors_files():
    return sorted(AUTHORS.glob("*.pth")) if AUTHORS.is_dir() else []


@pytest.mark.parametrize("path", _authors_files() or [pytest.param(None, marks=pytest.mark.skip(
    reason=f"the authors' checkpoints are not at {AUTHORS} (the hand-built tests above cover the loader)"))])
def test_the_authors_published_files_still_load(path):
    sd = ck.check_network(str(path), arch="resnet32", num_classes=10, in_channels=3, normed_head=False)
    assert "head.weight" in sd and os.path.getsize(path) > 10**6
