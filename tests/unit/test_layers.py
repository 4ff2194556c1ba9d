"""The library's layers (pipeline_lib/__init__.py): every import of every module is read (ast) and checked.

- a layer imports only itself and the layers below it (``ALLOWED``);
- a study never imports another study (what two share lives in ``core`` or ``render``);
- ``infra`` is imported by nothing in the package (only workflow/, tests/, benchmarks/ use it);
- no import of a private (``_name``) attribute from another module.

The checker itself is tested on a synthetic package with one violation of each kind, so the test on the
real package can fail.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE_DIR = REPO / "src" / "pipeline_lib"
LAYERS = ("runtime", "render", "core", "sampling", "studies", "scorecard", "infra")
ALLOWED = {
    "": {"runtime"},  # the package root pins the thread pools, nothing else
    "runtime": {"runtime"},
    "render": {"render"},
    "core": {"core", "runtime"},
    "sampling": {"sampling", "core", "runtime"},
    "studies": {"studies", "core", "sampling", "render", "runtime"},
    "scorecard": {"scorecard", "studies", "core", "sampling", "render", "runtime"},
    "infra": set(LAYERS),
}


def modules(package_dir: Path) -> dict[str, Path]:
    """{dotted name inside the package ('' = its __init__): file}."""
    out = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> list[tuple[int, str, str | None]]:
    """(line, imported module, imported attribute or None) of every package import in a module's source,
    relative and absolute, inside functions too."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                up = package.split(".") if package else []
                base = ".".join(up[:len(up) - node.level + 1] + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "pipeline_lib":
                base = node.module.partition(".")[2]
            else:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}" if base else alias.name
                found.append((node.lineno, sub, None) if sub in known else (node.lineno, base, alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "pipeline_lib" and "." in alias.name:
                    found.append((node.lineno, alias.name.partition(".")[2], None))
    return found


def violations(package_dir: Path) -> list[str]:
    mods = modules(package_dir)
    out = []
    for name, path in mods.items():
        layer = name.split(".")[0]
        if layer and layer not in LAYERS:
            out.append(f"{path.name}: module {name} is in no layer ({', '.join(LAYERS)})")
            continue
        for line, target, attr in imports(name, path, set(mods)):
            where = f"{path.relative_to(package_dir)}:{line}"
            to_layer = target.split(".")[0]
            if to_layer not in ALLOWED[layer]:
                out.append(f"{where}: {layer or 'pipeline_lib'} imports {to_layer} ({target})")
            if layer == "studies" and to_layer == "studies":
                mine, theirs = name.split(".")[1:2], target.split(".")[1:2]
                if theirs and mine != theirs:
                    out.append(f"{where}: study {mine[0]} imports study {theirs[0]} ({target})")
            if attr and attr.startswith("_") and target != name:
                out.append(f"{where}: imports the private {target}.{attr}")
    return out


def test_every_import_of_the_package_keeps_the_layer_rules():
    assert violations(PACKAGE_DIR) == []


def test_the_layers_are_the_documented_ones():
    top = {p.name for p in PACKAGE_DIR.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert top == set(LAYERS)
    assert [p.name for p in PACKAGE_DIR.glob("*.py")] == ["__init__.py"]  # no module outside a layer
    doc = (PACKAGE_DIR / "__init__.py").read_text()
    assert all(f"``{layer}``" in doc for layer in LAYERS)


@pytest.fixture
def bad_package(tmp_path):
    files = {
        "__init__.py": "",
        "runtime/__init__.py": "",
        "render/__init__.py": "",
        "render/tables.py": "from ..core import metrics\n",                       # render imports core
        "core/__init__.py": "",
        "core/metrics.py": "def f():\n    from ..infra import config\n",          # core imports infra (in a function)
        "core/heads.py": "from .metrics import _private\n",                       # a private name of another module
        "sampling/__init__.py": "",
        "studies/__init__.py": "",
        "studies/eos/__init__.py": "",
        "studies/eos/tables.py": "from ..fragility import top\nfrom . import figures\n",  # study -> study
        "studies/eos/figures.py": "from ...render.tables import markdown\n",     # allowed
        "studies/fragility.py": "import pipeline_lib.studies.eos.tables\n",        # study -> study, absolute
        "scorecard/__init__.py": "",
        "infra/__init__.py": "",
        "infra/config.py": "from ..studies.eos import tables\n",                  # allowed
        "stray.py": "",                                                            # outside every layer
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_the_checker_finds_each_kind_of_violation(bad_package):
    found = violations(bad_package)
    assert any("render imports core" in v for v in found)
    assert any("core imports infra" in v for v in found)
    assert any("private core.metrics._private" in v for v in found)
    assert any("study eos imports study fragility" in v for v in found)
    assert any("study fragility imports study eos" in v for v in found)
    assert any("module stray is in no layer" in v for v in found)
    assert len(found) == 6, found
