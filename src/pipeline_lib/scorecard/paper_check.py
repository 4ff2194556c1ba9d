"""Scorecard: every published number this project reproduces, next to the paper's value.

Papers
    ``eos``  D. Dablain, B. Krawczyk, N. V. Chawla, "Efficient Augmentation for Imbalanced Deep Learning".
    ``da``   D. A. Dablain, N. V. Chawla, "Towards Understanding How Data Augmentation Works with Imbalanced
             Data".

Published numbers (``workflow/resources/paper_<paper>_<table>.csv``, read by :func:`load_published`)
    One tidy schema, one row per published number::

        paper    eos | da
        table    table1 ... table11 (the paper's Table I ... XI); eos also pixel (section V-E3, EOS as
                 pixel-space pre-processing) and runtime (section V-E2)
        dataset  the paper's data set: cifar10, svhn, cifar100, celeba, places5 (the DA paper's 5-class
                 Places), inat5 (its 5-class iNaturalist), ozone_level, scene, coil_2000, thyroid_sick,
                 us_crime; "average" for the printed Average rows of DA Tables IX, X, XI
        model    the classifier where a table varies it (DA tabular: svm, lg, nn; EOS Table V: resnet56,
                 wideresnet, densenet), else empty
        loss     EOS tables: ce, asl, focal, ldam (Table V and section V-E3 do not name it: CE assumed,
                 said in note), else empty
        method   project ids: baseline, smote, bsmote, balsvm, eos, gamo, bagan, cgan, pre_smote,
                 pre_bsmote, pre_balsvm, pre_remix, pre_eos, pre_mean (mean of the three pre-processing
                 pipelines' run times); DA: balanced, base, ros, cs, smote, adasyn, remix, eos, dsm, ldam;
                 empty for data-set descriptions (DA Tables I, II)
        k        EOS nearest neighbours where the paper states them (Table IV, Table V's EOS rows: 10),
                 else empty (section V-E3 gives "Top" values with no K)
        metric   bac, gm, fm; train_minutes; weight_change (|W_DA - W_base| / |W_base|, DA Tables VI-VIII);
                 overlap (fraction, DA Tables IX-XI); imbalance_ratio, samples, features (DA Table I);
                 classes, imbalance_level, train_majority, train_minority, test_majority, test_minority
                 (DA Table II)
        value    the number as printed (".7581" -> 0.7581)
        note     irregularities of the print (typos, rank marks, disagreements between tables)

    ``paper_eos_table2.csv`` keeps its older wide layout (dataset, loss, method, bac, gm, fm, note; read by
    benchmarks/gpu_check.py); :func:`load_published` melts it into the schema above (a note starting
    "bac: ", "gm: " or "fm: " goes to that cell only).  ``decimals``: the digits after the point as printed
    (the print rounding of a verdict).

GM and FM: which definition the published numbers are
    The EOS paper's GM is imbalanced-learn's ``geometric_mean_score(average="macro")`` =
    sqrt(mean_c TPR_c x mean_c TNR_c), the pipeline's ``gm_authors`` (``metrics.py``), NOT the geometric mean of
    the recalls (``gm``, which can never exceed BAC; the paper's GM always does).  Check: on a balanced test set
    with C classes ``gm_authors`` = sqrt(BAC (1 - (1 - BAC) / (C - 1))) exactly, and the published CIFAR-10 /
    CIFAR-100 cells of Tables I, II, IV, V and section V-E3 satisfy it to within rounding (<= 0.0001 except
    Table II CIFAR-10 ASL baseline, 0.0035, and Table IV CIFAR-100 K >= 50, <= 0.0011).  (Table III's
    GAMO / BAGAN / CGAN columns do not satisfy it, off by up to 0.025: those GMs were not computed the same
    way.)  FM is macro-F1; the authors' scripts use ``zero_division=1`` (``fm_authors``), which differs from
    ``fm`` only when a class is never predicted.  So the scorecard compares published ``gm`` / ``fm`` of
    the EOS tables and of DA Table V with the project's ``gm_authors`` / ``fm_authors``.  The DA tabular
    tables (binary, both classes in every test split) compare with the tabular study's ``fm``: for two
    classes present in the test set ``fm`` and ``fm_authors`` are equal (scikit-learn applies
    zero_division to F1 only when a class is neither predicted nor present).

Reproduced numbers (the ``reproduced`` frame of :func:`scorecard`)
    Tidy, built by the adapters below from the project's report CSVs: the key columns above with
    ``dataset`` = the RUN's data set (e.g. digits), plus ``value`` (the mean over cuts / runs), ``sd``
    (sample sd, NaN for one cut or when the report has none), ``n_cuts`` (NaN when unknown).  Empty key =
    "" (``k`` as an integer string).  A metric must carry the paper's definition: the adapters map
    ``gm_authors`` / ``GM`` -> gm and ``fm_authors`` / ``FM`` -> fm and drop the conventional ``gm``,
    ``fm``, ``GMrec``, ``acc`` of image runs (:data:`METRIC_MAP`, :data:`NOT_PAPER`).  ``cut_value``: the
    value of the configured cut alone where known (EOS Tables I, II: from the per-cut metrics,
    :func:`cut_values`; Tables III, IV, V, §V-E3: :func:`study_cut_values`); ``run_k``: the EOS K the run
    used where K is a setting rather than a key (EOS Tables II, III, V; the paper's is 10).

Settings (``settings`` of :func:`scorecard`)
    ``{run data set: {"paper_dataset": str, "match": bool, "why": str, "authors": [model, ...],
    "tables": {key: {...}}}}``: which paper data set a run data set stands for and whether it is the
    paper's setting (data, scale, protocol); ``authors``: the models imported from the authors' published
    networks for every cut (``datasets.<d>.checkpoints``); ``tables`` (optional) overrides match / why /
    paper_dataset for one table key such as ``"eos_table5"``.  A run data set missing from settings is an
    error.  A reproduced "average" row (DA Tables IX-XI) matches the paper's setting only if the run data
    sets of that table all match it and cover every data set the paper averaged.

The card (:func:`scorecard`, columns :data:`CARD_COLUMNS`)
    reproduced = the value of the paper's own aggregation (:func:`aggregate`: EOS tables one cut, DA tables
    the mean over cuts / splits), other = the other; a status with its reason per row (:func:`row_status`:
    not comparable, authors' networks, matches setting, stand-in, not run) and a verdict per judged number
    (:func:`verdict`: agrees within the print rounding, within noise, differs); :func:`summary` counts
    them per table, status and run.  The user's guide is docs/scorecard.md.

Table keys (:data:`ADAPTERS`, the keys of ``report_csvs`` in :func:`scorecard_stage`)
    eos_table1 (reports.table1 csv), eos_table2 (reports.table2 csv), eos_table3, eos_table4, eos_table5,
    eos_pixel (tidy frames, :func:`from_tidy`), eos_runtime (figures.runtime_table csv), da_table1,
    da_table3, da_table4, da_table6, da_table7, da_table9, da_table10 (tabular_reports csvs), da_table2,
    da_table5, da_table8, da_table11 (da_images csvs).  A key left out means "not run".
"""
from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

KEYS = ["paper", "table", "dataset", "model", "loss", "method", "k", "metric"]
PUBLISHED_COLUMNS = KEYS + ["value", "decimals", "note"]
REPRODUCED_COLUMNS = KEYS + ["value", "sd", "n_cuts", "cut_value", "run_k"]
CARD_COLUMNS = ["paper", "table", "dataset", "run_dataset", "model", "loss", "method", "k", "metric",
                "published", "reproduced", "aggregation", "other", "other_aggregation", "sd", "n_cuts",
                "difference", "verdict", "status", "reason", "note"]
AUTHORS, MATCH, STAND_IN = "authors' networks", "matches setting", "stand-in"
NOT_COMPARABLE, NOT_RUN = "not comparable", "not run"
STATUSES = (AUTHORS, MATCH, STAND_IN, NOT_COMPARABLE, NOT_RUN)
AGREES, NOISE, DIFFERS = "agrees", "within noise", "differs"
VERDICTS = (AGREES, NOISE, DIFFERS)
RATE_METRICS = {"bac", "gm", "fm", "overlap"}  # the metrics a stated tolerance applies to
PAPER_K = "10"  # the EOS paper's K of Tables II, III and V (Table IV: its K = 10 rows repeat Table II)
K_SETTING = {("eos", "table2"), ("eos", "table3"), ("eos", "table5")}
AVERAGE = "average"

METRIC_MAP = {"bac": "bac", "BAC": "bac", "gm_authors": "gm", "GM": "gm", "fm_authors": "fm", "FM": "fm"}
NOT_PAPER = {"gm", "fm", "GMrec", "gmrec", "acc", "many", "medium", "few"}
# ^ the conventional definitions and the long-tail shot groups (no paper printed them): never compared
COUNT_METRICS = {"imbalance_ratio", "samples", "features", "classes", "imbalance_level", "train_majority",
                 "train_minority", "test_majority", "test_minority"}

PAPERS = {"eos": "Dablain, Krawczyk & Chawla: Efficient Augmentation for Imbalanced Deep Learning (EOS)",
          "da": "Dablain & Chawla: Towards Understanding How Data Augmentation Works with Imbalanced Data"}
TABLE_TITLES = {
    ("eos", "table1"): "Table I: Pre-Processing vs. Feature Embedding Space Over-Sampling (Cross-Entropy Loss)",
    ("eos", "table2"): "Table II: Baseline Algorithms & Over-Sampling Accuracy Results",
    ("eos", "table3"): "Table III: Comparison with GAN-based oversampling approaches",
    ("eos", "table4"): "Table IV: EOS: Nearest Neighbor Size Analysis",
    ("eos", "table5"): "Table V: Different CNN Architectures With & Without EOS (CIFAR-10)",
    ("eos", "pixel"): "Section V-E3: EOS performance in pixel space (CIFAR-10)",
    ("eos", "runtime"): "Section V-E2: model run time (CIFAR-10, minutes)",
    ("da", "table1"): "Table I: Tabular Datasets",
    ("da", "table2"): "Table II: Image Datasets",
    ("da", "table3"): "Table III: Detailed Performance Results for Tabular Data",
    ("da", "table4"): "Table IV: Tabular Data: Latent vs. Real DA",
    ("da", "table5"): "Table V: Image Data: Latent vs Real DA",
    ("da", "table6"): "Table VI: LG Model Weight Differences",
    ("da", "table7"): "Table VII: NN Model Weight Differences",
    ("da", "table8"): "Table VIII: CNN Weight Differences",
    ("da", "table9"): "Table IX: LG: overlap of top-10 features with and without DA",
    ("da", "table10"): "Table X: NN: overlap of top-10 features with and without DA",
    ("da", "table11"): "Table XI: CNN: overlap of top-10 % salient pixels with and without DA",
}
_PAPER_ORDER = {"eos": 0, "da": 1}
_TABLE_ORDER = {"pixel": 100, "runtime": 101}


# --- published ---------------------------------------------------------------------------------------------

def _key_str(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v).strip()


def _normalise(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The key columns as strings ("" for empty; integer-valued k as "10"), missing ones added empty."""
    df = df.copy()
    for c in KEYS:
        df[c] = df[c].map(_key_str) if c in df else ""
    df["dataset"] = df["dataset"].map(lambda d: AVERAGE if d.lower() == AVERAGE else d)
    for c in columns:
        if c not in df:
            df[c] = np.nan
    df["value"] = pd.to_numeric(df["value"])
    if "run_k" in columns:
        df["run_k"] = df["run_k"].map(_key_str)
    if "decimals" in columns and df["decimals"].isna().any():  # a frame not read by load_published
        df["decimals"] = df["decimals"].fillna(df["value"].map(_decimals))
    return df[columns].reset_index(drop=True)


def _decimals(v) -> int:
    """Digits after the point of a number as printed ("0.8910" -> 4; a float: its shortest repr)."""
    s = v if isinstance(v, str) else repr(float(v))
    s = s.strip()
    if "e" in s.lower():
        return 6
    return len(s.split(".")[1]) if "." in s and not s.endswith(".0") else 0


def _table_rank(table: str) -> int:
    m = re.fullmatch(r"table(\d+)", table)
    return int(m.group(1)) if m else _TABLE_ORDER.get(table, 1000)


def _read_published(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False)
    if "metric" not in df:  # the older wide layout (paper_eos_table2.csv)
        m = re.fullmatch(r"paper_([a-z]+)_(.+)\.csv", path.name)
        if not m or not {"bac", "gm", "fm"} <= set(df.columns):
            raise ValueError(f"{path}: neither the tidy schema ({', '.join(PUBLISHED_COLUMNS)}) nor the wide "
                             "dataset, loss, method, bac, gm, fm layout")
        ids = [c for c in df.columns if c not in ("bac", "gm", "fm")]
        df = df.reset_index(names="_row").melt(id_vars=["_row"] + ids, value_vars=["bac", "gm", "fm"],
                                               var_name="metric", value_name="value")
        df = df.sort_values("_row", kind="stable").drop(columns="_row")  # row by row: bac, gm, fm
        if "note" in df:  # a note "<metric>: ..." belongs to that metric's cell only
            own = df["note"].str.extract(r"^(bac|gm|fm): (.*)$")
            df["note"] = np.where(own[0].isna(), df["note"], np.where(own[0] == df["metric"], own[1], ""))
        df["paper"], df["table"] = m.group(1), m.group(2)
    missing = set(PUBLISHED_COLUMNS) - set(df.columns) - {"note", "model", "loss", "k", "method", "decimals"}
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    if "note" not in df:
        df["note"] = ""
    df["decimals"] = df["value"].map(_decimals)
    out = _normalise(df, PUBLISHED_COLUMNS)
    out["note"] = out["note"].fillna("").astype(str)
    return out


def load_published(resources_dir) -> pd.DataFrame:
    """All ``paper_*.csv`` of ``resources_dir`` in the tidy schema (module docstring), ordered by paper
    (eos, da), table, then the file's row order.  Duplicate keys are an error."""
    files = sorted(Path(resources_dir).glob("paper_*.csv"))
    if not files:
        raise FileNotFoundError(f"no paper_*.csv under {resources_dir}")
    df = pd.concat([_read_published(f) for f in files], ignore_index=True)
    rank = df["paper"].map(lambda p: _PAPER_ORDER.get(p, 99)) * 10000 + df["table"].map(_table_rank)
    df = df.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)
    dup = df[df.duplicated(KEYS, keep=False)]
    if len(dup):
        raise ValueError(f"published numbers with the same key:\n{dup.head(10).to_string()}")
    return df


# --- adapters: the project's report CSVs -> tidy reproduced rows ----------------------------------------------

def _rows(records: list[dict]) -> pd.DataFrame:
    if not records:
        return pd.DataFrame(columns=REPRODUCED_COLUMNS)
    return _normalise(pd.DataFrame(records), REPRODUCED_COLUMNS)


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _dataset(v) -> str:
    s = _key_str(v)
    return AVERAGE if s.lower() == AVERAGE else s


def _invert(d: dict) -> dict:
    return {v: k for k, v in d.items()}


def from_table2(df: pd.DataFrame) -> pd.DataFrame:
    """EOS Table II from ``reports.table2`` (columns dataset, loss (display: CE, LDAM-DRW ...), n_cuts,
    ``<Method>_<BAC|GM|FM|GMrec>_<mean|sd>``).  GM / FM there are ``gm_authors`` / ``fm_authors``; GMrec
    (the conventional G-mean) is dropped.  ``dataset`` is whatever the CSV holds (the rule writes titles:
    :func:`scorecard_stage` maps them back with ``titles``)."""
    from ..render.names import LOSS_NAMES, METHOD_NAMES

    methods, losses = _invert(METHOD_NAMES), {v.lower(): k for k, v in LOSS_NAMES.items()}
    short = {"BAC": "bac", "GM": "gm", "FM": "fm"}
    out = []
    for _, r in df.iterrows():
        base, _, drw = str(r["loss"]).partition("-")
        loss = losses.get(base.lower(), base.lower()) + ("-drw" if drw else "")
        for col in df.columns:
            m = re.fullmatch(r"(.+)_(BAC|GM|FM)_mean", col)
            if m and m.group(1) in methods:
                out.append(dict(paper="eos", table="table2", dataset=_dataset(r["dataset"]), loss=loss,
                                method=methods[m.group(1)], metric=short[m.group(2)], value=_num(r[col]),
                                sd=_num(r.get(f"{m.group(1)}_{m.group(2)}_sd")), n_cuts=_num(r.get("n_cuts"))))
    return _rows(out)


def from_table1(df: pd.DataFrame) -> pd.DataFrame:
    """EOS Table I from ``reports.table1`` (columns method (display: Pre-SMOTE, REMIX, Post-SMOTE ...),
    space, ``<dataset>_<BAC|GM|FM>_<mean|sd>``, ``<dataset>_n_cuts``); loss ce."""
    from ..render.names import TABLE1_NAMES

    methods = _invert(TABLE1_NAMES)
    short = {"BAC": "bac", "GM": "gm", "FM": "fm"}
    out = []
    for _, r in df.iterrows():
        meth = methods.get(str(r["method"]))
        if meth is None:
            continue
        for col in df.columns:
            m = re.fullmatch(r"(.+)_(BAC|GM|FM)_mean", col)
            if m:
                ds = m.group(1)
                out.append(dict(paper="eos", table="table1", dataset=_dataset(ds), loss="ce", method=meth,
                                metric=short[m.group(2)], value=_num(r[col]),
                                sd=_num(r.get(f"{ds}_{m.group(2)}_sd")), n_cuts=_num(r.get(f"{ds}_n_cuts"))))
    return _rows(out)


def from_tidy(df: pd.DataFrame, paper: str, table: str, metric_map: dict | None = None) -> pd.DataFrame:
    """A tidy report frame, for the tables that have no report function of their own yet (EOS Tables
    III, IV, V, pixel).  Expected columns: dataset, loss, method, metric, mean, sd, n (or n_cuts); optional
    model (EOS Table V's architecture), k (EOS Table IV's neighbours), and value instead of mean.
    Metrics: :data:`METRIC_MAP` renames bac / gm_authors / fm_authors (or BAC / GM / FM) to bac / gm / fm;
    the conventional gm, fm, GMrec, acc (:data:`NOT_PAPER`) are dropped; any other name is kept as is.
    ``metric_map`` adds to / overrides :data:`METRIC_MAP`."""
    mapping = {**METRIC_MAP, **(metric_map or {})}
    value = "mean" if "mean" in df else "value"
    n = "n" if "n" in df else "n_cuts"
    out = []
    for _, r in df.iterrows():
        metric = str(r["metric"])
        if metric in mapping:
            metric = mapping[metric]
        elif metric in NOT_PAPER:
            continue
        out.append(dict(paper=paper, table=table, dataset=_dataset(r["dataset"]), model=r.get("model", ""),
                        loss=r.get("loss", ""), method=r.get("method", ""), k=r.get("k", ""), metric=metric,
                        value=_num(r[value]), sd=_num(r.get("sd")), n_cuts=_num(r.get(n))))
    return _rows(out)


def _k_as_setting(rep: pd.DataFrame) -> pd.DataFrame:
    """EOS Tables III and V: the report's K is the run's setting (``run_k``, checked against the paper's
    K = 10), not a key: the published key is Table V's EOS rows' 10 and no K in Table III."""
    rep = rep.copy()
    rep["run_k"] = rep["k"]
    rep["k"] = [PAPER_K if t == "table5" and m == "eos" else "" for t, m in zip(rep["table"], rep["method"])]
    return rep


def from_table3(df: pd.DataFrame) -> pd.DataFrame:
    """EOS Table III from ``eos_studies.table3_stage`` (:func:`from_tidy`; its ``k`` is the EOS rows' K)."""
    return _k_as_setting(from_tidy(df, "eos", "table3"))


def from_table5(df: pd.DataFrame) -> pd.DataFrame:
    """EOS Table V from ``eos_studies.table5_stage`` (:func:`from_tidy`; its ``k`` is the EOS rows' K)."""
    return _k_as_setting(from_tidy(df, "eos", "table5"))


PRE_PROCESSING = ("pixel_smote", "pixel_bsmote", "pixel_balsvm")


def from_runtime(df: pd.DataFrame) -> pd.DataFrame:
    """Section V-E2 from ``figures.runtime_table`` (columns dataset, pipeline, n_cuts, wall_s_per_cut ...):
    eos = the three_phase_eos pipeline, pre_mean = the mean of the pixel_smote, pixel_bsmote and
    pixel_balsvm pipelines (only when all three are there), in minutes per cut; loss ce."""
    out = []
    for ds, g in df.groupby("dataset", sort=False):
        wall = dict(zip(g["pipeline"], g["wall_s_per_cut"].astype(float) / 60.0))
        cuts = dict(zip(g["pipeline"], g["n_cuts"]))
        if "three_phase_eos" in wall:
            out.append(dict(paper="eos", table="runtime", dataset=_dataset(ds), loss="ce", method="eos",
                            metric="train_minutes", value=wall["three_phase_eos"],
                            n_cuts=_num(cuts["three_phase_eos"])))
        if all(p in wall for p in PRE_PROCESSING):
            out.append(dict(paper="eos", table="runtime", dataset=_dataset(ds), loss="ce", method="pre_mean",
                            metric="train_minutes", value=float(np.mean([wall[p] for p in PRE_PROCESSING])),
                            n_cuts=_num(min(cuts[p] for p in PRE_PROCESSING))))
    return _rows(out)


def from_da_table1(df: pd.DataFrame) -> pd.DataFrame:
    """DA Table I from ``tabular_reports.table1`` (dataset, title, imbalance_ratio, samples, features ...)."""
    return _rows([dict(paper="da", table="table1", dataset=_dataset(r["dataset"]), metric=m, value=_num(r[m]))
                  for _, r in df.iterrows() for m in ("imbalance_ratio", "samples", "features")])


DA_TABLE2_METRICS = ("classes", "imbalance_level", "train_majority", "train_minority", "test_majority",
                     "test_minority")


def from_da_table2(df: pd.DataFrame) -> pd.DataFrame:
    """DA Table II from ``da_images.table2`` (dataset, title, classes, imbalance_type, imbalance_level,
    train_majority, train_minority, test_majority, test_minority, ..., n_cuts): means over cuts."""
    return _rows([dict(paper="da", table="table2", dataset=_dataset(r["dataset"]), metric=m, value=_num(r[m]),
                       n_cuts=_num(r.get("n_cuts"))) for _, r in df.iterrows() for m in DA_TABLE2_METRICS])


def from_da_table3(df: pd.DataFrame) -> pd.DataFrame:
    """DA Table III from ``tabular_reports.table3`` (dataset, method, svm_kernel, ``<svm|lg|nn>_<bac|fm>_
    <mean|sd>``, n_runs); fm there is macro-F1 of two classes (= the paper's FM, module docstring)."""
    out = []
    for _, r in df.iterrows():
        for col in df.columns:
            m = re.fullmatch(r"(svm|lg|nn)_(bac|fm)_mean", col)
            if m:
                out.append(dict(paper="da", table="table3", dataset=_dataset(r["dataset"]), model=m.group(1),
                                method=r["method"], metric=m.group(2), value=_num(r[col]),
                                sd=_num(r.get(f"{m.group(1)}_{m.group(2)}_sd")), n_cuts=_num(r.get("n_runs"))))
    return _rows(out)


def from_da_table4(df: pd.DataFrame) -> pd.DataFrame:
    """DA Table IV from ``tabular_reports.table4`` (method, ``<dataset>_<bac|fm>_<mean|sd>``); model nn."""
    out = []
    for _, r in df.iterrows():
        for col in df.columns:
            m = re.fullmatch(r"(.+)_(bac|fm)_mean", col)
            if m:
                out.append(dict(paper="da", table="table4", dataset=_dataset(m.group(1)), model="nn",
                                method=r["method"], metric=m.group(2), value=_num(r[col]),
                                sd=_num(r.get(f"{m.group(1)}_{m.group(2)}_sd"))))
    return _rows(out)


def from_da_table5(df: pd.DataFrame) -> pd.DataFrame:
    """DA Table V from ``da_images.table5`` (dataset, model, metric (bac, fm_authors), mean, sd, n_cuts):
    the table's models are the paper's methods (Balanced, Base, DSM, EOS, LDAM, REMIX, ROS)."""
    return from_tidy(df.rename(columns={"model": "method"}), "da", "table5")


def _weight_changes(df: pd.DataFrame, table: str, model: str) -> pd.DataFrame:
    methods = [c for c in df.columns if f"{c}_sd" in df.columns]
    return _rows([dict(paper="da", table=table, dataset=_dataset(r["dataset"]), model=model, method=m,
                       metric="weight_change", value=_num(r[m]), sd=_num(r[f"{m}_sd"]))
                  for _, r in df.iterrows() for m in methods])


def from_da_table6(df: pd.DataFrame) -> pd.DataFrame:
    """DA Table VI from ``tabular_reports.weight_change_table`` for LG (dataset, <method>, <method>_sd,
    n_excluded)."""
    return _weight_changes(df, "table6", "lg")


def from_da_table7(df: pd.DataFrame) -> pd.DataFrame:
    """DA Table VII: the same for the NN."""
    return _weight_changes(df, "table7", "nn")


def from_da_table8(df: pd.DataFrame, measure: str = "paper") -> pd.DataFrame:
    """DA Table VIII from ``da_images.table8`` (dataset, method, measure, mean, sd, n_cuts, n_flagged): the
    ``paper`` measure (no guard, the authors' scripts) by default."""
    g = df[df["measure"] == measure]
    return _rows([dict(paper="da", table="table8", dataset=_dataset(r["dataset"]), method=r["method"],
                       metric="weight_change", value=_num(r["mean"]), sd=_num(r["sd"]), n_cuts=_num(r["n_cuts"]))
                  for _, r in g.iterrows()])


def _overlaps(df: pd.DataFrame, table: str, model: str) -> pd.DataFrame:
    methods = [c for c in df.columns if c != "dataset"]
    return _rows([dict(paper="da", table=table, dataset=_dataset(r["dataset"]), model=model, method=m,
                       metric="overlap", value=_num(r[m])) for _, r in df.iterrows() for m in methods])


def from_da_table9(df: pd.DataFrame) -> pd.DataFrame:
    """DA Table IX from ``tabular_reports.overlap_table`` for LG (dataset incl. Average, <method> ...)."""
    return _overlaps(df, "table9", "lg")


def from_da_table10(df: pd.DataFrame) -> pd.DataFrame:
    """DA Table X: the same for the NN."""
    return _overlaps(df, "table10", "nn")


def from_da_table11(df: pd.DataFrame) -> pd.DataFrame:
    """DA Table XI from ``da_images.table11`` (dataset incl. Average, method, mean, sd, n_cuts, k)."""
    return _rows([dict(paper="da", table="table11", dataset=_dataset(r["dataset"]), method=r["method"],
                       metric="overlap", value=_num(r["mean"]), sd=_num(r["sd"]), n_cuts=_num(r["n_cuts"]))
                  for _, r in df.iterrows()])


ADAPTERS = {
    "eos_table1": from_table1, "eos_table2": from_table2,
    "eos_table3": from_table3,
    "eos_table4": functools.partial(from_tidy, paper="eos", table="table4"),
    "eos_table5": from_table5,
    "eos_pixel": functools.partial(from_tidy, paper="eos", table="pixel"),
    "eos_runtime": from_runtime,
    "da_table1": from_da_table1, "da_table2": from_da_table2, "da_table3": from_da_table3,
    "da_table4": from_da_table4, "da_table5": from_da_table5, "da_table6": from_da_table6,
    "da_table7": from_da_table7, "da_table8": from_da_table8, "da_table9": from_da_table9,
    "da_table10": from_da_table10, "da_table11": from_da_table11,
}


# --- statuses, aggregation, verdicts ------------------------------------------------------------------------

GAN_GM_REASON = ("the paper's GAMO / BAGAN / CGAN GMs do not fit the macro G-mean of their own BAC (off by up to "
                 "0.025, module docstring): computed another way, so a GM of ours cannot be judged against them")
TABLE_STATUS = {  # (paper, table): (status the table allows at most, reason)
    ("eos", "runtime"): (NOT_COMPARABLE, "wall-clock minutes depend on the hardware (the paper does not name its "
                                         "own): compare the ratio EOS / pre-processing, not the difference"),
    ("eos", "table5"): (STAND_IN, "the paper names its WideResNet and DenseNet only by size ('approx. 5X' "
                                  "ResNet-56's parameters): the architectures are inferred, never the paper's own"),
}
TABULAR_TABLES = {"table1", "table3", "table4", "table6", "table7", "table9", "table10"}  # DA: splits, not cuts


def authors_models(paper: str, table: str, loss: str, method: str, k: str, eos_k) -> tuple[str, ...] | None:
    """The imported networks (``datasets.<d>.checkpoints`` keys: base, ldam, ros, remix, balanced, dsm, eos)
    a reproduced row is computed from entirely, or None when no imported network gives it.  DA Table V: the
    method's network; DA Tables VIII and XI: the method's and base (a change from the base network); EOS
    Tables I-IV: the phase-1 CE (base) or LDAM network for the baseline, and on CE the heads the DA networks
    carry (dsm: the SMOTE head = Table I / II's Post-SMOTE; eos: the EOS head = Table II / III's EOS and
    Table IV's row at the configured K ``eos_k``)."""
    if paper == "da":
        return {"table5": (method,), "table8": (method, "base"), "table11": (method, "base")}.get(table)
    if paper != "eos":
        return None
    if table == "table2" and method == "baseline":
        return {"ce": ("base",), "ldam": ("ldam",)}.get(loss)
    if loss != "ce":
        return None
    heads = {"smote": ("base", "dsm"), "eos": ("base", "eos")}
    if table == "table2" or (table == "table1" and method == "smote") or (table == "table3" and method == "eos"):
        return heads.get(method)
    if table == "table4" and k == _key_str(eos_k):
        return heads["eos"]
    return None


def row_status(paper: str, table: str, loss: str, method: str, k: str, metric: str, run_k: str, match: bool,
               why: str, authors=(), eos_k=PAPER_K) -> tuple[str, str]:
    """(status, reason) of one reproduced number, in this order: a column the paper computed another way or a
    table that cannot be compared (not comparable); a number computed entirely from the authors' published
    networks (``authors``: the models imported for every cut, :func:`authors_models`); a table or K that
    caps it at stand-in (Table V's inferred architectures; an EOS run of Tables II / III / V with K != 10);
    else the run data set's setting (``match``, ``why``: matches setting or stand-in)."""
    if paper == "eos" and table == "table3" and method in ("gamo", "bagan", "cgan") and metric == "gm":
        return NOT_COMPARABLE, GAN_GM_REASON
    cap, cap_why = TABLE_STATUS.get((paper, table), (None, ""))
    if cap == NOT_COMPARABLE:
        return cap, cap_why
    need = authors_models(paper, table, loss, method, k, eos_k)
    if need and set(need) <= set(authors or ()):
        return AUTHORS, f"the authors' published networks ({', '.join(need)}), imported for every cut"
    caps = [cap_why] if cap else []
    if (paper, table) in K_SETTING and run_k and run_k != PAPER_K:
        caps.append(f"EOS with K = {run_k}; the paper's Tables II, III and V use K = {PAPER_K}")
    if caps:
        return STAND_IN, "; ".join(x for x in [why] + caps if x)
    return (MATCH if match else STAND_IN), why


def aggregate(paper: str, table: str, mean: float, n_cuts: float, cut_value: float, eos_cut: int = 0):
    """(reproduced, aggregation, other, other aggregation): the value the paper's own protocol gives and
    the other one beside it.  The EOS paper selects a single cut (§IV): its tables compare the value of cut
    ``eos_cut``, the mean over cuts beside it (where the report has no per-cut values the mean is compared,
    and the aggregation says so).  The DA paper's tables are means over cuts (images) or splits (tabular):
    the mean is compared, cut ``eos_cut`` beside it where known."""
    unit = "splits" if paper == "da" and table in TABULAR_TABLES else "cuts"
    n = int(n_cuts) if n_cuts == n_cuts and n_cuts is not None else None
    mean_label = f"1 {unit[:-1]}" if n == 1 else (f"mean of {n} {unit}" if n else f"mean over {unit}")
    cut_label = f"cut {eos_cut}"
    has_cut = cut_value == cut_value and cut_value is not None
    if paper == "eos" and table != "runtime":
        if has_cut:
            return (cut_value, cut_label) + ((mean, mean_label) if n != 1 else (np.nan, ""))
        return mean, mean_label + ("" if n == 1 else f" (no value of cut {eos_cut} alone)"), np.nan, ""
    return mean, mean_label, (cut_value if has_cut and n != 1 else np.nan), (cut_label if has_cut and n != 1 else "")


def verdict(difference: float, decimals: int, sd: float = np.nan, tolerance: float = 0.0) -> str:
    """agrees: |difference| within the print rounding (half a unit of the last printed digit); within noise:
    within the cut-to-cut sample sd or the stated ``tolerance``; differs otherwise; "" when not computed."""
    if difference != difference:
        return ""
    d = abs(float(difference))
    if d <= 0.5 * 10.0 ** -int(decimals) * (1 + 1e-9):
        return AGREES
    if d <= max(sd if sd == sd else 0.0, tolerance):
        return NOISE
    return DIFFERS


# --- scorecard ------------------------------------------------------------------------------------------------

def _setting(settings: dict, run_ds: str, key: str) -> dict:
    if run_ds not in settings:
        raise ValueError(f"run data set {run_ds!r} ({key}) has no entry in settings: say which paper data set it "
                         "stands for (paper_dataset) and whether it matches the paper's setting (match)")
    s = {k: v for k, v in settings[run_ds].items() if k != "tables"}
    s.update((settings[run_ds].get("tables") or {}).get(key, {}))
    if not s.get("paper_dataset"):
        raise ValueError(f"settings[{run_ds!r}] has no paper_dataset")
    return {"paper_dataset": str(s["paper_dataset"]), "match": bool(s.get("match", False)),
            "why": str(s.get("why", "")), "authors": tuple(s.get("authors") or ())}


def _resolve(rep: pd.DataFrame, published: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """paper_dataset, match, why, authors of every reproduced row (averages: from the table's other rows;
    never the authors' networks)."""
    rep = rep.copy()
    out = []
    for r in rep.itertuples(index=False):
        key = f"{r.paper}_{r.table}"
        if r.dataset == AVERAGE:
            runs = sorted(set(rep.loc[(rep["paper"] == r.paper) & (rep["table"] == r.table)
                                      & (rep["dataset"] != AVERAGE), "dataset"]))
            resolved = [_setting(settings, d, key) for d in runs]
            wanted = set(published.loc[(published["paper"] == r.paper) & (published["table"] == r.table)
                                       & (published["dataset"] != AVERAGE), "dataset"])
            ok = bool(runs) and all(s["match"] for s in resolved) and wanted <= {s["paper_dataset"] for s in resolved}
            out.append({"paper_dataset": AVERAGE, "match": ok, "authors": (),
                        "why": f"mean over the run data sets {', '.join(runs) or '(none)'}"
                               + ("" if ok else "; not all of them match the paper's setting or cover its data sets")})
        else:
            out.append(_setting(settings, r.dataset, key))
    for c in ("paper_dataset", "match", "why", "authors"):
        rep[c] = [o[c] for o in out]
    return rep


def scorecard(published: pd.DataFrame, reproduced: pd.DataFrame, settings: dict, *, eos_cut: int = 0,
              eos_k=PAPER_K, tolerance: float = 0.0) -> pd.DataFrame:
    """Every published row once per run data set that stands for its data set, or once with status "not run"
    (reproduced, difference NaN).  reproduced = the value of the paper's own aggregation, other = the other
    (:func:`aggregate`); difference = reproduced - published; verdict (:func:`verdict`) and status / reason
    (:func:`row_status`).  Reproduced rows with no published counterpart (cRT, GMrec, ...) are left out
    (:func:`unpublished` lists them).  Columns: :data:`CARD_COLUMNS`."""
    pub = _normalise(published, PUBLISHED_COLUMNS).assign(note=published["note"].fillna("").astype(str).to_numpy()
                                                          if "note" in published else "")
    if pub.duplicated(KEYS).any():
        raise ValueError("published has duplicate keys")
    rep = _normalise(reproduced, REPRODUCED_COLUMNS) if len(reproduced) else pd.DataFrame(columns=REPRODUCED_COLUMNS)
    dup = rep[rep.duplicated(KEYS, keep=False)]
    if len(dup):
        raise ValueError(f"reproduced has several values for one key:\n{dup.head(10).to_string()}")
    rep = (_resolve(rep, pub, settings) if len(rep)
           else rep.assign(paper_dataset="", match=False, why="", authors=[()] * 0))
    rep = rep.rename(columns={"dataset": "run_dataset", "value": "mean"}).rename(columns={"paper_dataset": "dataset"})
    pub = pub.rename(columns={"value": "published"}).reset_index(names="_order")
    card = pub.merge(rep[KEYS + ["run_dataset", "mean", "sd", "n_cuts", "cut_value", "run_k", "match", "why",
                                 "authors"]], on=KEYS, how="left")
    card = card.sort_values(["_order", "run_dataset"], kind="stable", na_position="last").reset_index(drop=True)
    cols = {c: [] for c in ("reproduced", "aggregation", "other", "other_aggregation", "status", "reason",
                            "verdict")}
    for r in card.itertuples(index=False):
        if not isinstance(r.run_dataset, str):
            vals = (np.nan, "", np.nan, "", NOT_RUN, "no run of this project gives the number", "")
        else:
            agg = aggregate(r.paper, r.table, r.mean, r.n_cuts, r.cut_value, eos_cut)
            status, reason = row_status(r.paper, r.table, r.loss, r.method, r.k, r.metric, r.run_k, r.match, r.why,
                                        r.authors, eos_k)
            judged = status != NOT_COMPARABLE
            tol = tolerance if r.metric in RATE_METRICS else 0.0
            v = verdict(agg[0] - r.published, r.decimals, r.sd if (r.n_cuts or 0) > 1 else np.nan, tol)
            vals = agg + (status, reason, v if judged else "")
        for c, x in zip(cols, vals):
            cols[c].append(x)
    for c, x in cols.items():
        card[c] = x
    card["difference"] = pd.to_numeric(card["reproduced"]) - card["published"]
    card["run_dataset"] = card["run_dataset"].fillna("")
    for c in ("reproduced", "other", "sd", "n_cuts", "difference"):
        card[c] = pd.to_numeric(card[c]).astype(float)
    return card[CARD_COLUMNS].reset_index(drop=True)


def summary(card: pd.DataFrame) -> pd.DataFrame:
    """Per paper, table, status and run data set: published cells, verdict counts, mean and max |difference|
    (over the judged rows), in the card's order."""
    rows = []
    card = card.assign(dataset=card["dataset"].where(card["status"] != NOT_RUN, ""),
                       _t=card.groupby(["paper", "table"], sort=False).ngroup(),
                       _s=card["status"].map(STATUSES.index))
    card = card.sort_values(["_t", "_s"], kind="stable")
    for (paper, table, status, run, ds), g in card.groupby(["paper", "table", "status", "run_dataset", "dataset"],
                                                           sort=False):
        d = g.loc[g["verdict"] != "", "difference"].abs()
        counts = g["verdict"].value_counts()
        rows.append(dict(paper=paper, table=table, status=status, run_dataset=run, dataset=ds, cells=len(g),
                         **{v: int(counts.get(v, 0)) for v in VERDICTS},
                         mean_abs_difference=d.mean() if len(d) else np.nan,
                         max_abs_difference=d.max() if len(d) else np.nan))
    return pd.DataFrame(rows, columns=["paper", "table", "status", "run_dataset", "dataset", "cells", *VERDICTS,
                                       "mean_abs_difference", "max_abs_difference"])


def unpublished(published: pd.DataFrame, reproduced: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """The reproduced rows that no published number matches (extra methods, metrics, data sets)."""
    pub = _normalise(published, PUBLISHED_COLUMNS)
    rep = _normalise(reproduced, REPRODUCED_COLUMNS) if len(reproduced) else pd.DataFrame(columns=REPRODUCED_COLUMNS)
    if not len(rep):
        return rep
    rep = _resolve(rep, pub, settings)
    keyed = rep.assign(dataset=rep["paper_dataset"])
    hit = keyed.merge(pub[KEYS].drop_duplicates(), on=KEYS, how="left", indicator=True)["_merge"] == "both"
    return rep.loc[~hit.to_numpy(), REPRODUCED_COLUMNS].reset_index(drop=True)


# --- Markdown ---------------------------------------------------------------------------------------------------

IRREGULAR = "print irregularity"  # the notes of workflow/resources/paper_*.csv that flag one


def mean_sd(v, metric: str, sign: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    v = float(v)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if metric in COUNT_METRICS and v.is_integer():
        return f"{v:+g}" if sign else f"{v:g}"
    return f"{v:+.4f}" if sign else f"{v:.4f}"


def _fmt_delta(v) -> str:
    return "—" if v != v else f"{v:.5f}"


def _cells(r) -> str:
    s = mean_sd(r.reproduced, r.metric)
    if s != "—" and not (isinstance(r.sd, float) and math.isnan(r.sd)):
        s += f" (sd {mean_sd(r.sd, r.metric)})"
    return s


def _table_name(paper: str, table: str) -> str:
    return f"{paper.upper()} {TABLE_TITLES.get((paper, table), table).split(':')[0]}"


def to_markdown(card: pd.DataFrame, title: str = "Paper check: published numbers vs this project's runs") -> str:
    """One summary table on top (per table, status and run: cells, verdicts, mean / max |difference|), the
    print irregularities, then one section per paper and table: published, reproduced (the paper's own
    aggregation, "(sd ...)" the cut-to-cut sd), the other aggregation, difference, verdict, status; the
    reasons of each status under each section."""
    from ..render.tables import markdown

    s = summary(card)
    rows = [[_table_name(r.paper, r.table), r.status, f"{r.run_dataset} → {r.dataset}" if r.run_dataset else "—",
             str(r.cells)] + [str(getattr(r, v.replace(" ", "_"))) if r.status != NOT_RUN else "—" for v in VERDICTS]
            + [_fmt_delta(r.mean_abs_difference), _fmt_delta(r.max_abs_difference)]
            for r in s.rename(columns={v: v.replace(" ", "_") for v in VERDICTS}).itertuples(index=False)]
    out = [markdown(title, ["Table", "Status", "Run → paper data", "Cells", "Agree", "Within noise", "Differ",
                             "Mean abs Δ", "Max abs Δ"], rows),
           "\nStatus: *authors' networks* = computed from the authors' published networks (datasets.<d>.checkpoints); "
           "*matches setting* = the paper's data set, scale and protocol; *stand-in* = a smaller or different run "
           "standing for the paper's data set; *not comparable* = the paper computed the number another way or it "
           "depends on the hardware (difference shown, not judged); *not run* = no run gives the number. Verdict: "
           "*agrees* = within the print rounding (half a unit of the last printed digit); *within noise* = within "
           "the cut-to-cut sd or the stated tolerance; *differs* otherwise. Reproduced = the paper's own "
           "aggregation (EOS tables: one cut; DA tables: the mean over cuts or splits), Other = the other one. "
           "Δ = reproduced − published. GM / FM are the authors' definitions: see pipeline_lib.scorecard.paper_check.\n"]
    odd = card[card["note"].str.contains(IRREGULAR, regex=False)].drop_duplicates(KEYS)
    if len(odd):
        out.append(f"\n## Print irregularities ({len(odd)} published numbers)\n\n")
        for r in odd.itertuples(index=False):
            where = " ".join(x for x in (r.dataset, r.model, r.loss, r.method, r.k) if x)
            value = mean_sd(r.published, r.metric)
            out.append(f"- {_table_name(r.paper, r.table)} {where} {r.metric} {value}: {r.note}\n")
    groups = list(card.groupby(["paper", "table"], sort=False))
    for paper in PAPERS:
        if paper not in set(card["paper"]):
            continue
        out.append(f"\n## {PAPERS[paper]}\n")
        for (p, table), g in groups:
            if p != paper:
                continue
            shown = [c for c in ("model", "loss", "method", "k") if (g[c] != "").any()]
            heads = (["Dataset", "Run"] + [c.capitalize() if c != "k" else "K" for c in shown]
                     + ["Metric", "Published", "Reproduced", "Aggregation", "Other", "Δ", "Verdict", "Status"])
            has_note = (g["note"] != "").any()
            rows = []
            for r in g.itertuples(index=False):
                other = f"{mean_sd(r.other, r.metric)} ({r.other_aggregation})" if r.other_aggregation else "—"
                rows.append([r.dataset, r.run_dataset or "—"] + [getattr(r, c) for c in shown]
                            + [r.metric, mean_sd(r.published, r.metric), _cells(r), r.aggregation or "—", other,
                               mean_sd(r.difference, r.metric, sign=True), r.verdict or "—", r.status]
                            + ([r.note.replace("|", "/")] if has_note else []))
            md = markdown("", heads + (["Note"] if has_note else []), rows)
            out.append(f"\n### {TABLE_TITLES.get((p, table), table)}\n\n{md}")
            why = g[g["status"] != NOT_RUN].drop_duplicates(["run_dataset", "dataset", "status", "reason"])
            if len(why):
                out.append("\n" + "".join(f"- {r.run_dataset} → {r.dataset} ({r.status}): {r.reason or '—'}\n"
                                          for r in why.itertuples(index=False)))
    return "".join(out)


# --- the rule ---------------------------------------------------------------------------------------------------

def paper_dataset_name(name: str, known) -> str:
    """A paper data set id from a name or title ("CIFAR-10" -> cifar10); ValueError naming the allowed ones."""
    flat = lambda s: re.sub(r"[^a-z0-9]", "", str(s).lower())  # noqa: E731
    ids = {flat(k): k for k in known}
    if flat(name) not in ids:
        raise ValueError(f"data set {name!r} is none of the papers' data sets ({', '.join(sorted(known))})")
    return ids[flat(name)]


def cut_values(files, eos_cut: int) -> pd.DataFrame:
    """The per-cut metric CSVs (columns dataset, cut, loss, method, metric, value: evaluate_run's and the
    pixel backbones') of cut ``eos_cut``, metrics renamed as the papers' (:data:`METRIC_MAP`): columns
    dataset, loss, method, metric, cut_value."""
    frames = [pd.read_csv(f) for f in files]
    cols = ["dataset", "loss", "method", "metric", "cut_value"]
    if not frames:
        return pd.DataFrame(columns=cols)
    df = pd.concat(frames, ignore_index=True)
    df = df[(df["cut"].astype(int) == int(eos_cut)) & df["metric"].isin(list(METRIC_MAP))]
    return df.assign(metric=df["metric"].map(METRIC_MAP), dataset=df["dataset"].astype(str),
                     cut_value=df["value"].astype(float))[cols].drop_duplicates(cols[:4])


def _with_cut_values(rep: pd.DataFrame, cuts: pd.DataFrame) -> pd.DataFrame:
    """EOS Tables I and II: the value of the configured cut from the per-cut metrics (:func:`cut_values`)."""
    if not len(cuts) or not len(rep):
        return rep
    on = ["dataset", "loss", "method", "metric"]
    eos = (rep["paper"] == "eos") & rep["table"].isin(["table1", "table2"])
    hit = rep.loc[eos, on].merge(cuts, on=on, how="left")["cut_value"].to_numpy()
    rep = rep.copy()
    rep.loc[eos, "cut_value"] = hit
    return rep


def study_cut_values(records: list[dict], eos_k=PAPER_K) -> pd.DataFrame:
    """EOS Tables III, IV, V and §V-E3 at one cut (their reports hold means only): study records
    (:mod:`pipeline_lib.studies.eos.tables`, each with ``table``: eos_table3, eos_table4, eos_table5 or eos_pixel)
    of the configured cut alone, through each table's own stage and adapter.  Columns: :data:`KEYS`,
    cut_value (``dataset``: the run data set's name)."""
    import tempfile

    from ..studies.eos import tables as es

    stages = {"eos_table3": lambda r, c, m: es.table3_stage(r, c, m, titles={}, k=eos_k),
              "eos_table4": lambda r, c, m: es.table4_stage(r, c, m, titles={}, table2_k=eos_k),
              "eos_table5": lambda r, c, m: es.table5_stage(r, c, m, titles={}, k=eos_k),
              "eos_pixel": lambda r, c, m: es.pixel_eos_stage(r, c, m, titles={})}
    unknown = {r.get("table") for r in records} - set(stages)
    if unknown:
        raise ValueError(f"study records of tables {sorted(map(str, unknown))}; known: {', '.join(stages)}")
    frames = []
    with tempfile.TemporaryDirectory() as tmp:
        for key, stage in stages.items():
            recs = [{k: v for k, v in r.items() if k != "table"} for r in records if r["table"] == key]
            if len({r["cut"] for r in recs}) > 1:
                raise ValueError(f"{key}: study records of several cuts; give those of one cut")
            if recs:
                frames.append(ADAPTERS[key](stage(recs, f"{tmp}/{key}.csv", f"{tmp}/{key}.md")))
    if not frames:
        return pd.DataFrame(columns=KEYS + ["cut_value"])
    out = pd.concat(frames, ignore_index=True)
    return out[KEYS].assign(cut_value=out["value"].to_numpy())


def _fill_cut_values(rep: pd.DataFrame, cuts: pd.DataFrame) -> pd.DataFrame:
    """cut_value from ``cuts`` (:func:`study_cut_values`) where a row has none yet."""
    if not len(cuts) or not len(rep):
        return rep
    found = rep[KEYS].merge(_normalise(cuts.assign(value=0.0), KEYS + ["cut_value"]), on=KEYS, how="left")
    rep = rep.copy()
    rep["cut_value"] = rep["cut_value"].fillna(pd.Series(found["cut_value"].to_numpy(), index=rep.index))
    return rep


def _results(entries, titles: dict, known, eos_cut: int, settings: dict) -> list[pd.DataFrame]:
    """Rows of committed result files (config paper_check.results): each a report CSV of one table key, its
    data sets the papers' own (names or titles), status matches setting (unless a table or column rule says
    otherwise); ``cut``: the one cut the file holds; ``k_neighbors``: its EOS K.  Adds their settings."""
    frames = []
    names = {str(t): str(n) for n, t in (titles or {}).items()}
    for e in entries or ():
        if e["table"] not in ADAPTERS:
            raise ValueError(f"paper_check.results: unknown table {e['table']!r}; known: {', '.join(ADAPTERS)}")
        rep = ADAPTERS[e["table"]](pd.read_csv(e["csv"]))
        if e.get("cut") is not None:
            if not (rep["n_cuts"] == 1).all():
                raise ValueError(f"paper_check.results: {e['csv']} holds several cuts, so cut {e['cut']} cannot be "
                                 "its only one: leave cut out")
            rep["cut_value"] = rep["value"] if int(e["cut"]) == int(eos_cut) else np.nan
        if e["table"] == "eos_table2":
            rep.loc[rep["method"] == "eos", "run_k"] = str(e["k_neighbors"])
        labels = []
        for d in rep["dataset"]:
            if d == AVERAGE:
                labels.append(d)
                continue
            pds = paper_dataset_name(names.get(d, d), known)
            label = f"{pds} ({e['csv']})"
            settings[label] = {"paper_dataset": pds, "match": True,
                               "why": e.get("why") or f"committed result file {e['csv']} (paper_check.results)"}
            labels.append(label)
        frames.append(rep.assign(dataset=labels))
    return frames


def scorecard_stage(report_csvs: dict[str, str], resources_dir, settings: dict, out_csv: str, out_md: str,
                    titles: dict | None = None, *, cut_metrics=(), cut_records=(), eos_cut: int = 0,
                    eos_k=PAPER_K, tolerance: float = 0.0, results=()) -> pd.DataFrame:
    """Read every report CSV of ``report_csvs`` ({table key: path}; keys :data:`ADAPTERS`; a key left
    out or mapped to None = not run) through its adapter, map displayed titles back to data set names
    (``titles``: {name: title}, as the rules pass them), add the value of cut ``eos_cut`` to EOS Tables I
    and II from ``cut_metrics`` (:func:`cut_values`) and to EOS Tables III, IV, V and §V-E3 from the study
    records of that cut ``cut_records`` (:func:`study_cut_values`), the K of Table II's EOS runs (``eos_k``)
    and the rows of committed result files (``results``, :func:`_results`), build :func:`scorecard` against
    :func:`load_published` and write it as CSV and Markdown."""
    unknown = set(report_csvs) - set(ADAPTERS)
    if unknown:
        raise ValueError(f"unknown report keys {sorted(unknown)}; known: {', '.join(ADAPTERS)}")
    published = load_published(resources_dir)
    frames = []
    for key, path in report_csvs.items():
        if path is None:
            continue
        frames.append(ADAPTERS[key](pd.read_csv(path)))
    reproduced = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=REPRODUCED_COLUMNS)
    reproduced = _normalise(reproduced, REPRODUCED_COLUMNS) if len(reproduced) else reproduced
    if titles and len(reproduced):
        names = {str(t): str(n) for n, t in titles.items()}
        reproduced["dataset"] = reproduced["dataset"].map(lambda d: names.get(d, d))
    if len(reproduced):
        reproduced = _with_cut_values(reproduced, cut_values(cut_metrics, eos_cut))
        reproduced = _fill_cut_values(reproduced, study_cut_values(list(cut_records), eos_k))
        two = (reproduced["paper"] == "eos") & (reproduced["table"] == "table2") & (reproduced["method"] == "eos")
        reproduced.loc[two, "run_k"] = _key_str(eos_k)
    settings = dict(settings)
    known = set(published["dataset"]) - {AVERAGE}
    extra_frames = _results(results, titles or {}, known, eos_cut, settings)
    reproduced = pd.concat([reproduced] + [_normalise(f, REPRODUCED_COLUMNS) for f in extra_frames],
                           ignore_index=True)
    card = scorecard(published, reproduced, settings, eos_cut=eos_cut, eos_k=eos_k, tolerance=tolerance)
    card.to_csv(out_csv, index=False, float_format="%.6g")
    extra = unpublished(published, reproduced, settings)
    md = to_markdown(card)
    if len(extra):
        what = sorted({f"{r.paper} {r.table}: {r.method or '-'} {r.metric}" for r in extra.itertuples(index=False)})
        md += (f"\n{len(extra)} reproduced numbers have no published counterpart and are not listed: "
               + "; ".join(what[:30]) + (" ..." if len(what) > 30 else "") + "\n")
    with open(out_md, "w") as fh:
        fh.write(md)
    return card
