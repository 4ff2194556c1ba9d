"""Code hashes follow the library's imports; named inputs round-trip through flatten / nest."""
import shutil
import sys

import pytest

from conftest import REPO
from pipeline_lib import codehash, namedfiles


def test_closure_follows_indirect_and_lazy_imports():
    # heads imports training and metrics; training imports models and losses
    closure = codehash.closure("heads")
    assert {"heads", "training", "metrics", "models", "losses"} <= set(closure)
    assert "runlog" not in closure and "codehash" not in closure  # cannot change outputs
    assert codehash.closure("metrics") == ["metrics"]


def test_script_hash_is_the_hash_of_its_library_closure():
    script = REPO / "workflow/scripts/retrain_head.py"
    assert codehash.script_modules(str(script)) == ["heads"]
    assert codehash.script_code_hash(str(script)) == codehash.code_hash("heads")
    assert codehash.code_hash("heads") != codehash.code_hash("metrics")


def test_every_workflow_script_imports_the_library():
    for script in sorted((REPO / "workflow/scripts").glob("*.py")):
        assert codehash.script_modules(str(script)), script.name


def test_editing_an_indirect_import_changes_the_hash(tmp_path, monkeypatch):
    shutil.copytree(REPO / "src/pipeline_lib", tmp_path / "pipeline_lib")
    before, before_imbalance = codehash.code_hash("heads"), codehash.code_hash("imbalance")
    (tmp_path / "pipeline_lib/metrics.py").write_text((tmp_path / "pipeline_lib/metrics.py").read_text() + "\n# x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for mod in [m for m in list(sys.modules) if m == "pipeline_lib" or m.startswith("pipeline_lib.")]:
        monkeypatch.delitem(sys.modules, mod)
    codehash._source.cache_clear()
    codehash.direct_imports.cache_clear()
    try:
        assert codehash.code_hash("heads") != before
        assert codehash.closure("heads")[0] and "metrics" not in codehash.closure("imbalance")
        assert codehash.code_hash("imbalance") == before_imbalance  # does not reach metrics: unchanged
    finally:
        codehash._source.cache_clear()
        codehash.direct_imports.cache_clear()


def test_unknown_module_is_an_error():
    with pytest.raises(ValueError, match="no module"):
        codehash.code_hash("no_such_module")


def test_named_inputs_round_trip():
    tree = {"runs": [{"train": "a", "oversampled": {"smote": "b", "eos": "c"}}, {"train": "d", "oversampled": {}}]}
    flat = namedfiles.flatten(tree)
    assert flat == {"runs/0/train": "a", "runs/0/oversampled/smote": "b", "runs/0/oversampled/eos": "c",
                    "runs/1/train": "d"}
    assert namedfiles.nest(flat) == {"runs": [{"train": "a", "oversampled": {"smote": "b", "eos": "c"}},
                                              {"train": "d"}]}
    runs = namedfiles.merge(namedfiles.nest(flat)["runs"], [{"cut": 0}, {"cut": 10}])
    assert runs[1] == {"cut": 10, "train": "d"}
    with pytest.raises(ValueError):
        namedfiles.flatten({"a/b": "x"})
    with pytest.raises(TypeError):
        namedfiles.flatten({"a": 3})
