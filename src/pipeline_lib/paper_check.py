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

    ``paper_eos_table2.csv`` keeps its older wide layout (dataset, loss, method, bac, gm, fm; read by
    benchmarks/gpu_check.py); :func:`load_published` melts it into the schema above.

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
    ``fm``, ``GMrec``, ``acc`` of image runs (:data:`METRIC_MAP`, :data:`NOT_PAPER`).

Settings (``settings`` of :func:`scorecard`)
    ``{run data set: {"paper_dataset": str, "match": bool, "why": str, "tables": {key: {...}}}}``: which
    paper data set a run data set stands for and whether it is the paper's setting (data, scale,
    protocol); ``tables`` (optional) overrides match / why / paper_dataset for one table key such as
    ``"eos_table5"``.  A run data set missing from settings is an error.  A reproduced "average" row (DA
    Tables IX-XI) matches the paper's setting only if the run data sets of that table all match it and
    cover every data set the paper averaged.

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
PUBLISHED_COLUMNS = KEYS + ["value", "note"]
REPRODUCED_COLUMNS = KEYS + ["value", "sd", "n_cuts"]
CARD_COLUMNS = ["paper", "table", "dataset", "run_dataset", "model", "loss", "method", "k", "metric",
                "published", "reproduced", "sd", "n_cuts", "difference", "status", "setting", "note"]
MATCH, STAND_IN, NOT_RUN = "matches setting", "stand-in", "not run"
STATUSES = (MATCH, STAND_IN, NOT_RUN)
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
TABLE_NOTES = {("eos", "runtime"): "Wall-clock minutes depend on the hardware (the paper does not name its own): "
                                   "compare the ratio, not the difference."}
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
    return df[columns].reset_index(drop=True)


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
        df["paper"], df["table"] = m.group(1), m.group(2)
    missing = set(PUBLISHED_COLUMNS) - set(df.columns) - {"note", "model", "loss", "k", "method"}
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    if "note" not in df:
        df["note"] = ""
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
    from .reports import LOSS_NAMES, METHOD_NAMES

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
    from .reports import TABLE1_NAMES

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
    "eos_table3": functools.partial(from_tidy, paper="eos", table="table3"),
    "eos_table4": functools.partial(from_tidy, paper="eos", table="table4"),
    "eos_table5": functools.partial(from_tidy, paper="eos", table="table5"),
    "eos_pixel": functools.partial(from_tidy, paper="eos", table="pixel"),
    "eos_runtime": from_runtime,
    "da_table1": from_da_table1, "da_table2": from_da_table2, "da_table3": from_da_table3,
    "da_table4": from_da_table4, "da_table5": from_da_table5, "da_table6": from_da_table6,
    "da_table7": from_da_table7, "da_table8": from_da_table8, "da_table9": from_da_table9,
    "da_table10": from_da_table10, "da_table11": from_da_table11,
}


# --- scorecard ------------------------------------------------------------------------------------------------

def _setting(settings: dict, run_ds: str, key: str) -> tuple[str, bool, str]:
    if run_ds not in settings:
        raise ValueError(f"run data set {run_ds!r} ({key}) has no entry in settings: say which paper data set it "
                         "stands for (paper_dataset) and whether it matches the paper's setting (match)")
    s = {k: v for k, v in settings[run_ds].items() if k != "tables"}
    s.update((settings[run_ds].get("tables") or {}).get(key, {}))
    if not s.get("paper_dataset"):
        raise ValueError(f"settings[{run_ds!r}] has no paper_dataset")
    return str(s["paper_dataset"]), bool(s.get("match", False)), str(s.get("why", ""))


def _resolve(rep: pd.DataFrame, published: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """paper_dataset, match, why of every reproduced row (averages: from the table's other rows)."""
    rep = rep.copy()
    pds, matches, whys = [], [], []
    for r in rep.itertuples(index=False):
        key = f"{r.paper}_{r.table}"
        if r.dataset == AVERAGE:
            runs = sorted(set(rep.loc[(rep["paper"] == r.paper) & (rep["table"] == r.table)
                                      & (rep["dataset"] != AVERAGE), "dataset"]))
            resolved = [_setting(settings, d, key) for d in runs]
            wanted = set(published.loc[(published["paper"] == r.paper) & (published["table"] == r.table)
                                       & (published["dataset"] != AVERAGE), "dataset"])
            ok = bool(runs) and all(m for _, m, _ in resolved) and wanted <= {p for p, _, _ in resolved}
            pds.append(AVERAGE)
            matches.append(ok)
            whys.append(f"mean over the run data sets {', '.join(runs) or '(none)'}"
                        + ("" if ok else "; not all of them match the paper's setting or cover its data sets"))
        else:
            p, m, w = _setting(settings, r.dataset, key)
            pds.append(p)
            matches.append(m)
            whys.append(w)
    rep["paper_dataset"], rep["match"], rep["why"] = pds, matches, whys
    return rep


def scorecard(published: pd.DataFrame, reproduced: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Every published row once per run data set that stands for its data set (status "matches setting"
    or "stand-in", difference = reproduced - published), or once with status "not run" (reproduced,
    difference NaN).  Reproduced rows with no published counterpart (cRT, GMrec, ...) are left out
    (:func:`unpublished` lists them).  Columns: :data:`CARD_COLUMNS`."""
    pub = _normalise(published, PUBLISHED_COLUMNS).assign(note=published["note"].fillna("").astype(str).to_numpy()
                                                          if "note" in published else "")
    if pub.duplicated(KEYS).any():
        raise ValueError("published has duplicate keys")
    rep = _normalise(reproduced, REPRODUCED_COLUMNS) if len(reproduced) else pd.DataFrame(columns=REPRODUCED_COLUMNS)
    dup = rep[rep.duplicated(KEYS, keep=False)]
    if len(dup):
        raise ValueError(f"reproduced has several values for one key:\n{dup.head(10).to_string()}")
    rep = _resolve(rep, pub, settings) if len(rep) else rep.assign(paper_dataset="", match=False, why="")
    rep = rep.rename(columns={"dataset": "run_dataset", "value": "reproduced"}).rename(
        columns={"paper_dataset": "dataset"})
    pub = pub.rename(columns={"value": "published"}).reset_index(names="_order")
    card = pub.merge(rep[KEYS + ["run_dataset", "reproduced", "sd", "n_cuts", "match", "why"]], on=KEYS,
                     how="left")
    card = card.sort_values(["_order", "run_dataset"], kind="stable", na_position="last")
    ran = card["run_dataset"].notna()
    card["status"] = np.where(~ran, NOT_RUN, np.where(card["match"].fillna(False).astype(bool), MATCH, STAND_IN))
    card["difference"] = card["reproduced"] - card["published"]
    card["run_dataset"] = card["run_dataset"].fillna("")
    card["setting"] = card["why"].fillna("")
    table_note = [TABLE_NOTES.get((p, t), "") for p, t in zip(card["paper"], card["table"])]
    card["note"] = ["; ".join(x for x in (n, t) if x) for n, t in zip(card["note"], table_note)]
    for c in ("reproduced", "sd", "n_cuts", "difference"):
        card[c] = pd.to_numeric(card[c]).astype(float)
    return card[CARD_COLUMNS].reset_index(drop=True)


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

def _fmt(v, metric: str, sign: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    v = float(v)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if metric in COUNT_METRICS and v.is_integer():
        return f"{v:+g}" if sign else f"{v:g}"
    return f"{v:+.4f}" if sign else f"{v:.4f}"


def _cells(r) -> str:
    s = _fmt(r.reproduced, r.metric)
    if s != "—" and not (isinstance(r.sd, float) and math.isnan(r.sd)):
        s += f" ± {_fmt(r.sd, r.metric)}"
    return s


def to_markdown(card: pd.DataFrame, title: str = "Paper check: published numbers vs this project's runs") -> str:
    """Summary (cells per status per table), then one section per paper and table: numbers to 4 decimals
    (counts as integers), "—" where not run, "± sd" after a reproduced mean; the run data sets' settings
    under each section."""
    from .reports import _markdown

    groups = list(card.groupby(["paper", "table"], sort=False))
    summary = []
    for (paper, table), g in groups:
        pub = g.drop_duplicates(KEYS)
        counts = g["status"].value_counts()
        summary.append([paper, TABLE_TITLES.get((paper, table), table).split(":")[0], str(len(pub))]
                       + [str(int(counts.get(s, 0))) for s in STATUSES])
    out = [_markdown(title, ["Paper", "Table", "Published cells", "Rows: " + MATCH, "Rows: " + STAND_IN,
                             "Rows: " + NOT_RUN], summary),
           "\nStatus: *matches setting* = the run uses the paper's data set, scale and protocol; *stand-in* = a "
           "smaller or different run standing for the paper's data set; *not run* = no run of this project "
           "produces the number (never filled in). Difference = reproduced − published. GM / FM are the "
           "authors' definitions (imbalanced-learn macro G-mean, macro-F1): see pipeline_lib.paper_check.\n"]
    for paper in PAPERS:
        if paper not in set(card["paper"]):
            continue
        out.append(f"\n## {PAPERS[paper]}\n")
        for (p, table), g in groups:
            if p != paper:
                continue
            shown = [c for c in ("model", "loss", "method", "k") if (g[c] != "").any()]
            heads = (["Dataset", "Run"] + [c.capitalize() if c != "k" else "K" for c in shown]
                     + ["Metric", "Published", "Reproduced", "Difference", "Status"])
            has_note = (g["note"] != "").any()
            rows = []
            for r in g.itertuples(index=False):
                rows.append([r.dataset, r.run_dataset or "—"] + [getattr(r, c) for c in shown]
                            + [r.metric, _fmt(r.published, r.metric), _cells(r),
                               _fmt(r.difference, r.metric, sign=True), r.status]
                            + ([r.note.replace("|", "/")] if has_note else []))
            md = _markdown("", heads + (["Note"] if has_note else []), rows)
            out.append(f"\n### {TABLE_TITLES.get((p, table), table)}\n\n{md}")
            runs = g[g["run_dataset"] != ""].drop_duplicates(["run_dataset", "dataset"])
            if len(runs):
                out.append("\n" + "".join(f"- {r.run_dataset} → {r.dataset} ({r.status}): {r.setting or '—'}\n"
                                          for r in runs.itertuples(index=False)))
    return "".join(out)


def scorecard_stage(report_csvs: dict[str, str], resources_dir, settings: dict, out_csv: str, out_md: str,
                    titles: dict | None = None) -> pd.DataFrame:
    """Read every report CSV of ``report_csvs`` ({table key: path}; keys :data:`ADAPTERS`; a key left
    out or mapped to None = not run) through its adapter, map displayed titles back to data set names
    (``titles``: {name: title}, as the rules pass them), build :func:`scorecard` against
    :func:`load_published` and write it as CSV and Markdown."""
    unknown = set(report_csvs) - set(ADAPTERS)
    if unknown:
        raise ValueError(f"unknown report keys {sorted(unknown)}; known: {', '.join(ADAPTERS)}")
    frames = []
    for key, path in report_csvs.items():
        if path is None:
            continue
        df = pd.read_csv(path)
        frames.append(ADAPTERS[key](df))
    reproduced = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=REPRODUCED_COLUMNS)
    if titles and len(reproduced):
        names = {str(t): str(n) for n, t in titles.items()}
        reproduced["dataset"] = reproduced["dataset"].map(lambda d: names.get(d, d))
    published = load_published(resources_dir)
    card = scorecard(published, reproduced, settings)
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
