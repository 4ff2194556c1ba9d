"""Short content hashes of library code, so that a library change reruns exactly the rules it touches.

Snakemake reruns a ``script:`` rule when the script changes, but not when the library it imports changes.
Each rule therefore carries ``params: code=code_hash("training")`` naming the library module(s) its script
calls; the hash covers those modules **and every ``pipeline_lib`` module they import, transitively**, found
by reading the sources with :mod:`ast` — no import list is kept by hand, so an indirect import cannot be
missed.  Editing any module in that closure changes the param and Snakemake reruns the rule.

Modules are named by their dotted path inside the package (``"heads"``, ``"core.heads"``; a subpackage by
its own name, ``"core"`` for ``core/__init__.py``).  Every import form resolves to the module file it
loads, imports inside functions included:

- ``from .x import y`` / ``from .x.y import z``: the module ``x`` / ``x.y`` next to the importing module;
- ``from ..x import y`` (any level): ``x`` that many packages up; beyond the package is an error;
- ``from . import x`` / ``from .x import y`` where ``x`` / ``y`` is a submodule: that submodule;
- ``import pipeline_lib.a.b``, ``from pipeline_lib.a import b``, ``from pipeline_lib.a.b import c``.

Importing ``a.b`` runs ``a/__init__.py`` first, so a subpackage's ``__init__`` is part of the closure of
every module below it.  The package's own ``__init__`` (metadata only; it imports nothing) is not.  Sources
are read from the files, never imported, so hashing runs no library code.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path

PACKAGE = "pipeline_lib"
# modules that cannot change what a rule writes (log set-up, console lines, thread pools, orphan checks, this
# hashing): left out of every hash, so that editing them does not rerun the whole workflow; matched by the
# module's last name wherever it lives, and every module of the ``runtime`` layer
NOT_HASHED = frozenset({"runlog", "codehash", "orphans", "threads", "console"})
UNHASHED_LAYERS = ("runtime",)


def _package_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    return Path(next(iter(spec.submodule_search_locations)))


def _file(name: str) -> Path | None:
    """The source file of module ``name`` (dotted, inside the package), or None when there is none."""
    if not name:
        return None
    base = _package_dir().joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=None)
def _source(name: str) -> bytes:
    path = _file(name)
    if path is None:
        raise ValueError(f"no module {PACKAGE}.{name}")
    return path.read_bytes()


def _is_module(name: str) -> bool:
    return _file(name) is not None


def _is_package(name: str) -> bool:
    path = _file(name)
    return path is not None and path.name == "__init__.py"


def _join(*parts: str | None) -> str:
    return ".".join(p for p in parts if p)


def _with_parents(name: str) -> set[str]:
    """``a.b.c`` and the subpackages ``a``, ``a.b`` whose ``__init__`` runs before it."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def _imported(base: str, names: list[str]) -> set[str]:
    """What ``from <base> import names`` loads: each name that is a submodule, else ``base`` itself."""
    found = {_join(base, n) for n in names if n != "*" and _is_module(_join(base, n))}
    if base and len(found) < len(names):
        found.add(base)
    return found


def _library_imports(source: bytes, importer: str | None = None) -> set[str]:
    """The library modules ``source`` imports.  ``importer`` is the dotted name of the module the source
    belongs to (relative imports resolve against it); None for a file outside the package (a workflow
    script), whose relative imports cannot reach the library."""
    if importer is None:
        package = None
    elif _is_package(importer):
        package = importer
    else:
        package = importer.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names]
            if node.level:
                if package is None:
                    continue
                up = package.split(".") if package else []
                if node.level - 1 > len(up):
                    raise ValueError(f"{PACKAGE}.{importer}: relative import beyond the package "
                                     f"(level {node.level})")
                base = _join(".".join(up[:len(up) - node.level + 1]), node.module)
            elif node.module and node.module.split(".")[0] == PACKAGE:
                base = node.module.partition(".")[2]                     # from pipeline_lib[.a.b] import c
            else:
                continue
            found |= _imported(base, names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE and len(parts) > 1:               # import pipeline_lib.a.b
                    found.add(".".join(parts[1:]))
    # an unhashed module brings no package __init__ in with it (``from pipeline_lib.infra import runlog``)
    found = {m for m in found if _hashed(m)}
    modules = set().union(*(_with_parents(m) for m in found)) if found else set()
    return {m for m in modules if _hashed(m) and _is_module(m)}


def _hashed(name: str) -> bool:
    return name.rpartition(".")[2] not in NOT_HASHED and name.split(".")[0] not in UNHASHED_LAYERS


@lru_cache(maxsize=None)
def direct_imports(name: str) -> frozenset[str]:
    """The ``pipeline_lib`` modules that module ``name`` imports anywhere in its source, and the subpackages
    it lives in (their ``__init__`` runs before it)."""
    parents = {p for p in _with_parents(name) if _is_module(p)}
    return frozenset((_library_imports(_source(name), name) | parents) - {name})


def closure(*modules: str) -> list[str]:
    """``modules`` and every ``pipeline_lib`` module they import, transitively, sorted."""
    seen: set[str] = set()
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        _source(name)  # raises on an unknown module
        seen.add(name)
        todo.extend(direct_imports(name) - seen)
    return sorted(seen)


def code_hash(*modules: str) -> str:
    """12-hex digest over the source of each named module and of everything it imports from the library."""
    h = hashlib.sha256()
    for name in closure(*modules):
        h.update(name.encode() + b"\0" + hashlib.sha256(_source(name)).hexdigest().encode())
    return h.hexdigest()[:12]


def script_modules(script_path: str) -> list[str]:
    """The library modules a workflow script imports (its entry points), sorted."""
    with open(script_path, "rb") as fh:
        return sorted(_library_imports(fh.read()))


def script_code_hash(script_path: str) -> str:
    """:func:`code_hash` of the library modules a workflow script imports, and of all they import.

    Snakemake already reruns a rule whose script changed; this covers the library behind it."""
    modules = script_modules(script_path)
    if not modules:
        raise ValueError(f"{script_path} imports nothing from {PACKAGE}")
    return code_hash(*modules)
