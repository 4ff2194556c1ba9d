"""Names of oversampling runs: the folder / file name under ``data/oversampled/<run>/`` and
``data/heads/<run>/`` of one sampler with its options.

A sampler without options in its name is just its name (``smote``, ``bsmote``, ``balsvm``, ``ros``).  EOS
carries every option that changes its output in the name, so that K (and the variant options) are in the
path of the oversampled file and of its head: changing K in the config plans new files and leaves the old
ones cached, and the K sweep of Table IV shares the Table II run where K is the same.

    eos-k<K>[-away][-authors][-g<max_gap>]

``-away``: ``direction: away`` (the printed pseudo-code); ``-authors``: ``variant: authors`` (the
off-by-one of the authors' EOS.py); ``-g0.5``: ``max_gap: 0.5`` (r in [0, 0.5)).  Options at their
defaults leave no mark, so ``eos-k10`` is the EOS of the paper's text with K = 10.
"""
from __future__ import annotations

import re

EOS_DEFAULTS = {"k_neighbors": 10, "variant": "paper", "direction": "toward", "max_gap": 1.0}

# the EOS variant study (reports/eos_variants): name -> options over the configured EOS options
EOS_STUDY = {
    "eos_text": {"variant": "paper", "direction": "toward", "max_gap": 1.0},
    "eos_pseudocode": {"variant": "paper", "direction": "away", "max_gap": 1.0},
    "eos_authors": {"variant": "authors", "direction": "toward", "max_gap": 1.0},
    "eos_half_gap": {"variant": "paper", "direction": "toward", "max_gap": 0.5},
}
EOS_STUDY_TITLES = {"eos_text": "EOS (text: toward the enemy)", "eos_pseudocode": "EOS (pseudo-code: away)",
                    "eos_authors": "EOS (authors' off-by-one)", "eos_half_gap": "EOS (r in [0, 0.5))"}

_EOS_RUN = re.compile(r"^eos-k(?P<k>[1-9]\d*)(?P<away>-away)?(?P<authors>-authors)?(?:-g(?P<gap>0\.\d*[1-9]|1))?$")


def _gap(value) -> str:
    return format(float(value), "g")


def run_name(sampler: str, options: dict | None = None) -> str:
    """The run name of ``sampler`` with ``options`` (EOS: options over :data:`EOS_DEFAULTS`)."""
    if sampler != "eos":
        return sampler
    o = {**EOS_DEFAULTS, **(options or {})}
    unknown = set(o) - set(EOS_DEFAULTS)
    if unknown:
        raise ValueError(f"EOS options {sorted(unknown)} not allowed; allowed: {', '.join(EOS_DEFAULTS)}")
    name = f"eos-k{int(o['k_neighbors'])}"
    name += "-away" if o["direction"] == "away" else ""
    name += "-authors" if o["variant"] == "authors" else ""
    name += f"-g{_gap(o['max_gap'])}" if float(o["max_gap"]) != 1.0 else ""
    return name


def parse_run(run: str) -> tuple[str, dict]:
    """(sampler, options) of a run name: the inverse of :func:`run_name` (EOS: all four options)."""
    if not run.startswith("eos"):
        return run, {}
    m = _EOS_RUN.match(run)
    if not m:
        raise ValueError(f"bad EOS run name {run!r}; expected eos-k<K>[-away][-authors][-g<max_gap>]")
    return "eos", {"k_neighbors": int(m["k"]), "variant": "authors" if m["authors"] else "paper",
                   "direction": "away" if m["away"] else "toward", "max_gap": float(m["gap"] or 1.0)}


def eos_study_runs(options: dict) -> dict[str, str]:
    """{study variant: run name} of the variant study, each at the configured K."""
    return {v: run_name("eos", {**options, **over}) for v, over in EOS_STUDY.items()}
