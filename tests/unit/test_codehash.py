"""Code hashes follow the library's imports; named inputs round-trip through flatten / nest."""
import ast
import shutil
import sys

import pytest

from conftest import REPO, codehash_reading
from pipeline_lib.infra import codehash, namedfiles


def test_closure_follows_indirect_and_lazy_imports():
    # heads imports training and metrics; training imports models and losses (and orphans, unhashed)
    closure = codehash.closure("core.heads")
    assert {"core", "core.heads", "core.training", "core.metrics", "core.models", "core.losses"} <= set(closure)
    assert not [m for m in closure if m.startswith("runtime") or m.startswith("infra")]  # cannot change outputs
    assert codehash.closure("core.metrics") == ["core", "core.metrics"]


def test_script_hash_is_the_hash_of_its_library_closure():
    script = REPO / "workflow/scripts/retrain_head.py"
    assert codehash.script_modules(str(script)) == ["core", "core.heads"]  # runlog (infra) is not hashed
    assert codehash.script_code_hash(str(script)) == codehash.code_hash("core", "core.heads")
    assert codehash.code_hash("core.heads") != codehash.code_hash("core.metrics")


def test_every_workflow_script_imports_the_library():
    for script in sorted((REPO / "workflow/scripts").glob("*.py")):
        assert codehash.script_modules(str(script)), script.name


def test_editing_an_indirect_import_changes_the_hash(tmp_path, monkeypatch):
    shutil.copytree(REPO / "src/pipeline_lib", tmp_path / "pipeline_lib")
    before, before_imbalance = codehash.code_hash("core.heads"), codehash.code_hash("core.imbalance")
    (tmp_path / "pipeline_lib/core/metrics.py").write_text((tmp_path / "pipeline_lib/core/metrics.py").read_text() + "\n# x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for mod in [m for m in list(sys.modules) if m == "pipeline_lib" or m.startswith("pipeline_lib.")]:
        monkeypatch.delitem(sys.modules, mod)
    codehash._source.cache_clear()
    codehash.direct_imports.cache_clear()
    try:
        assert codehash.code_hash("core.heads") != before
        assert codehash.closure("core.heads")[0] and "core.metrics" not in codehash.closure("core.imbalance")
        assert codehash.code_hash("core.imbalance") == before_imbalance  # does not reach metrics: unchanged
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


# a package in layers, as the library will be: imports in every form the resolver must follow
LAYERED = {
    "__init__.py": '"""root: metadata only"""\n',
    "core/__init__.py": '"""core layer"""\n',
    "core/losses.py": "import numpy\n",
    "core/training.py": "from . import losses\nfrom .losses import *\n",
    "core/heads.py": "from .training import fit\nfrom ..render import tables\n\ndef f():\n    from . import devices\n",
    "core/devices.py": "import os\n",
    "render/__init__.py": "",
    "render/tables.py": "import pandas\n",
    "infra/__init__.py": "",
    "infra/runlog.py": "from ..core import heads\n",
    "sampling/__init__.py": "",
    "sampling/gans/__init__.py": "from .nets import Generator\n",
    "sampling/gans/nets.py": "from ...core.losses import focal\n",
    "studies/__init__.py": "",
    "studies/fragility/__init__.py": "",
    "studies/fragility/diversity.py": ("import pipeline_lib.core.heads\nfrom pipeline_lib.infra import runlog\n"
                                       "from pipeline_lib.render.tables import write\n"),
    "studies/fragility/magnitude.py": "from pipeline_lib.sampling import gans\nfrom .diversity import x\n",
    "studies/bad.py": "from .... import nothing\n",
}


@pytest.fixture
def layered(tmp_path, monkeypatch):
    """``codehash`` pointed at a synthetic layered package; returns its folder."""
    for rel, text in LAYERED.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    with codehash_reading(monkeypatch, tmp_path):
        yield tmp_path


def test_relative_imports_resolve_to_module_files(layered):
    # from . import x, from .x import *, from .x import y (y a name), from ..x import y (x a module),
    # an import inside a function; a subpackage's __init__ is imported with every module below it
    assert codehash.direct_imports("core.training") == {"core", "core.losses"}
    assert codehash.direct_imports("core.heads") == {"core", "core.training", "core.devices",
                                                     "render", "render.tables"}
    assert codehash.closure("core.heads") == ["core", "core.devices", "core.heads", "core.losses",
                                              "core.training", "render", "render.tables"]
    # three levels up from a subpackage's module; a package __init__ importing its own submodule
    assert codehash.direct_imports("sampling.gans.nets") == {"core", "core.losses", "sampling", "sampling.gans"}
    assert codehash.direct_imports("sampling.gans") == {"sampling", "sampling.gans.nets"}


def test_absolute_imports_resolve_to_module_files(layered):
    # import pipeline_lib.a.b; from pipeline_lib.a import b (b a module); from pipeline_lib.a.b import c;
    # runlog is left out wherever it lives, and brings in no package __init__ (no "infra" below); a module's
    # own subpackages count as imported
    assert codehash.direct_imports("studies.fragility.diversity") == {
        "core", "core.heads", "render", "render.tables", "studies", "studies.fragility"}
    assert codehash.direct_imports("studies.fragility.magnitude") == {
        "sampling", "sampling.gans", "studies", "studies.fragility", "studies.fragility.diversity"}
    closure = codehash.closure("studies.fragility.magnitude")
    assert {"sampling.gans.nets", "core.losses", "core.heads"} <= set(closure)
    assert "infra.runlog" not in closure and "" not in closure


def test_a_relative_import_beyond_the_package_is_an_error(layered):
    with pytest.raises(ValueError, match="beyond the package"):
        codehash.closure("studies.bad")


def test_scripts_resolve_dotted_imports_and_ignore_relative_ones(layered, tmp_path):
    script = tmp_path / "script.py"
    script.write_text("from pipeline_lib.core.heads import f\nfrom . import heads\nimport pipeline_lib\n")
    assert codehash.script_modules(str(script)) == ["core", "core.heads"]
    assert codehash.script_code_hash(str(script)) == codehash.code_hash("core", "core.heads")


def test_an_edit_reruns_exactly_the_modules_that_reach_it(layered):
    names = ["core.heads", "core.training", "core.devices", "render.tables", "sampling.gans",
             "studies.fragility.diversity", "studies.fragility.magnitude"]
    before = {n: codehash.code_hash(n) for n in names}
    (layered / "sampling/gans/nets.py").write_text(LAYERED["sampling/gans/nets.py"] + "# edited\n")
    codehash._source.cache_clear()
    changed = {n for n in names if codehash.code_hash(n) != before[n]}
    assert changed == {"sampling.gans", "studies.fragility.magnitude"}
    (layered / "core/losses.py").write_text("# edited\n")
    codehash._source.cache_clear()
    changed = {n for n in names if codehash.code_hash(n) != before[n]}
    assert changed == {"core.heads", "core.training", "sampling.gans", "studies.fragility.diversity",
                       "studies.fragility.magnitude"}


def test_the_unhashed_package_root_imports_nothing_hashed_from_the_library():
    # the root __init__ is left out of every hash: that is exact only while it imports no hashed library code
    # (it imports the thread pinning, unhashed like runlog, which must run before numpy / torch load)
    source = (REPO / "src/pipeline_lib/__init__.py").read_bytes()
    assert codehash._library_imports(source, "") == set()
    imports = [n for n in ast.walk(ast.parse(source)) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert all(isinstance(n, ast.ImportFrom) and n.level == 1 and n.module.split(".")[0] == "runtime"
               for n in imports)
