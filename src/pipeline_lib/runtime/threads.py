"""A job's threads: exactly the ``threads:`` its rule declares, in every pool the job can start.

Snakemake sets ``OMP_NUM_THREADS`` and friends for ``shell:`` rules only; a ``script:`` job inherits the
planner's environment, so PyTorch, OpenMP (scikit-learn, torch), MKL and OpenBLAS each start one thread per
core.  Two such jobs on two cores run four-plus spinning threads against each other (the image study spent
40 % of its CPU time in the kernel; a GAN training ran 25x slower beside short scikit-learn jobs).

:func:`pin` closes every pool to ``n`` threads in three layers:

* the environment variables the pools read when their library loads (:data:`ENV_VARS`), set before numpy,
  scikit-learn or torch is imported: ``pipeline_lib/__init__.py`` calls :func:`pin_snakemake_job`, and
  every workflow script's first import is ``pipeline_lib``, so this runs before any heavy import;
* threadpoolctl limits on the BLAS / OpenMP pools already loaded (a script that imported numpy first);
* PyTorch's intra-op and inter-op pools (``torch.set_num_threads`` / ``set_num_interop_threads``): at once if
  torch is loaded, else when it is (an import hook, so that jobs that never use torch never import it).

:func:`settings` reports what a process ended up with; :mod:`pipeline_lib.infra.runlog` logs it when a job ends.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys

ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS",
            "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
_PINNED = {"n": None}


def _pin_torch(torch, n: int) -> None:
    torch.set_num_threads(n)
    if torch.get_num_interop_threads() != n:
        try:  # allowed once, before any inter-op work; a second pin to another n keeps the first
            torch.set_num_interop_threads(n)
        except RuntimeError:
            pass


class _TorchHook(importlib.abc.MetaPathFinder):
    """Pins torch's pools right after ``import torch`` runs (then removes itself)."""

    def find_spec(self, name, path=None, target=None):
        if name != "torch":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("torch")
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            if _PINNED["n"]:
                _pin_torch(module, _PINNED["n"])

        spec.loader.exec_module = exec_module
        return spec


def pin(n: int) -> int:
    """Limit every thread pool of this process to ``n`` (>= 1) threads; returns ``n``."""
    n = max(1, int(n))
    _PINNED["n"] = n
    for var in ENV_VARS:
        os.environ[var] = str(n)
    if "torch" in sys.modules:
        _pin_torch(sys.modules["torch"], n)
    elif not any(isinstance(f, _TorchHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _TorchHook())
    if any(m in sys.modules for m in ("numpy", "scipy", "sklearn", "torch")):
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n)  # the pools loaded so far; later ones read ENV_VARS when they load
    return n


def pin_snakemake_job() -> int | None:
    """In a Snakemake ``script:`` job (a ``snakemake`` object in ``__main__`` with a ``threads`` count), pin
    the process to the rule's threads; elsewhere (the planner, tests, a user's session) do nothing."""
    job = getattr(sys.modules.get("__main__"), "snakemake", None)
    threads = getattr(job, "threads", None)
    if isinstance(threads, int) and not isinstance(threads, bool) and hasattr(job, "rule"):
        return pin(threads)
    return None


def settings() -> dict:
    """The threads this process's pools use now: torch intra-op / inter-op (when torch is loaded) and each
    loaded BLAS / OpenMP library's (threadpoolctl's ``user_api:internal_api`` -> threads)."""
    out = {}
    torch = sys.modules.get("torch")
    if torch is not None:
        out["torch_intra_op"] = torch.get_num_threads()
        out["torch_inter_op"] = torch.get_num_interop_threads()
    if any(m in sys.modules for m in ("numpy", "scipy", "sklearn", "torch")):
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            out[f"{pool['user_api']}:{pool['internal_api']}:{os.path.basename(pool['filepath'])}"] = pool["num_threads"]
    return out
