import pandas as pd
import pytest

from pipeline_lib.studies.eos import figures


def test_resolve_classes():
    names = ["airplane", "automobile", "truck"]
    assert figures.resolve_classes(None, names, [50, 500, 5]) == [1, 2]
    assert figures.resolve_classes(["automobile", "truck"], names, [1, 1, 1]) == [1, 2]
    assert figures.resolve_classes([0, 2], names, [1, 1, 1]) == [0, 2]
    with pytest.raises(ValueError, match="'car' is not a class; classes: airplane, automobile, truck"):
        figures.resolve_classes(["car", "truck"], names, [1, 1, 1])


def test_runtime_table_sums_stage_benchmarks_per_cut(tmp_path):
    cols = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"

    def bench(name, s, cpu, rss=10.0):
        p = tmp_path / name
        p.write_text(cols + f"{s}\t0:00:01\t{rss}\t1\t1\t1\t0\t0\t0\t{cpu}\n")
        return str(p)

    b = {"d": {"pixel_smote": [bench("oversample_d_cut0_smote.tsv", 2, 1), bench("train_d_cut0_smote.tsv", 10, 18),
                               bench("oversample_d_cut10_smote.tsv", 4, 3), bench("train_d_cut10_smote.tsv", 12, 22)],
               "three_phase_eos": [bench("train_d_cut0_ce.tsv", 5, 9, rss=99.0), bench("head_d_cut0_ce_eos.tsv", 1, 1)]}}
    out = figures.runtime_table(b, str(tmp_path / "runtime.csv"))
    row = out.set_index("pipeline").loc["pixel_smote"]
    assert row["n_cuts"] == 2 and row["n_jobs"] == 4
    assert row["wall_s_per_cut"] == pytest.approx((2 + 10 + 4 + 12) / 2)
    assert row["cpu_s_per_cut"] == pytest.approx((1 + 18 + 3 + 22) / 2)
    eos = out.set_index("pipeline").loc["three_phase_eos"]
    assert eos["wall_s_per_cut"] == pytest.approx(6) and eos["max_rss_mb"] == 99.0
    assert "CPUs" in out.loc[0, "machine"]
    assert pd.read_csv(tmp_path / "runtime.csv").shape == out.shape
