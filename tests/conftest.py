import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UNIT = Path(__file__).resolve().parent / "unit"    # fast tests of the library, no Snakemake
E2E = Path(__file__).resolve().parent / "e2e"      # the Snakemake workflow (and the GPU check) run end to end
SHARED = REPO.parent / "shared"
CIFAR_FOLDER = SHARED / "data" / "cifar10"
IMBLEARN_HOME = SHARED / "data" / "imblearn"


def pytest_collection_modifyitems(config, items):
    """Everything under tests/e2e is marked ``e2e``.  ``pytest tests/unit`` (that folder alone, no ``-m``) is
    the fast half: it deselects the unit tests marked ``slow`` (training runs of some seconds each), which
    every other run keeps (``make test``, a single file, ``-m slow``)."""
    for item in items:
        if E2E in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
    args = [Path(a).resolve() for a in config.args]
    if args == [UNIT] and not config.option.markexpr:
        slow = [item for item in items if item.get_closest_marker("slow")]
        if slow:
            config.hook.pytest_deselected(items=slow)
            items[:] = [item for item in items if not item.get_closest_marker("slow")]


def pytest_report_header(config):
    if [Path(a).resolve() for a in config.args] == [UNIT] and not config.option.markexpr:
        return "tests/unit alone: the fast half (tests marked slow are deselected; make test runs everything)"
    return None


def snakemake_bin() -> str:
    exe = Path(sys.executable).with_name("snakemake")
    return str(exe) if exe.exists() else shutil.which("snakemake")


def run_snakemake(workdir, *args, check=True, env=None):
    """Run the repo's Snakefile in ``workdir`` (which holds its own config.yaml); ``env`` adds variables."""
    cmd = [snakemake_bin(), "-s", str(REPO / "Snakefile"), "--directory", str(workdir), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONHASHSEED": "0", **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc


@pytest.fixture(scope="session")
def cifar_folder():
    if not (CIFAR_FOLDER / "train").is_dir():
        pytest.skip(f"real CIFAR-10 copy not found at {CIFAR_FOLDER}")
    return CIFAR_FOLDER


@pytest.fixture(scope="session")
def imblearn_home():
    """imbalanced-learn's cache of the five UCI sets (../shared in CI; REQUIRE_SHARED_DATA=1 makes it a
    failure, not a skip, when it is missing)."""
    if not (IMBLEARN_HOME / "zenodo").is_dir():
        if os.environ.get("REQUIRE_SHARED_DATA") == "1":
            pytest.fail(f"REQUIRE_SHARED_DATA=1 but {IMBLEARN_HOME}/zenodo does not exist")
        pytest.skip(f"imbalanced-learn data not found at {IMBLEARN_HOME}")
    return IMBLEARN_HOME


@contextmanager
def codehash_reading(monkeypatch, package_dir):
    """``pipeline_lib.infra.codehash`` reading the package at ``package_dir`` (its source caches cleared on the
    way in and out)."""
    from pipeline_lib.infra import codehash

    monkeypatch.setattr(codehash, "_package_dir", lambda: package_dir)
    codehash._source.cache_clear()
    codehash.direct_imports.cache_clear()
    try:
        yield
    finally:
        codehash._source.cache_clear()
        codehash.direct_imports.cache_clear()


def randomise_bn(net, seed=0):
    """BatchNorm statistics / affine away from their init (so that a lost buffer would show); eval mode."""
    import torch

    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return net.eval()
