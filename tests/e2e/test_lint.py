"""`snakemake --lint` on the workflow: no lint but the conda/container one (the project installs with pip) and
the one on functions beside rules (each rule file holds its own input and params functions, as PyPSA-Eur's
do; common.smk only what several rule files share: docs/development.md)."""
import re

from conftest import REPO, run_snakemake

ALLOWED = {"Specify a conda environment or container for each rule.", "Mixed rules and functions in same snakefile."}


def test_snakemake_lint_is_clean_but_for_conda(tmp_path):
    (tmp_path / "config.yaml").write_text((REPO / "config.yaml").read_text())
    proc = run_snakemake(tmp_path, "--lint", check=False)
    out = proc.stdout + proc.stderr
    # the linter ran over every rule file (each rule has the conda lint), so an empty result cannot pass
    for rule in ("train_backbone", "table2", "fig6_tsne", "da_table3_performance", "analyse_weights"):
        assert f"Lints for rule {rule} " in out, out[-3000:]
    titles = set(re.findall(r"^\s+\* (.+?):?\s*$", out, flags=re.M))
    assert titles and titles - ALLOWED == set(), out[-6000:]
