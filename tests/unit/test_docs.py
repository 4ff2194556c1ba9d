"""The documentation: the generated configuration reference is current, the MkDocs site builds with
--strict (a broken link, anchor or page fails), and the README stays short with the two commands."""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import REPO


def _generator():
    spec = importlib.util.spec_from_file_location("gen_config_reference", REPO / "docs" / "gen_config_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_configuration_reference_is_generated_from_the_current_schema():
    gen = _generator()
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    page = (REPO / "docs" / "configuration.md").read_text()
    assert page == gen.render(schema), "docs/configuration.md is stale: run python docs/gen_config_reference.py"
    # every key of the schema is on the page, with its description
    assert "| `gans.cgan.mode` | one of `per_class`, `conditional` | `\"per_class\"` |" in page
    assert "| `oversampling.eos.k_neighbors` | integer ≥ 1 | `10` | K (in the run's path: eos-k&lt;K>) |" in page
    assert "`false` (source places365, inaturalist); `true` (otherwise)" in page  # per-source defaults


def test_generator_check_fails_on_a_stale_page(tmp_path, monkeypatch):
    gen = _generator()
    stale = tmp_path / "configuration.md"
    stale.write_text("# old\n")
    monkeypatch.setattr(gen, "PAGE", stale)
    monkeypatch.setattr(gen, "REPO", tmp_path)
    assert gen.main(["--check"]) == 1
    assert gen.main([]) == 0 and gen.main(["--check"]) == 0


def test_mkdocs_builds_strict(tmp_path):
    exe = Path(sys.executable).with_name("mkdocs")
    assert exe.exists(), "mkdocs is not installed: pip install -e '.[test]'"
    proc = subprocess.run([str(exe), "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=REPO,
                          capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (tmp_path / "site" / "studies" / "eos" / "index.html").is_file()


def test_readme_is_short_keeps_the_two_commands_and_links_resolve():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    assert ("make run     # creates .venv, installs the pipeline, runs: snakemake --cores $(nproc)  "
            "(Table II + its class counts)") in text
    assert ("make test    # creates .venv (if needed), adds the test extras (pytest, mkdocs, smote-variants), "
            "runs: pytest -v -rs") in text
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    assert links and all((REPO / link).exists() for link in links), [l for l in links if not (REPO / l).exists()]
