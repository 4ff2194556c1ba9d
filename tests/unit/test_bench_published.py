"""The paper-scale benchmark's code (benchmarks/bench_published.py) on tiny hand-made files: per-rule times from
Snakemake benchmark files, the published numbers next to ours, Magnitude Fig. 1 per class, and its config."""
import importlib.util

import pandas as pd
import pytest

from conftest import REPO, SHARED
from pipeline_lib.studies import da_images as di

spec = importlib.util.spec_from_file_location("bench_published", REPO / "benchmarks" / "bench_published.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

TSV = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n{s}\t0:00:01\t1\t1\t1\t1\t0\t0\t50\t{cpu}\n"


def _workdir(tmp_path):
    for rule, name, s, cpu in (("saliency_top_pixels", "a", 2.0, 1.5), ("saliency_top_pixels", "b", 3.0, 2.5),
                               ("fragility_diversity", "diversity", 1.0, 0.5)):
        (tmp_path / "benchmarks" / rule).mkdir(parents=True, exist_ok=True)
        (tmp_path / "benchmarks" / rule / f"{name}.tsv").write_text(TSV.format(s=s, cpu=cpu))
    (tmp_path / "reports" / "da").mkdir(parents=True)
    (tmp_path / "reports" / "magnitude").mkdir(parents=True)
    per_cut = pd.DataFrame([{"dataset": "cifar10", "cut": c, "model": "base", "metric": m, "value": v}
                            for c, (bac, fm) in enumerate([(0.72, 0.71), (0.73, 0.73)])
                            for m, v in (("bac", bac), ("fm_authors", fm))])
    di.table5(per_cut, ["cifar10"]).to_csv(tmp_path / "reports/da/table5.csv", index=False)
    w = pd.DataFrame([{"dataset": "cifar10", "cut": c, "method": "eos", "measure": "paper", "value": v, "n_flagged": 0}
                      for c, v in enumerate([2.5, 2.7])])
    di.table8(w, ["cifar10"]).to_csv(tmp_path / "reports/da/table8.csv", index=False)
    pd.DataFrame([{"dataset": "CIFAR-10", "cut": c, "model": m, "class": k, "pct": p}
                  for c in (0, 1) for m, k, p in (("Base", 0, 5.0), ("Base", 1, 15.0), ("EOS", 0, 4.0), ("EOS", 1, 8.0))]
                 ).to_csv(tmp_path / "reports/magnitude/fig1.csv", index=False)
    return tmp_path


def test_rule_times_sum_the_benchmark_files(tmp_path):
    t = bench.rule_times(_workdir(tmp_path)).set_index("rule")
    assert t.loc["saliency_top_pixels"].tolist() == [2, 5.0, 3.0, 4.0]
    assert t.index[0] == "saliency_top_pixels" and t.loc["fragility_diversity", "cpu_s"] == 0.5


def test_published_numbers_next_to_ours(tmp_path):
    card = bench.published_vs_ours(_workdir(tmp_path)).set_index(["table", "method", "metric"])
    bac = card.loc[("table5", "base", "bac")]
    assert bac["published"] == pytest.approx(0.7232) and bac["reproduced"] == pytest.approx(0.725)
    assert bac["difference"] == pytest.approx(0.725 - 0.7232) and bac["status"] == "matches setting"
    eos = card.loc[("table8", "eos", "weight_change")]
    assert eos["published"] == pytest.approx(2.676) and eos["reproduced"] == pytest.approx(2.6)
    assert card.loc[("table11", "dsm", "overlap"), "status"] == "not run"  # no table11.csv in this run


def test_fig1_per_class_against_the_claim(tmp_path):
    f = bench.fig1_per_class(_workdir(tmp_path)).set_index("model")
    assert f.loc["Base", "max"] == 15.0 and not f.loc["Base", "<= 12 % (paper)"]
    assert f.loc["EOS", "class 1"] == 8.0 and f.loc["EOS", "<= 12 % (paper)"]
    text = bench.report(tmp_path)
    assert "saliency_top_pixels" in text and "0.7232" in text and "Magnitude Fig. 1" in text


def test_config_names_the_authors_fifteen_networks():
    cfg = bench.absolute_config()
    ds = cfg["datasets"]["cifar10"]
    assert ds["source"] == "imagefolder" and ds["path"] == str((SHARED / "data" / "cifar10").resolve())
    files = [p for cuts in ds["checkpoints"].values() for p in cuts.values()]
    assert len(files) == 15 and sorted(ds["checkpoints"]) == ["base", "dsm", "eos", "remix", "ros"]
    assert all(p.startswith(str((SHARED / "data" / "authors_checkpoints" / "cifar10").resolve())) for p in files)
    if (SHARED / "data" / "authors_checkpoints" / "cifar10").is_dir():  # every name is a file the README lists
        readme = (SHARED / "data" / "authors_checkpoints" / "cifar10" / "README.md").read_text()
        assert all(p.rsplit("/", 1)[1] in readme for p in files)
