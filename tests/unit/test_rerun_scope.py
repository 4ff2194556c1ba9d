"""What an edit of the library reruns: the code hashes of the real workflow scripts before and after an edit
of one module in a copy of the package (every rule carries ``code=script_code_hash(<its script>)``).

- editing the GANs reruns no Fragility, Magnitude or DA-image rule (they share nothing with the GANs);
- editing a shared ``core`` module reruns exactly the rules whose scripts reach it through their imports,
  the three image studies' analyses among them, and no rule that does not reach it.
"""
from __future__ import annotations

import re
import shutil

import pytest

from conftest import REPO, codehash_reading
from pipeline_lib.infra import codehash

RULES_DIR = REPO / "workflow" / "rules"
IMAGE_STUDY_FILES = ("cnn_analyses.smk", "da_images.smk")  # Magnitude + Fragility, DA images


def rule_scripts(smk_files=None) -> dict[str, str]:
    """{rule: its script path} of the workflow's rule files (``script:`` directives)."""
    out = {}
    for smk in sorted(RULES_DIR.glob("*.smk")):
        if smk_files and smk.name not in smk_files:
            continue
        for rule, script in re.findall(r"^rule (\w+):.*?^    script:\s*\n\s*\"\.\./scripts/([\w.]+)\"",
                                       smk.read_text(), flags=re.M | re.S):
            out[rule] = str(REPO / "workflow" / "scripts" / script)
    return out


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """codehash pointed at a copy of the real package (edits there touch nothing else)."""
    copy = tmp_path / "pipeline_lib"
    shutil.copytree(REPO / "src" / "pipeline_lib", copy, ignore=shutil.ignore_patterns("__pycache__"))
    with codehash_reading(monkeypatch, copy):
        yield copy


def rerun_after(package, module: str) -> set[str]:
    """The rules whose code hash changes when ``module`` (dotted) gets one more line."""
    scripts = rule_scripts()
    before = {rule: codehash.script_code_hash(s) for rule, s in scripts.items()}
    path = package.joinpath(*module.split(".")).with_suffix(".py")
    path.write_text(path.read_text() + "\n# an edit\n")
    codehash._source.cache_clear()
    return {rule for rule, s in scripts.items() if codehash.script_code_hash(s) != before[rule]}


def reaching(module: str) -> set[str]:
    return {rule for rule, s in rule_scripts().items() if module in codehash.closure(*codehash.script_modules(s))}


def test_the_rule_files_name_the_scripts():
    scripts = rule_scripts()
    assert len(scripts) > 60 and all(s.endswith(".py") for s in scripts.values())
    image = rule_scripts(IMAGE_STUDY_FILES)
    assert {"fragility_diversity", "magnitude_fig1_cnn_ce_needed", "da_table8_cnn_weight_change"} <= set(image)


def test_editing_a_gan_module_reruns_no_image_study_rule(package_copy):
    image_rules = set(rule_scripts(IMAGE_STUDY_FILES))
    reach = reaching("sampling.gans")
    rerun = rerun_after(package_copy, "sampling.gans")
    assert rerun == reach
    assert {"train_gan", "sample_gan", "fig_gan_samples"} <= rerun   # the GAN rules do rerun
    assert not rerun & image_rules, sorted(rerun & image_rules)


def test_editing_a_shared_core_module_reruns_exactly_the_rules_that_import_it(package_copy):
    image_rules = set(rule_scripts(IMAGE_STUDY_FILES))
    reach = reaching("core.measures")
    rerun = rerun_after(package_copy, "core.measures")
    assert rerun == reach
    assert {"fragility_diversity", "magnitude_fig1_cnn_ce_needed", "da_table8_cnn_weight_change"} <= rerun
    assert "train_backbone" not in rerun and "fetch_dataset" not in rerun
    assert rerun != set(rule_scripts()) and rerun & image_rules


def test_editing_an_unhashed_module_reruns_nothing(package_copy):
    assert rerun_after(package_copy, "runtime.console") == set()
