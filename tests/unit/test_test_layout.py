"""The test layout: `pytest tests/unit` alone is the fast half (the tests marked slow deselected, and said so);
any other selection keeps them; everything under tests/e2e is marked e2e."""
import subprocess
import sys

import pytest
from conftest import REPO


def _collect(*args):
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.slow
def test_the_unit_folder_alone_is_the_fast_half():
    fast = _collect("tests/unit")
    assert "deselected" in fast and "test_training_is_deterministic_and_resumes_exactly" not in fast
    assert "test_closure_follows_indirect_and_lazy_imports" in fast
    single = _collect("tests/unit/test_models_training.py")  # one file: every test of it
    assert "test_training_is_deterministic_and_resumes_exactly" in single and "deselected" not in single
    e2e = _collect("-m", "e2e", "tests/unit", "tests/e2e/test_lint.py")
    assert "test_snakemake_lint_is_clean_but_for_conda" in e2e and "tests/unit" not in e2e
