"""runtime.memory: a job's heap keeps what a batch frees (glibc mallopt), and only where it should."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import REPO
from pipeline_lib.runtime import memory

ENV = {k: v for k, v in os.environ.items() if k not in ("GLIBC_TUNABLES", "MALLOC_TRIM_THRESHOLD_",
                                                         "MALLOC_MMAP_THRESHOLD_")}
ENV["PYTHONPATH"] = str(REPO / "src")

# a forward pass over a ResNet-32 in batches of 64 after a warm-up pass; prints the minor page faults of
# the second pass and the process's heap settings
PASS = """
import resource, torch
from pipeline_lib.core import embeddings as emb
from pipeline_lib.core.models import build_model
torch.set_num_threads(1); torch.manual_seed(0)
net, x = build_model("resnet32", 10).eval(), torch.randn(512, 3, 32, 32)
emb.extract(net, x, batch_size=64)
r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
f = emb.extract(net, x, batch_size=64)[0]
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0
import hashlib; print(json.dumps([faults, memory.settings(), hashlib.sha256(f.tobytes()).hexdigest()]))
"""


def _run(prefix, env=ENV):
    code = textwrap.dedent(prefix) + "import json\nfrom pipeline_lib.runtime import memory\n" + PASS
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_user_tuned_reads_the_environment():
    assert memory.user_tuned({}) is None
    assert memory.user_tuned({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1"}) == "GLIBC_TUNABLES"
    assert memory.user_tuned({"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX"}) is None
    assert memory.user_tuned({"MALLOC_TRIM_THRESHOLD_": "1"}) == "MALLOC_TRIM_THRESHOLD_"


@pytest.mark.skipif(memory.glibc_version() is None, reason="mallopt is glibc's")
def test_snakemake_job_keeps_freed_memory_and_same_bytes():
    """A script job (a ``snakemake`` object in __main__) sets the heap at ``import pipeline_lib``; batch after
    batch then reuses the heap (almost no page faults) and the features are the same bytes as with glibc's
    default heap."""
    job = _run("""
        import sys, types
        sys.modules["__main__"].snakemake = types.SimpleNamespace(threads=1, rule="r", log=[], wildcards={})
        import pipeline_lib
        """)
    plain = _run("import pipeline_lib\n")
    assert job[1] == {"malloc": "glibc", "mmap_threshold_mib": 64, "trim_threshold_mib": 256}
    assert plain[1] == {"malloc": "default (not set)"}
    assert job[2] == plain[2]
    assert 20 * job[0] < plain[0], (job[0], plain[0])  # measured: 27-1,024 against 100-215 k


@pytest.mark.skipif(memory.glibc_version() is None, reason="mallopt is glibc's")
def test_user_tuning_wins():
    env = dict(ENV, MALLOC_TRIM_THRESHOLD_="1048576")
    got = _run("from pipeline_lib.infra import runlog\nrunlog.setup(None, 1)\n", env=env)
    assert got[1] == {"malloc": "default (MALLOC_TRIM_THRESHOLD_)"}
