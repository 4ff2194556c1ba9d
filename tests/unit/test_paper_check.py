"""pipeline_lib.scorecard.paper_check: the transcribed paper tables, the adapters (on frames built by the project's own
report functions), the scorecard (statuses, differences, nothing lost or duplicated) and its Markdown."""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from pipeline_lib.scorecard import paper_check as pc
from pipeline_lib.studies.eos import table2 as reports

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
    from pipeline_lib.studies import da_images as di
    from pipeline_lib.studies.tabular import reports as tr

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
    from pipeline_lib.studies import da_images as di
    from pipeline_lib.studies.eos import figures

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
    assert eos["n_cuts"].iloc[0] == 3 and "stand-in" in eos["reason"].iloc[1]
    assert list(eos["aggregation"]) == (["mean of 3 cuts (no value of cut 0 alone)"]
                                        + ["mean over cuts (no value of cut 0 alone)"] * 2)
    k300 = card[(card["table"] == "table4") & (card["k"] == "300") & (card["dataset"] == "cifar10")
                & (card["metric"] == "bac")].iloc[0]
    assert k300["status"] == pc.STAND_IN and k300["reason"] == "one cut only"  # per-table override
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
    assert ("| cifar10 | digits | ce | eos | 300 | bac | 0.7722 | 0.7000 (sd 0.0100) | mean of 2 cuts (no value of "
            "cut 0 alone) | — | -0.0722 | differs | stand-in |") in md
    assert "| — | — | — | — | — | not run |" in md  # not run: no run, no reproduced value, no verdict
    assert "- digits → cifar10 (stand-in): 8x8 digits" in md
    assert "6 reproduced numbers have no published counterpart and are not listed: eos table2: crt bac;" in md
    with pytest.raises(ValueError, match="unknown report keys"):
        pc.scorecard_stage({"eos_table99": "x.csv"}, RESOURCES, SETTINGS, str(tmp_path / "a.csv"),
                           str(tmp_path / "a.md"))
    text = pc.to_markdown(card)
    # one detail line per not-run cell, one summary line per table that has some
    assert text.count("\n### ") == len(CELLS) and text.count("| not run |") == len(published) - 36 + len(CELLS)


# --- every method of every table is matched (the report stages' own output on hand-made inputs) -----------------

STAND_INS = {"digits": {"paper_dataset": "cifar10", "match": False, "why": "stand-in"},
             "scene": {"paper_dataset": "scene", "match": True, "why": "same UCI data"}}


def _predictions(tmp_path, seed):
    rng = np.random.default_rng(seed)
    label = np.repeat(np.arange(10), 20)
    pred = np.where(rng.random(len(label)) < 0.25, rng.integers(0, 10, len(label)), label)
    path = tmp_path / f"pred{seed}.parquet"
    df = pd.DataFrame({"label": label, "pred": pred})
    df.attrs["class_names"] = [str(c) for c in range(10)]
    df.to_parquet(path)
    return str(path)


def _unmatched(published, card, paper, table, dataset):
    pub = published[(published["paper"] == paper) & (published["table"] == table) & (published["dataset"] == dataset)]
    got = card[(card["paper"] == paper) & (card["table"] == table) & (card["dataset"] == dataset)]
    assert len(pub) and len(got) == len(pub)
    return got[got["status"] == pc.NOT_RUN]


def test_every_method_of_every_eos_table_is_matched(tmp_path, published):
    """Each EOS table's report, built by its own stage for every published method (loss, K, architecture),
    matches every published CIFAR-10 cell: none is left "not run" (Table III's EOS rows carry k = 10 in the
    report, and no k in the paper)."""
    from pipeline_lib.studies.eos import tables as es
    from pipeline_lib.studies.eos import figures

    files = {c: _predictions(tmp_path, c) for c in (0, 1)}
    frames = []
    t2 = pd.DataFrame([dict(dataset="digits", cut=c, loss=lo, method=me, metric=mt, value=0.5 + 0.01 * c + 0.001 * i)
                       for c in (0, 1) for lo in ("ce", "asl", "focal", "ldam")
                       for i, me in enumerate(("baseline", "smote", "bsmote", "balsvm", "eos"))
                       for mt in ("bac", "gm_authors", "fm_authors", "gm")])
    frames.append(pc.from_table2(reports.table2(t2, ["digits"], ["ce", "asl", "focal", "ldam"],
                                                ["baseline", "smote", "bsmote", "balsvm", "eos"])))
    t1_methods = list(dict.fromkeys(published.loc[(published["paper"] == "eos") & (published["table"] == "table1"),
                                                  "method"]))
    t1 = pd.DataFrame([dict(dataset="digits", cut=c, loss="ce", method=me, metric=mt, value=0.6)
                       for c in (0, 1) for me in t1_methods for mt in ("bac", "gm_authors", "fm_authors")])
    frames.append(pc.from_table1(reports.table1(t1, ["digits"], t1_methods)))
    out = lambda n: (str(tmp_path / f"{n}.csv"), str(tmp_path / f"{n}.md"))  # noqa: E731
    frames.append(pc.from_table3(es.table3_stage(
        [dict(dataset="digits", loss=lo, cut=c, method=me, predictions=files[c])
         for lo in ("ce", "asl", "focal", "ldam") for me in ("gamo", "bagan", "cgan", "eos") for c in (0, 1)],
        *out("t3"), titles={}, k=10)))
    assert set(pd.read_csv(tmp_path / "t3.csv")["k"].dropna()) == {10}  # the report keeps its K
    frames.append(pc.ADAPTERS["eos_table4"](es.table4_stage(
        [dict(dataset="digits", cut=c, k=k, predictions=files[c]) for k in (10, 50, 100, 200, 300) for c in (0, 1)],
        *out("t4"), titles={}, table2_k=10)))
    frames.append(pc.from_table5(es.table5_stage(
        [dict(dataset="digits", cut=c, arch=a, method=me, predictions=files[c])
         for a in ("resnet56", "wrn22_4", "densenet_bc100_12") for me in ("baseline", "eos") for c in (0, 1)],
        *out("t5"), titles={}, k=10)))
    frames.append(pc.ADAPTERS["eos_pixel"](es.pixel_eos_stage(
        [dict(dataset="digits", cut=c, space=sp, predictions=files[c]) for sp in ("pixel", "embedding")
         for c in (0, 1)], *out("px"), titles={})))
    bench = {}
    for pipe in ("pixel_smote", "pixel_bsmote", "pixel_balsvm", "three_phase_eos"):
        f = tmp_path / f"{pipe}_cut0.tsv"
        pd.DataFrame({"s": [60.0], "cpu_time": [60.0], "max_rss": [1.0]}).to_csv(f, sep="\t", index=False)
        bench[pipe] = [str(f)]
    frames.append(pc.from_runtime(figures.runtime_table({"digits": bench}, str(tmp_path / "rt.csv"))))
    rep = pd.concat(frames, ignore_index=True)
    card = pc.scorecard(published, rep, STAND_INS)
    for table in ("table1", "table2", "table3", "table4", "table5", "pixel", "runtime"):
        assert not len(_unmatched(published, card, "eos", table, "cifar10")), table
    t3 = card[(card["table"] == "table3") & (card["dataset"] == "cifar10")]
    assert (t3.groupby("method").size() == 12).all() and set(t3["method"]) == {"gamo", "bagan", "cgan", "eos"}
    extra = pc.unpublished(published, rep, STAND_INS)
    assert set(zip(extra["table"], extra["method"])) == {("pixel", "eos")}  # §V-E3 prints only the pixel row


def test_every_method_of_every_da_table_is_matched(tmp_path, published):
    """The DA paper's image tables (V, VIII, XI with the Average row) and tabular tables (III, IV, VI, VII, IX,
    X) for every published method: no published cell of the run's data set is left "not run"."""
    from pipeline_lib.studies import da_images as di
    from pipeline_lib.studies.tabular import reports as tr

    frames = []
    per_cut = pd.DataFrame([dict(dataset="digits", cut=c, model=mo, metric=me, value=0.6 + 0.01 * c)
                            for c in (0, 1) for mo in di.TABLE5_MODELS for me in ("bac", "fm_authors")])
    frames.append(pc.from_da_table5(di.table5(per_cut, ["digits"])))
    w = pd.DataFrame([dict(dataset="digits", cut=c, method=m, measure=s, value=2.0 + c, n_flagged=0)
                      for c in (0, 1) for m in di.TABLE8_METHODS for s in ("paper", "guarded")])
    frames.append(pc.from_da_table8(di.table8(w, ["digits"])))
    ov = pd.DataFrame([dict(dataset="digits", cut=c, method=m, overlap=0.5, n_images=10, k=6, fraction=0.1)
                       for c in (0, 1) for m in di.TABLE11_METHODS])
    frames.append(pc.from_da_table11(di.table11(ov, ["digits"])))
    metrics = pd.DataFrame([dict(dataset="scene", run=run, model=mo, method=me, metric=mt, value=0.7, converged=True,
                                 kernel="rbf" if mo == "svm" else "")
                            for run in (0, 1) for mo in ("svm", "lg", "nn")
                            for me in ("base", "ros", "cs", "smote", "adasyn", "remix", "eos", "dsm")
                            for mt in ("bac", "fm")])
    tr.table3(metrics, ["scene"], str(tmp_path / "t3.csv"), str(tmp_path / "t3.md"))
    frames.append(pc.from_da_table3(pd.read_csv(tmp_path / "t3.csv")))
    tr.table4(metrics, ["scene"], str(tmp_path / "t4.csv"), str(tmp_path / "t4.md"))
    frames.append(pc.from_da_table4(pd.read_csv(tmp_path / "t4.csv")))
    methods = ("base", "cs", "ros", "smote", "adasyn", "remix")
    for model, key in (("lg", "da_table6"), ("nn", "da_table7")):
        weights = pd.DataFrame([dict(dataset="scene", run=run, model=model, method=me, relative_change=3.0,
                                     n_excluded=0) for run in (0, 1) for me in methods + ("eos", "dsm")])
        tr.weight_change_table(weights, model, ["scene"], str(tmp_path / f"{key}.csv"), str(tmp_path / "w.md"), eps=0.0)
        frames.append(pc.ADAPTERS[key](pd.read_csv(tmp_path / f"{key}.csv")))
    for model, key in (("lg", "da_table9"), ("nn", "da_table10")):
        top = pd.DataFrame([dict(model=model, dataset="scene", run=0, method=me, **{"class": c}, feature=f,
                                 magnitude=float(f), fallback=False)
                            for me in methods + ("eos", "dsm") for c in (0, 1) for f in range(20)])
        tr.overlap_table(top, model, 10, ["scene"], str(tmp_path / f"{key}.csv"), str(tmp_path / "o.md"))
        frames.append(pc.ADAPTERS[key](pd.read_csv(tmp_path / f"{key}.csv")))
    rep = pd.concat(frames, ignore_index=True)
    card = pc.scorecard(published, rep, STAND_INS)
    for table in ("table5", "table8", "table11"):
        assert not len(_unmatched(published, card, "da", table, "cifar10")), table
    for table in ("table3", "table4", "table6", "table7", "table9", "table10"):
        assert not len(_unmatched(published, card, "da", table, "scene")), table
    for table in ("table9", "table10", "table11"):
        assert not len(_unmatched(published, card, "da", table, "average")), table


# --- statuses, aggregation, verdicts -----------------------------------------------------------------------------

def test_verdicts():
    assert pc.verdict(0.00005, 4) == pc.AGREES and pc.verdict(-0.00004, 4) == pc.AGREES
    assert pc.verdict(0.00006, 4) == pc.DIFFERS
    assert pc.verdict(0.0004, 3) == pc.AGREES and pc.verdict(0.63, 3) == pc.DIFFERS  # 3.073 printed to 3 decimals
    assert pc.verdict(0.4, 0) == pc.AGREES and pc.verdict(1.0, 0) == pc.DIFFERS  # counts
    assert pc.verdict(0.009, 4, sd=0.01) == pc.NOISE and pc.verdict(0.011, 4, sd=0.01) == pc.DIFFERS
    assert pc.verdict(0.009, 4, tolerance=0.01) == pc.NOISE and pc.verdict(0.009, 4, sd=np.nan) == pc.DIFFERS
    assert pc.verdict(np.nan, 4) == ""


def test_aggregate_follows_each_papers_protocol():
    # EOS: the configured cut, the mean beside it; no per-cut value: the mean, and the label says so
    assert pc.aggregate("eos", "table2", 0.70, 3, 0.72, 0) == (0.72, "cut 0", 0.70, "mean of 3 cuts")
    r, label, other, olabel = pc.aggregate("eos", "table3", 0.70, 3, np.nan, 0)
    assert (r, label, olabel) == (0.70, "mean of 3 cuts (no value of cut 0 alone)", "") and np.isnan(other)
    r, label, other, _ = pc.aggregate("eos", "table2", 0.70, 1, 0.70, 0)
    assert (r, label) == (0.70, "cut 0") and np.isnan(other)
    # DA: the mean over cuts (splits for the tabular tables), the cut beside it
    assert pc.aggregate("da", "table5", 0.70, 3, 0.72, 0) == (0.70, "mean of 3 cuts", 0.72, "cut 0")
    assert pc.aggregate("da", "table3", 0.70, 5, np.nan, 0)[1] == "mean of 5 splits"


def test_row_status_each_status_and_its_reason():
    s = lambda **kw: pc.row_status(**{**dict(paper="eos", table="table2", loss="ce", method="eos", k="",  # noqa: E731
                                             metric="bac", run_k="10", match=True, why="paper scale"), **kw})
    assert s() == (pc.MATCH, "paper scale")
    assert s(match=False, why="tiny") == (pc.STAND_IN, "tiny")
    st, why = s(run_k="5")  # K != 10 against Table II: never the paper's setting
    assert st == pc.STAND_IN and "K = 5" in why and "paper scale" in why
    assert s(table="table3", method="eos", run_k="5")[0] == pc.STAND_IN
    assert s(table="table3", method="gamo", run_k="")[0] == pc.MATCH
    st, why = s(table="table3", method="cgan", metric="gm", run_k="")
    assert st == pc.NOT_COMPARABLE and "another way" in why
    assert s(table="runtime", method="eos", metric="train_minutes", run_k="")[0] == pc.NOT_COMPARABLE
    st, why = s(table="table5", method="baseline", run_k="")
    assert st == pc.STAND_IN and "approx. 5X" in why
    # the authors' networks: only rows computed entirely from imported models
    assert s(method="baseline", authors=("base",))[0] == pc.AUTHORS
    assert s(authors=("base",))[0] == pc.MATCH  # the EOS head is ours
    assert s(authors=("base", "eos"))[0] == pc.AUTHORS
    assert s(loss="asl", method="baseline", authors=("base", "ldam"))[0] == pc.MATCH
    assert s(loss="ldam", method="baseline", authors=("ldam",))[0] == pc.AUTHORS
    assert s(table="table4", k="10", authors=("base", "eos"), eos_k=10)[0] == pc.AUTHORS
    assert s(table="table4", k="50", authors=("base", "eos"), eos_k=10)[0] == pc.MATCH
    da = dict(paper="da", loss="", k="", run_k="")
    assert s(table="table5", method="ros", authors=("ros",), **da)[0] == pc.AUTHORS
    assert s(table="table8", method="ros", metric="weight_change", authors=("ros",), **da)[0] == pc.MATCH
    assert s(table="table8", method="ros", metric="weight_change", authors=("ros", "base"), **da)[0] == pc.AUTHORS
    assert s(table="table3", method="ros", authors=("ros",), **da)[0] == pc.MATCH  # tabular: no networks to import
    assert set(pc.STATUSES) == {pc.AUTHORS, pc.MATCH, pc.STAND_IN, pc.NOT_COMPARABLE, pc.NOT_RUN}


AUTHORS_CIFAR10 = {"cifar10": {"paper_dataset": "cifar10", "match": True, "why": "the paper's CIFAR-10-LT protocol",
                               "authors": ["base", "dsm", "eos", "remix", "ros"]}}


def test_authors_networks_rows_and_summary(published):
    """The authors' CIFAR-10 networks imported: DA Table V's five imported methods (10 cells) agree within the
    print rounding, Balanced and LDAM (trained here) match the setting; Table VIII's ROS cell differs (the
    paper's 3.073 is 3.703 transposed); EOS Table II's CE baseline is compared at cut 0."""
    pub = published.set_index(pc.KEYS)["value"]
    rows = []
    for m in ("balanced", "base", "dsm", "eos", "ldam", "remix", "ros"):
        for metric in ("bac", "fm"):
            v = pub[("da", "table5", "cifar10", "", "", m, "", metric)]
            rows.append(dict(paper="da", table="table5", dataset="cifar10", method=m, metric=metric,
                             value=v + (0.00004 if m in ("base", "ros") else -0.00003 if m != "ldam" else 0.03),
                             sd=0.01, n_cuts=3, cut_value=v + 0.02))
    rows.append(dict(paper="da", table="table8", dataset="cifar10", method="ros", metric="weight_change", value=3.703,
                     sd=0.2, n_cuts=3))
    rows.append(dict(paper="da", table="table11", dataset="cifar10", method="eos", metric="overlap",
                     value=0.7514 + 0.005, sd=0.01, n_cuts=3))
    for metric, cut0, mean in (("bac", 0.7256, 0.7232), ("gm", 0.8387, 0.837), ("fm", 0.7246, 0.72)):
        rows.append(dict(paper="eos", table="table2", dataset="cifar10", loss="ce", method="baseline", metric=metric,
                         value=mean, sd=0.002, n_cuts=3, cut_value=cut0))
    card = pc.scorecard(published, _rep(rows), AUTHORS_CIFAR10)
    t5 = card[(card["table"] == "table5") & (card["dataset"] == "cifar10")].set_index(["method", "metric"])
    authors = t5[t5["status"] == pc.AUTHORS]
    assert sorted(set(authors.index.get_level_values(0))) == ["base", "dsm", "eos", "remix", "ros"]
    assert len(authors) == 10 and (authors["verdict"] == pc.AGREES).all()
    assert authors["difference"].abs().max() < 0.0001 and (authors["aggregation"] == "mean of 3 cuts").all()
    assert (authors["other_aggregation"] == "cut 0").all()
    assert (t5.loc[["balanced", "ldam"], "status"] == pc.MATCH).all()
    assert t5.loc[("ldam", "bac"), "verdict"] == pc.DIFFERS and t5.loc[("balanced", "bac"), "verdict"] == pc.AGREES
    t8 = card[(card["table"] == "table8") & (card["dataset"] == "cifar10") & (card["method"] == "ros")].iloc[0]
    assert t8["status"] == pc.AUTHORS and t8["verdict"] == pc.DIFFERS and "3.703" in t8["note"]
    t11 = card[(card["table"] == "table11") & (card["dataset"] == "cifar10") & (card["method"] == "eos")].iloc[0]
    assert t11["status"] == pc.AUTHORS and t11["verdict"] == pc.NOISE  # 0.005 off, within the cut-to-cut sd
    base = card[(card["paper"] == "eos") & (card["table"] == "table2") & (card["method"] == "baseline")
                & (card["loss"] == "ce") & (card["dataset"] == "cifar10")]
    assert (base["status"] == pc.AUTHORS).all() and (base["verdict"] == pc.AGREES).all()
    assert (base["aggregation"] == "cut 0").all() and base["other"].tolist() == pytest.approx([0.7232, 0.837, 0.72])
    s = pc.summary(card)
    row = s[(s["table"] == "table5") & (s["status"] == pc.AUTHORS)].iloc[0]
    assert (row["cells"], row[pc.AGREES], row[pc.NOISE], row[pc.DIFFERS]) == (10, 10, 0, 0)
    assert row["max_abs_difference"] < 0.0001 and row["run_dataset"] == "cifar10"
    nr = s[(s["paper"] == "da") & (s["table"] == "table5") & (s["status"] == pc.NOT_RUN)].iloc[0]
    assert nr["cells"] == 42 - 14 and nr["dataset"] == ""  # Places and iNaturalist, one line
    md = pc.to_markdown(card)
    first = md.split("\n\n")[1].splitlines()
    assert first[0].startswith("| Table | Status |")  # the summary table comes first
    assert "| DA Table V | authors' networks | cifar10 → cifar10 | 10 | 10 | 0 | 0 |" in md
    assert "## Print irregularities" in md and "3.703" in md


def test_results_files_and_cut_values(tmp_path, published):
    """A committed paper-scale result file (reports/table2.csv's format, one cut) appears with status matches
    setting and verdicts; the per-cut metrics give EOS Table II its cut-0 value; bad entries fail clearly."""
    t2 = pd.DataFrame([dict(dataset="cifar10", cut=0, loss="ce", method=me, metric=mt, value=v)
                       for me, vals in (("baseline", (0.7256, 0.8387, 0.7246)), ("eos", (0.7400, 0.85, 0.74)))
                       for mt, v in zip(("bac", "gm_authors", "fm_authors", "gm"), vals + (0.7,))])
    table = reports.table2(t2, ["cifar10"], ["ce"], ["baseline", "eos"])
    table["dataset"] = "CIFAR-10"  # the rule writes titles
    table.to_csv(tmp_path / "table2.csv", index=False)
    entry = dict(table="eos_table2", csv=str(tmp_path / "table2.csv"), why="", cut=0, k_neighbors=10)
    # the project's own stand-in run, two cuts, its per-cut metrics beside the report
    m = _eos_metrics()
    reports.table2(m, ["digits"], ["ce", "ldam"], ["baseline", "eos"]).assign(dataset="Digits").to_csv(
        tmp_path / "own.csv", index=False)
    m.to_csv(tmp_path / "metrics.csv", index=False)
    card = pc.scorecard_stage({"eos_table2": str(tmp_path / "own.csv")}, RESOURCES, SETTINGS,
                              str(tmp_path / "card.csv"), str(tmp_path / "card.md"), titles={"digits": "Digits"},
                              cut_metrics=[str(tmp_path / "metrics.csv")], eos_cut=10, eos_k=5, results=[entry])
    res = card[card["run_dataset"] == f"cifar10 ({tmp_path / 'table2.csv'})"].set_index(["method", "metric"])
    assert len(res) == 6 and (res["dataset"] == "cifar10").all() and (res["loss"] == "ce").all()
    assert (res.loc["baseline", "status"] == pc.MATCH).all() and (res.loc["baseline", "verdict"] == pc.AGREES).all()
    assert res.loc[("eos", "bac"), "verdict"] == pc.DIFFERS and res.loc[("eos", "bac"), "status"] == pc.MATCH
    assert "committed result file" in res.loc[("eos", "bac"), "reason"]
    assert (res["aggregation"] == "1 cut").all()  # cut 0 of the file, but this card compares cut 10
    own = card[(card["run_dataset"] == "digits") & (card["table"] == "table2") & (card["loss"] == "ldam")
               & (card["method"] == "eos") & (card["metric"] == "gm")].iloc[0]
    cut10 = m[(m["cut"] == 10) & (m["loss"] == "ldam") & (m["method"] == "eos") & (m["metric"] == "gm_authors")]
    assert own["reproduced"] == pytest.approx(cut10["value"].iloc[0]) and own["aggregation"] == "cut 10"
    assert own["other_aggregation"] == "mean of 2 cuts" and "K = 5" in own["reason"]
    card0 = pc.scorecard_stage({}, RESOURCES, SETTINGS, str(tmp_path / "c.csv"), str(tmp_path / "c.md"),
                               results=[entry])
    assert (card0.loc[card0["run_dataset"] != "", "aggregation"] == "cut 0").all()
    with pytest.raises(ValueError, match="'Mnist' is none of the papers' data sets"):
        table.assign(dataset="Mnist").to_csv(tmp_path / "bad.csv", index=False)
        pc.scorecard_stage({}, RESOURCES, SETTINGS, str(tmp_path / "c.csv"), str(tmp_path / "c.md"),
                           results=[dict(entry, csv=str(tmp_path / "bad.csv"))])
    with pytest.raises(ValueError, match="several cuts"):
        pc.scorecard_stage({}, RESOURCES, SETTINGS, str(tmp_path / "c.csv"), str(tmp_path / "c.md"),
                           results=[dict(entry, csv=str(tmp_path / "own.csv"))])


def test_print_irregularities_are_noted(published):
    """Each irregularity of the print, with its evidence, in the published CSVs' notes (numbers unchanged)."""
    def note(**keys):
        row = published
        for k, v in keys.items():
            row = row[row[k] == v]
        assert len(row) == 1, keys
        return row["note"].iloc[0], float(row["value"].iloc[0])

    n, v = note(paper="da", table="table8", dataset="cifar10", method="ros")
    assert v == 3.073 and pc.IRREGULAR in n and "3.703" in n
    n, v = note(paper="eos", table="table1", dataset="svhn", method="pre_smote", metric="gm")
    assert v == 0.9224 and ".9165" in n
    for metric in ("bac", "gm", "fm"):
        n, _ = note(paper="eos", table="table3", dataset="celeba", loss="ce", method="cgan", metric=metric)
        assert "equals the EOS row" in n
    for loss in ("asl", "focal"):
        n, v = note(paper="eos", table="table2", dataset="cifar100", loss=loss, method="baseline", metric="fm")
        assert v == 0.5485 and ".5485" in n and n.startswith(pc.IRREGULAR)
        bac = note(paper="eos", table="table2", dataset="cifar100", loss=loss, method="baseline", metric="bac")
        assert bac[0] == ""  # the wide file's "fm: ..." note stays on the FM cell
    marks = published[published["note"].str.contains("the mark says")]
    assert set(marks["table"]) == {"table4"} and len(marks) == 4
    flagged = published[published["note"].str.contains(pc.IRREGULAR)]
    assert (flagged["paper"] + flagged["table"]).nunique() == 6


def test_study_tables_compare_the_configured_cut(tmp_path):
    """EOS Tables III, IV, V and §V-E3 hold means only: the study records of the configured cut give the
    cut's own value (through each table's stage and adapter, so the keys are the reports')."""
    from pipeline_lib.studies.eos import tables as es
    from pipeline_lib.core.metrics import prediction_metrics

    files = {c: _predictions(tmp_path, c) for c in (0, 1)}
    t3 = [dict(dataset="digits", loss="ce", cut=c, method=me, predictions=files[c]) for me in ("gamo", "eos")
          for c in (0, 1)]
    es.table3_stage(t3, str(tmp_path / "t3.csv"), str(tmp_path / "t3.md"), titles={"digits": "Digits"}, k=10)
    cut0 = [dict(r, table="eos_table3") for r in t3 if r["cut"] == 0]
    cut0 += [dict(dataset="digits", cut=0, k=50, predictions=files[0], table="eos_table4"),
             dict(dataset="digits", cut=0, arch="wrn16_2", method="eos", predictions=files[0], table="eos_table5"),
             dict(dataset="digits", cut=0, space="pixel", predictions=files[0], table="eos_pixel")]
    got = pc.study_cut_values(cut0, eos_k=10)
    m = prediction_metrics(files[0])
    want = {"bac": m["bac"], "gm": m["gm_authors"], "fm": m["fm_authors"]}
    assert len(got) == 5 * 3 and (got["cut_value"] == got["metric"].map(want)).all()
    keys = set(zip(got["table"], got["model"], got["method"], got["k"]))
    assert keys == {("table3", "", "gamo", ""), ("table3", "", "eos", ""), ("table4", "", "eos", "50"),
                    ("table5", "wideresnet", "eos", "10"), ("pixel", "", "pre_eos", "")}
    with pytest.raises(ValueError, match="several cuts"):
        pc.study_cut_values([dict(r, table="eos_table3") for r in t3])
    with pytest.raises(ValueError, match="eos_table2"):
        pc.study_cut_values([dict(cut0[0], table="eos_table2")])
    card = pc.scorecard_stage({"eos_table3": str(tmp_path / "t3.csv")}, RESOURCES, SETTINGS,
                              str(tmp_path / "c.csv"), str(tmp_path / "c.md"), titles={"digits": "Digits"},
                              cut_records=cut0[:2])
    row = card[(card["table"] == "table3") & (card["run_dataset"] == "digits") & (card["method"] == "eos")
               & (card["metric"] == "bac")].iloc[0]
    mean = pd.read_csv(tmp_path / "t3.csv").query("method == 'eos' and metric == 'bac'")["mean"].iloc[0]
    assert (row["aggregation"], row["other_aggregation"]) == ("cut 0", "mean of 2 cuts")
    assert row["reproduced"] == pytest.approx(m["bac"]) and row["other"] == pytest.approx(mean)
