"""A job's thread pools (torch intra/inter-op, OpenMP, BLAS) hold exactly its rule's threads
(pipeline_lib.runtime.threads), so that jobs side by side do not oversubscribe the cores."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import REPO, snakemake_bin

ENV = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
ENV["PYTHONPATH"] = str(REPO / "src")

# a job that loads every pool: numpy/pandas (OpenBLAS) through the library, then scikit-learn (OpenMP) and
# torch (its OpenMP and inter-op pools), and does torch work; prints the settings it ends up with
WORK = """
import sklearn.svm, torch
torch.ones(300, 300) @ torch.ones(300, 300)
from pipeline_lib.runtime import threads
"""


def _run(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def _check(settings, n):
    assert settings["torch_intra_op"] == n and settings["torch_inter_op"] == n
    pools = {k: v for k, v in settings.items() if not k.startswith("torch")}
    assert any(k.startswith("openmp") for k in pools) and any(k.startswith("blas") for k in pools)
    blas = min(n, os.cpu_count())  # OpenBLAS never starts more threads than there are cores
    assert all(v == (blas if k.startswith("blas") else n) for k, v in pools.items()), settings


@pytest.mark.parametrize("n", [1, 3])  # 1 and 3: neither is the default (the cores) of a 2-core machine
def test_snakemake_job_pinned_at_first_import(n):
    """A script job (a ``snakemake`` object in __main__) is pinned by its first ``import pipeline_lib``,
    before numpy or torch load, even without runlog.start."""
    code = textwrap.dedent(f"""
        import sys, types, json
        sys.modules["__main__"].snakemake = types.SimpleNamespace(threads={n}, rule="r", log=[], wildcards={{}})
        from pipeline_lib.studies.tabular import runs
        import os
        env = os.environ["OMP_NUM_THREADS"], os.environ["OPENBLAS_NUM_THREADS"], os.environ["MKL_NUM_THREADS"]
        """) + WORK + "print(json.dumps([env, threads.settings()]))"
    env, settings = json.loads(_run(code).strip().splitlines()[-1])
    assert env == [str(n)] * 3
    _check(settings, n)


def test_runlog_pins_pools_already_loaded():
    """runlog.setup pins a process whose pools loaded before it (threadpoolctl and torch set at once)."""
    code = "import numpy, sklearn.svm, torch, json\nfrom pipeline_lib.infra import runlog\nrunlog.setup(None, 1)\n" + WORK
    _check(json.loads(_run(code + "print(json.dumps(threads.settings()))").strip().splitlines()[-1]), 1)


def test_outside_a_job_nothing_is_pinned():
    code = "import os, pipeline_lib\nprint(os.environ.get('OMP_NUM_THREADS'))"
    assert _run(code).strip() == "None"


def test_rules_side_by_side_get_their_threads(tmp_path):
    """Two Snakemake script rules run at once (threads 1 and 3) each end with their own threads in every
    pool, and the job's log records them."""
    (tmp_path / "job.py").write_text("from pipeline_lib.infra import runlog\nrunlog.start(snakemake)\n" + WORK
                                     + "open(snakemake.output[0], 'w').write(json.dumps(threads.settings()))\n"
                                       .replace("json.dumps", "__import__('json').dumps"))
    (tmp_path / "Snakefile").write_text(textwrap.dedent("""
        rule all:
            input: "t1.json", "t3.json"
        rule one:
            output: "t1.json"
            log: "one.log"
            threads: 1
            script: "job.py"
        rule three:
            output: "t3.json"
            log: "three.log"
            threads: 3
            script: "job.py"
        """))
    proc = subprocess.run([snakemake_bin(), "-s", str(tmp_path / "Snakefile"), "--directory", str(tmp_path),
                           "--cores", "4", "--quiet"], capture_output=True, text=True, env=ENV)
    assert proc.returncode == 0, proc.stderr[-4000:]
    for n in (1, 3):
        _check(json.loads((tmp_path / f"t{n}.json").read_text()), n)
    assert "threads 3: {'torch_intra_op': 3, 'torch_inter_op': 3" in (tmp_path / "three.log").read_text()
