"""pipeline_lib.paper_check: the transcribed paper tables, the adapters (on frames built by the project's own
report functions), the scorecard (statuses, differences, nothing lost or duplicated) and its Markdown."""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from pipeline_lib import paper_check as pc
from pipeline_lib import reports

RESOURCES = REPO / "workflow" / "resources"

CELLS = {("eos", "table1"): 84, ("eos", "table2"): 240, ("eos", "table3"): 192, ("eos", "table4"): 60,
         ("eos", "table5"): 18, ("eos", "pixel"): 3, ("eos", "runtime"): 2,
         ("da", "table1"): 15, ("da", "table2"): 18, ("da", "table3"): 180, ("da", "table4"): 80,
         ("da", "table5"): 42, ("da", "table6"): 20, ("da", "table7"): 20, ("da", "table8"): 12,
         ("da", "table9"): 30, ("da", "table10"): 30, ("da", "table11"): 20}


@pytest.fixture(scope="module")
def published():
    return pc.load_published(RESOURCES)


def _cell(pub, **keys):
    row = pub
    for k, v in keys.items():
        row = row[row[k] == v]
    assert len(row) == 1, (keys, row)
    return float(row["value"].iloc[0])


# --- transcription ------------------------------------------------------------------------------------------

def test_cell_counts_and_schema(published):
    assert list(published.columns) == pc.PUBLISHED_COLUMNS
    counts = published.groupby(["paper", "table"], sort=False).size().to_dict()
    assert counts == CELLS
    assert list(dict.fromkeys(zip(published["paper"], published["table"]))) == list(CELLS)  # paper, table order
    assert not published.duplicated(pc.KEYS).any()
    assert published["value"].notna().all()
    assert published.loc[published["metric"].isin(["bac", "gm", "fm", "overlap"]), "value"].between(0, 1).all()


def test_known_cells(published):
    p = published
    assert _cell(p, paper="eos", table="table5", model="wideresnet", method="eos", metric="bac") == 0.7879
    assert _cell(p, paper="eos", table="table4", dataset="cifar10", k="300", metric="bac") == 0.7722
    assert _cell(p, paper="eos", table="table3", dataset="svhn", loss="ldam", method="cgan", metric="fm") == 0.8910
    assert _cell(p, paper="eos", table="table2", dataset="cifar10", loss="ce", method="eos", metric="bac") == 0.7581
    assert _cell(p, paper="eos", table="table1", dataset="cifar10", method="pre_bsmote", metric="gm") == 0.8292
    assert _cell(p, paper="eos", table="pixel", metric="gm") == 0.8150
    assert _cell(p, paper="eos", table="runtime", method="pre_mean") == 126.9
    assert _cell(p, paper="eos", table="runtime", method="eos") == 43.9
    assert _cell(p, paper="da", table="table5", dataset="inat5", method="ros", metric="fm") == 0.6529
    assert _cell(p, paper="da", table="table8", dataset="inat5", method="ros") == 20.77
    assert _cell(p, paper="da", table="table11", dataset="average", method="eos") == 0.7861
    assert _cell(p, paper="da", table="table3", dataset="us_crime", model="nn", method="remix", metric="fm") == 0.6467
    assert _cell(p, paper="da", table="table2", dataset="places5", metric="train_majority") == 2500
    assert _cell(p, paper="da", table="table1", dataset="coil_2000", metric="samples") == 9822


def test_transcription_agrees_with_older_copies_and_itself(published):
    p = published
    # DA Table III = benchmarks/paper_da_table3.csv, all 180 cells
    old = pd.read_csv(RESOURCES.parents[1] / "benchmarks" / "paper_da_table3.csv", comment="#")
    for r in old.itertuples(index=False):
        for model in ("svm", "lg", "nn"):
            for metric in ("bac", "fm"):
                assert _cell(p, paper="da", table="table3", dataset=r.dataset, method=r.method, model=model,
                             metric=metric) == getattr(r, f"{model}_{metric}")
    # EOS Table IV at K=10 repeats Table II's CE EOS; DA Table IV's real-space rows repeat Table III's NN
    t4 = p[(p["table"] == "table4") & (p["paper"] == "eos") & (p["k"] == "10")]
    for r in t4.itertuples(index=False):
        assert _cell(p, paper="eos", table="table2", dataset=r.dataset, loss="ce", method="eos",
                     metric=r.metric) == r.value
    d4 = p[(p["paper"] == "da") & (p["table"] == "table4") & ~p["method"].isin(["eos", "dsm"])]
    assert len(d4) == 60
    for r in d4.itertuples(index=False):
        assert _cell(p, paper="da", table="table3", dataset=r.dataset, model="nn", method=r.method,
                     metric=r.metric) == r.value


def test_published_gm_is_the_authors_macro_gmean(published):
    """On a balanced test set gm_authors = sqrt(BAC (1 - (1 - BAC) / (C - 1))): the EOS paper's CIFAR cells
    follow it (its Table II CIFAR-10 ASL baseline is off by 0.0035 in the paper itself)."""
    p = published[(published["paper"] == "eos") & published["dataset"].isin(["cifar10", "cifar100"])
                  & published["table"].isin(["table1", "table2", "table5", "pixel"])]
    w = p.pivot_table(index=["table", "dataset", "model", "loss", "method", "k"], columns="metric", values="value")
    classes = np.where(w.index.get_level_values("dataset") == "cifar10", 10, 100)
    predicted = np.sqrt(w["bac"] * (1 - (1 - w["bac"]) / (classes - 1)))
    err = (w["gm"] - predicted).abs()
    assert len(err) == 14 + 40 + 6 + 1  # Table I, II, V rows, V-E3
    assert (err > 0.00015).sum() == 1 and err.max() < 0.004


# --- adapters on the project's own report frames -------------------------------------------------------------

def _eos_metrics():
    rng = np.random.default_rng(0)
    rows = []
    for cut in (0, 10):
        for loss in ("ce", "ldam"):
            for meth in ("baseline", "smote", "bsmote", "balsvm", "eos", "crt", "pre_smote", "pre_remix"):
                for metric in ("bac", "gm_authors", "fm_authors", "gm"):
                    rows.append(dict(dataset="digits", cut=cut, loss=loss, method=meth, metric=metric,
                                     value=0.5 + 0.4 * rng.random()))
    return pd.DataFrame(rows)


def test_from_table2_and_table1():
    m = _eos_metrics()
    t2 = reports.table2(m, ["digits"], ["ce", "ldam"], ["baseline", "smote", "bsmote", "balsvm", "eos", "crt"])
    r = pc.from_table2(t2)
    assert list(r.columns) == pc.REPRODUCED_COLUMNS
    assert len(r) == 2 * 6 * 3 and set(r["metric"]) == {"bac", "gm", "fm"}  # GMrec dropped
    one = r[(r["loss"] == "ldam") & (r["method"] == "bsmote") & (r["metric"] == "gm")].iloc[0]
    src = m[(m["loss"] == "ldam") & (m["method"] == "bsmote") & (m["metric"] == "gm_authors")]["value"]
    assert one["value"] == pytest.approx(src.mean()) and one["sd"] == pytest.approx(src.std())
    assert one["n_cuts"] == 2 and one["paper"] == "eos" and one["table"] == "table2"
    t1 = reports.table1(m, ["digits"], ["pre_smote", "pre_remix", "smote"])
    r1 = pc.from_table1(t1)
    assert sorted(set(r1["method"])) == ["pre_remix", "pre_smote", "smote"] and len(r1) == 9
    assert set(r1["loss"]) == {"ce"} and set(r1["dataset"]) == {"digits"} and (r1["n_cuts"] == 2).all()


def test_da_image_and_tabular_adapters(tmp_path):
    from pipeline_lib import da_images as di
    from pipeline_lib import tabular_reports as tr

    per_cut = pd.DataFrame([dict(dataset="digits", cut=c, model=mo, metric=me, value=0.6 + 0.01 * c)
                            for c in (0, 1) for mo in ("base", "eos") for me in ("bac", "fm_authors")])
    r5 = pc.from_da_table5(di.table5(per_cut, ["digits"]))
    assert set(r5["metric"]) == {"bac", "fm"} and set(r5["method"]) == {"base", "eos"} and len(r5) == 4
    w = pd.DataFrame([dict(dataset="digits", cut=c, method=m, measure=s, value=2.0 + c, n_flagged=0)
                      for c in (0, 1) for m in ("ros", "eos") for s in ("paper", "guarded")])
    r8 = pc.from_da_table8(di.table8(w, ["digits"]))
    assert len(r8) == 2 and (r8["value"] == 2.5).all() and set(r8["metric"]) == {"weight_change"}
    ov = pd.DataFrame([dict(dataset="digits", cut=c, method=m, overlap=0.5, n_images=10, k=6, fraction=0.1)
                       for c in (0, 1) for m in ("ros", "dsm")])
    r11 = pc.from_da_table11(di.table11(ov, ["digits"]))
    assert set(r11["dataset"]) == {"digits", "average"} and len(r11) == 4

    metrics = pd.DataFrame([dict(dataset=ds, run=run, model=mo, method=me, metric=mt, value=0.7, converged=True,
                                 kernel="rbf" if mo == "svm" else "")
                            for ds in ("scene",) for run in (0, 1) for mo in ("svm", "lg", "nn")
                            for me in ("base", "ros", "cs", "smote", "adasyn", "remix", "eos", "dsm")
                            for mt in ("bac", "fm")])
    t3 = tr.table3(metrics, ["scene"], str(tmp_path / "t3.csv"), str(tmp_path / "t3.md"))
    r3 = pc.from_da_table3(pd.read_csv(tmp_path / "t3.csv"))
    assert len(r3) == 6 * 3 * 2 and (r3["n_cuts"] == 2).all() and set(r3["model"]) == {"svm", "lg", "nn"}
    assert len(t3) == 6
    tr.table4(metrics, ["scene"], str(tmp_path / "t4.csv"), str(tmp_path / "t4.md"))
    r4 = pc.from_da_table4(pd.read_csv(tmp_path / "t4.csv"))
    assert len(r4) == 8 * 2 and set(r4["dataset"]) == {"scene"} and set(r4["model"]) == {"nn"}
    weights = pd.DataFrame([dict(dataset="scene", run=run, model="lg", method=me, relative_change=3.0, n_excluded=0)
                            for run in (0, 1) for me in ("base", "cs", "ros", "smote", "adasyn", "remix")])
    tr.weight_change_table(weights, "lg", ["scene"], str(tmp_path / "t6.csv"), str(tmp_path / "t6.md"), eps=0.0)
    r6 = pc.from_da_table6(pd.read_csv(tmp_path / "t6.csv"))
    assert set(r6["method"]) == {"cs", "ros", "smote", "adasyn", "remix"} and (r6["value"] == 3.0).all()
    top = pd.DataFrame([dict(model="lg", dataset="scene", run=run, method=me, **{"class": c}, feature=f,
                             magnitude=float(f if me == "base" else -f), fallback=False)
                        for run in (0,) for me in ("base", "cs", "ros", "smote", "adasyn", "remix")
                        for c in (0, 1) for f in range(20)])
    tr.overlap_table(top, "lg", 10, ["scene"], str(tmp_path / "t9.csv"), str(tmp_path / "t9.md"))
    r9 = pc.from_da_table9(pd.read_csv(tmp_path / "t9.csv"))
    assert set(r9["dataset"]) == {"scene", "average"} and (r9["value"] == 0.0).all() and len(r9) == 10


def test_da_table2_and_runtime_adapters(tmp_path):
    from pipeline_lib import da_images as di
    from pipeline_lib import figures

    def idx(name, labels):
        path = tmp_path / name
        pd.DataFrame({"sample_id": range(len(labels)), "label": labels, "class_name": labels}).to_csv(path, index=False)
        return str(path)

    t = di.table2([{"name": "digits", "imbalance_type": "exp",
                    "cuts": {0: {"train_indices": idx("tr.csv", [0] * 10 + [1] * 2),
                                 "test_indices": idx("te.csv", [0] * 5 + [1] * 5)}}}])
    r = pc.from_da_table2(t).set_index("metric")["value"]
    assert r.to_dict() == {"classes": 2, "imbalance_level": 5, "train_majority": 10, "train_minority": 2,
                           "test_majority": 5, "test_minority": 5}
    bench = {}
    for pipe, secs in (("pixel_smote", 600), ("pixel_bsmote", 1200), ("pixel_balsvm", 1800), ("three_phase_eos", 300)):
        f = tmp_path / f"{pipe}_cut0_x.tsv"
        pd.DataFrame({"s": [secs], "cpu_time": [secs], "max_rss": [1.0]}).to_csv(f, sep="\t", index=False)
        bench[pipe] = [str(f)]
    rt = pc.from_runtime(figures.runtime_table({"digits": bench}, str(tmp_path / "runtime.csv")))
    assert rt.set_index("method")["value"].to_dict() == {"eos": 5.0, "pre_mean": 20.0}


def test_from_tidy_metric_names():
    df = pd.DataFrame([dict(dataset="digits", loss="ce", method="eos", k=300, metric=m, mean=0.5, sd=0.1, n=3)
                       for m in ("bac", "gm_authors", "fm_authors", "gm", "fm", "GMrec", "acc")])
    r = pc.from_tidy(df, "eos", "table4")
    assert list(r["metric"]) == ["bac", "gm", "fm"] and set(r["k"]) == {"300"} and (r["n_cuts"] == 3).all()


# --- scorecard -----------------------------------------------------------------------------------------------

SETTINGS = {"digits": {"paper_dataset": "cifar10", "match": False, "why": "8x8 digits at 10:1, 30 epochs: a stand-in"},
            "digits2": {"paper_dataset": "cifar10", "match": False, "why": "another stand-in"},
            "cifar10": {"paper_dataset": "cifar10", "match": True, "why": "paper scale",
                        "tables": {"eos_table4": {"match": False, "why": "one cut only"}}},
            "scene": {"paper_dataset": "scene", "match": True, "why": "same UCI data"}}


def _rep(rows):
    return pd.DataFrame([dict(dict(model="", loss="", k="", sd=np.nan, n_cuts=np.nan), **r) for r in rows])


def test_scorecard_statuses_and_no_row_lost(published):
    rep = _rep([
        dict(paper="eos", table="table2", dataset="cifar10", loss="ce", method="eos", metric="bac", value=0.76,
             n_cuts=3),
        dict(paper="eos", table="table2", dataset="digits", loss="ce", method="eos", metric="bac", value=0.9),
        dict(paper="eos", table="table2", dataset="digits2", loss="ce", method="eos", metric="bac", value=0.8),
        dict(paper="eos", table="table2", dataset="digits", loss="ce", method="crt", metric="bac", value=0.9),
        dict(paper="eos", table="table4", dataset="cifar10", loss="ce", method="eos", k=300, metric="bac", value=0.77),
        dict(paper="da", table="table9", dataset="scene", model="lg", method="ros", metric="overlap", value=0.6),
        dict(paper="da", table="table9", dataset="Average", model="lg", method="ros", metric="overlap", value=0.6),
    ])
    card = pc.scorecard(published, rep, SETTINGS)
    assert list(card.columns) == pc.CARD_COLUMNS
    # every published row once, plus one more row per extra run standing for the same cell
    assert len(card) == len(published) + 2
    per_key = card.groupby(pc.KEYS).size()
    assert per_key.max() == 3 and (per_key >= 1).all() and len(per_key) == len(published)
    eos = card[(card["table"] == "table2") & (card["loss"] == "ce") & (card["method"] == "eos")
               & (card["dataset"] == "cifar10") & (card["metric"] == "bac")]
    assert list(eos["run_dataset"]) == ["cifar10", "digits", "digits2"]
    assert list(eos["status"]) == [pc.MATCH, pc.STAND_IN, pc.STAND_IN]
    assert eos["difference"].tolist() == pytest.approx([0.76 - 0.7581, 0.9 - 0.7581, 0.8 - 0.7581])
    assert eos["n_cuts"].iloc[0] == 3 and "stand-in" in eos["setting"].iloc[1]
    k300 = card[(card["table"] == "table4") & (card["k"] == "300") & (card["dataset"] == "cifar10")
                & (card["metric"] == "bac")].iloc[0]
    assert k300["status"] == pc.STAND_IN and k300["setting"] == "one cut only"  # per-table override
    avg = card[(card["table"] == "table9") & (card["dataset"] == "average") & (card["method"] == "ros")].iloc[0]
    assert avg["status"] == pc.STAND_IN and avg["run_dataset"] == "average"  # scene alone does not cover 5 sets
    sc = card[(card["table"] == "table9") & (card["dataset"] == "scene") & (card["method"] == "ros")].iloc[0]
    assert sc["status"] == pc.MATCH and sc["difference"] == pytest.approx(0.6 - 0.68)
    not_run = card[card["status"] == pc.NOT_RUN]
    assert len(not_run) == len(published) - 4
    assert not_run["reproduced"].isna().all() and not_run["difference"].isna().all()
    assert (not_run["run_dataset"] == "").all()
    assert set(card["status"]) <= set(pc.STATUSES)
    # the published value column survives intact
    merged = card.drop_duplicates(pc.KEYS).merge(published, on=pc.KEYS)
    assert len(merged) == len(published) and (merged["published"] == merged["value"]).all()
    extra = pc.unpublished(published, rep, SETTINGS)
    assert list(extra["method"]) == ["crt"]


def test_scorecard_errors(published):
    rep = _rep([dict(paper="eos", table="table2", dataset="mnist", loss="ce", method="eos", metric="bac", value=0.5)])
    with pytest.raises(ValueError, match="mnist"):
        pc.scorecard(published, rep, SETTINGS)
    dup = _rep([dict(paper="eos", table="table2", dataset="digits", loss="ce", method="eos", metric="bac", value=v)
                for v in (0.5, 0.6)])
    with pytest.raises(ValueError, match="several values"):
        pc.scorecard(published, dup, SETTINGS)
    empty = pc.scorecard(published, pd.DataFrame(columns=pc.REPRODUCED_COLUMNS), SETTINGS)
    assert len(empty) == len(published) and (empty["status"] == pc.NOT_RUN).all()


def test_markdown_and_stage(tmp_path, published):
    m = _eos_metrics()
    t2 = reports.table2(m, ["digits"], ["ce", "ldam"], ["baseline", "smote", "bsmote", "balsvm", "eos", "crt"])
    t2["dataset"] = "Digits"  # the rule writes titles
    t2.to_csv(tmp_path / "table2.csv", index=False)
    tidy = pd.DataFrame([dict(dataset="digits", loss="ce", method="eos", k=k, metric=me, mean=0.7, sd=0.01, n=2)
                         for k in (10, 300) for me in ("bac", "gm_authors", "fm_authors")])
    tidy.to_csv(tmp_path / "table4.csv", index=False)
    card = pc.scorecard_stage({"eos_table2": str(tmp_path / "table2.csv"), "eos_table4": str(tmp_path / "table4.csv")},
                              RESOURCES, SETTINGS, str(tmp_path / "card.csv"), str(tmp_path / "card.md"),
                              titles={"digits": "Digits"})
    assert (card["status"] == pc.STAND_IN).sum() == 2 * 5 * 3 + 2 * 3
    back = pd.read_csv(tmp_path / "card.csv", keep_default_na=False, na_values=[""])
    assert len(back) == len(card) == len(published)
    md = (tmp_path / "card.md").read_text()
    assert "## Dablain, Krawczyk & Chawla" in md and "### Table IV: EOS: Nearest Neighbor Size Analysis" in md
    assert "| cifar10 | digits | ce | eos | 300 | bac | 0.7722 | 0.7000 ± 0.0100 | -0.0722 | stand-in |" in md
    assert "| — | — |" in md  # not run: no run, no reproduced value
    assert "- digits → cifar10 (stand-in): 8x8 digits" in md
    assert "6 reproduced numbers have no published counterpart and are not listed: eos table2: crt bac;" in md
    with pytest.raises(ValueError, match="unknown report keys"):
        pc.scorecard_stage({"eos_table99": "x.csv"}, RESOURCES, SETTINGS, str(tmp_path / "a.csv"),
                           str(tmp_path / "a.md"))
    text = pc.to_markdown(card)
    assert text.count("\n### ") == len(CELLS) and text.count("| not run |") == len(published) - 36
