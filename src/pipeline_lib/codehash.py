"""Short content hashes of library code, so that a library change reruns exactly the rules it touches.

Snakemake reruns a ``script:`` rule when the script changes, but not when the library it imports changes.
Each rule therefore carries ``params: code=code_hash("training")`` naming the library module(s) its script
calls; the hash covers those modules **and every ``pipeline_lib`` module they import, transitively**
(``from .x import``, ``from . import x``, ``import pipeline_lib.x``, also imports inside functions), found
by reading the sources with :mod:`ast` — no import list is kept by hand, so an indirect import cannot be
missed.  Editing any module in that closure changes the param and Snakemake reruns the rule.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
from functools import lru_cache

PACKAGE = "pipeline_lib"
# modules that cannot change what a rule writes (log set-up, this hashing): left out of every hash, so that
# editing them does not rerun the whole workflow
NOT_HASHED = frozenset({"runlog", "codehash", "orphans"})


@lru_cache(maxsize=None)
def _source(name: str) -> bytes:
    spec = importlib.util.find_spec(f"{PACKAGE}.{name}")
    if spec is None or not spec.origin:
        raise ValueError(f"no module {PACKAGE}.{name}")
    with open(spec.origin, "rb") as fh:
        return fh.read()


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(f"{PACKAGE}.{name}") is not None
    except ModuleNotFoundError:
        return False


def _library_imports(source: bytes) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:                      # from .x import y
                found.add(node.module.split(".")[0])
            elif node.level == 1:                                    # from . import x, y
                found.update(a.name for a in node.names)
            elif node.level == 0 and node.module and node.module.split(".")[0] == PACKAGE:
                parts = node.module.split(".")
                if len(parts) > 1:                                   # from pipeline_lib.x import y
                    found.add(parts[1])
                else:                                                # from pipeline_lib import x
                    found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE and len(parts) > 1:           # import pipeline_lib.x
                    found.add(parts[1])
    return {m for m in found if m not in NOT_HASHED and _is_module(m)}


@lru_cache(maxsize=None)
def direct_imports(name: str) -> frozenset[str]:
    """The ``pipeline_lib`` modules that module ``name`` imports anywhere in its source."""
    return frozenset(_library_imports(_source(name)) - {name})


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
