"""Nested file structures through Snakemake's named inputs.

Every file a rule reads must reach it through ``input:`` (so that the DAG sees it), but the analyses take
structured arguments — a list of runs, each with its train/test files and a file per sampler.  A rule
therefore *flattens* the structure into named inputs (``input: unpack(...)``) whose names are the paths
through the structure joined by ``/`` (``runs/0/oversampled/smote``), and the script *nests* them back.
Values that are not files (a run's cut, loss, data set name) travel separately in ``params`` and are
merged back with :func:`merge`.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

SEP = "/"


def flatten(tree: Any, prefix: str = "") -> dict[str, str]:
    """``{"a/b/0": path, ...}`` of a nest of dicts and lists whose leaves are file paths (str)."""
    if isinstance(tree, str):
        if not prefix:
            raise ValueError("flatten needs a dict or list at the top")
        return {prefix: tree}
    if isinstance(tree, Mapping):
        items = tree.items()
    elif isinstance(tree, (list, tuple)):
        items = enumerate(tree)
    else:
        raise TypeError(f"flatten: {prefix or '<top>'} is a {type(tree).__name__}, not a path, dict or list")
    out: dict[str, str] = {}
    for key, value in items:
        key = str(key)
        if not key or SEP in key:
            raise ValueError(f"flatten: key {key!r} is empty or contains {SEP!r}")
        out.update(flatten(value, f"{prefix}{SEP}{key}" if prefix else key))
    return out


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node) and sorted(int(k) for k in node) == list(range(len(node))):
        return [node[str(i)] for i in range(len(node))]
    return node


def nest(named: Mapping[str, str] | Iterable[tuple[str, str]]) -> Any:
    """Inverse of :func:`flatten`: dicts, and lists where the keys at a level are 0..n-1."""
    items = named.items() if isinstance(named, Mapping) else named
    root: dict = {}
    for name, path in items:
        node = root
        *parents, leaf = name.split(SEP)
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = path
    return _listify(root)


def merge(files: list[dict], meta: list[dict]) -> list[dict]:
    """``[{**meta_i, **files_i}]``: each run's files with its non-file values (cut, loss, ...)."""
    if len(files) != len(meta):
        raise ValueError(f"merge: {len(files)} file sets but {len(meta)} metadata entries")
    return [{**m, **f} for f, m in zip(files, meta)]


def runs(named_input, meta: list[dict], key: str = "runs") -> list[dict]:
    """The runs of a rule whose input is ``flatten({key: [files of run 0, ...]})`` and whose params carry
    each run's non-file values: ``[{**meta_i, **files_i}]``."""
    return merge(nest(named_input.items())[key], meta)
