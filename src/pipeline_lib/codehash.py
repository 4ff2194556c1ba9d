"""Short content hashes of library modules.

Snakemake reruns a ``script:`` rule when the script changes, but not when the library it imports
changes.  Each rule therefore carries ``params: code=code_hash("training", ...)`` for the modules it
depends on; editing one of them changes the param and Snakemake reruns exactly those rules.
"""
from __future__ import annotations

import hashlib
import importlib.util
from functools import lru_cache


@lru_cache(maxsize=None)
def _module_digest(name: str) -> str:
    spec = importlib.util.find_spec(f"pipeline_lib.{name}")
    if spec is None or not spec.origin:
        raise ValueError(f"no module pipeline_lib.{name}")
    with open(spec.origin, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def code_hash(*modules: str) -> str:
    """12-hex digest over the source of ``pipeline_lib.<module>`` for each named module."""
    h = hashlib.sha256()
    for name in sorted(set(modules)):
        h.update(name.encode() + b"\0" + _module_digest(name).encode())
    return h.hexdigest()[:12]
