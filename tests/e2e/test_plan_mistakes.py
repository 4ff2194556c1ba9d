"""Settings that used to pass the plan silently: each stops it with one line (pipeline_lib.infra.config)."""
import re
import subprocess
import sys

import pytest
import yaml

from conftest import REPO, run_snakemake
from pipeline_lib.infra.config import ConfigError, check_duplicate_keys, check_table4_k, validate
from unit.test_config import SCHEMA, default_config, one_dataset, plan_error, planned


def test_a_checkpoint_under_a_cut_not_in_cuts_stops_the_plan():
    cfg = one_dataset(source="cifar10", checkpoints={"base": {"0": "m/base_0.pt", "1": "m/base_1.pt"}})
    msg = plan_error(cfg)
    assert msg == ("datasets.d.checkpoints.base: cut '1' is not in cuts [0, 10], so its file would be ignored and "
                   "the model trained; allowed: 0, 10")


def table4_error(cfg):
    validate(cfg, SCHEMA)
    with pytest.raises(ConfigError) as exc:
        check_table4_k(cfg, list(cfg["datasets"]))
    assert "\n" not in str(exc.value)
    return str(exc.value)


def test_eos_k_larger_than_the_data_stops_table4_naming_the_largest_k():
    cfg = default_config()
    cfg["eos_paper"]["table4"]["k_values"] = [10, 5000]
    msg = table4_error(cfg)
    largest = int(re.search(r"allowed: at most (\d+)$", msg).group(1))
    assert msg.startswith(f"eos_paper.table4.k_values[1] = 5000 needs more than the {largest + 1} training samples "
                          "of each cut of datasets.digits")
    cfg = default_config()
    cfg["eos_paper"]["table4"]["k_values"] = [largest]
    check_table4_k(validate(cfg, SCHEMA), ["digits"])  # the largest K allowed passes
    cfg["eos_paper"]["table4"]["k_values"] = [largest + 1]
    assert f"allowed: at most {largest}" in table4_error(cfg)
    cfg = default_config()
    cfg["datasets"]["digits"]["classes"] = ["0", "1"]
    assert table4_error(cfg).endswith("allowed: at most 139")  # 2 classes: 128 + 12 training images


def test_table4_k_is_checked_when_planning_table4_only(tmp_path):
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    cfg["eos_paper"]["table4"]["k_values"] = [10, 5000]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    proc = run_snakemake(tmp_path, "-n", "reports/table4.csv", check=False)
    assert proc.returncode == 1
    lines = [l for l in proc.stderr.splitlines() if "config error" in l]
    assert lines == [f"config error: eos_paper.table4.k_values[1] = 5000 needs more than the 503 training samples of "
                     "each cut of datasets.digits (EOS looks among a sample's K nearest neighbours); allowed: at most "
                     "502"]
    run_snakemake(tmp_path, "-n", "reports/table2.csv")  # a target without Table IV plans as before


def test_numeric_class_names_get_a_hint_that_names_are_strings():
    cfg = default_config()
    cfg["datasets"]["digits"]["classes"] = [0, 1]
    with pytest.raises(ConfigError) as exc:
        validate(cfg, SCHEMA)
    msg = str(exc.value)
    assert re.fullmatch(r"datasets\.digits\.classes\.[01] = [01] is a number; class names are strings: quote them, "
                        r"e\.g\. classes: \['[01]', \.\.\.\]; allowed: the source's class names", msg), msg
    cfg = default_config()
    cfg["datasets"]["digits"]["classes"] = ["0", "1"]
    cfg["eos_paper"]["table4"]["k_values"] = [10, 50]  # two classes have 140 training samples
    planned(cfg)


BROKEN = "seed: 0\ncuts: [0, 10\nlosses: [ce]\n"


def test_a_yaml_syntax_error_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BROKEN)
    with pytest.raises(ConfigError) as exc:
        check_duplicate_keys(str(bad))
    assert str(exc.value).startswith(f"{bad}, line 3, column 7: not valid YAML (while parsing a flow sequence at "
                                     "line 2, expected ',' or ']'")
    tab = tmp_path / "tab.yaml"
    tab.write_text("seed: 0\ndatasets:\n\tdigits: {}\n")
    with pytest.raises(ConfigError, match=r"tab.yaml, line 3, column 1: not valid YAML .*'\\t'"):
        check_duplicate_keys(str(tab))
    (tmp_path / "ok.json").write_text('{"seed": 0}')
    check_duplicate_keys(str(tmp_path / "ok.json"))
    (tmp_path / "tag.yaml").write_text("cuts: !!python/tuple [0, 10]\n")  # Snakemake's FullLoader builds it
    check_duplicate_keys(str(tmp_path / "tag.yaml"))
    # the command the docs give for a --configfile that Snakemake refuses
    proc = subprocess.run([sys.executable, "-m", "pipeline_lib.infra.config", str(bad), str(REPO / "config.yaml")],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [f"config error: {str(exc.value)}"]


def test_snakemake_names_the_line_of_a_broken_default_config(tmp_path):
    (tmp_path / "config.yaml").write_text(BROKEN)
    proc = run_snakemake(tmp_path, "-n", check=False)
    assert proc.returncode != 0
    assert "config error: config.yaml, line 3, column 7: not valid YAML" in proc.stderr
    assert "not valid JSON or YAML" not in proc.stderr
