"""Paper tables assembled from the tidy per-run metrics files."""
from __future__ import annotations

import numpy as np
import pandas as pd

METHOD_NAMES = {"baseline": "Baseline", "none": "Head", "ros": "ROS", "smote": "SMOTE",
                "bsmote": "B.SMOTE", "balsvm": "Bal.SVM", "eos": "EOS", "crt": "cRT", "tau_norm": "tau-norm"}
# Kang et al.'s decoupling baselines (ICLR 2020), Table II columns after the samplers: cRT = a fresh head retrained
# on the ros sampler's class-balanced embeddings, tau-norm = the phase-1 head with w_c / ||w_c||^tau, no bias
DECOUPLING = ("crt", "tau_norm")
LOSS_NAMES = {"ce": "CE", "focal": "Focal", "asl": "ASL", "ldam": "LDAM"}
TABLE2_METRICS = {"bac": "BAC", "gm_authors": "GM", "fm_authors": "FM"}  # what the papers printed
# Table II adds, labelled GMrec, the geometric mean of the per-class recalls (metrics.gm): the authors' GM
# (sqrt(mean TPR x mean TNR)) stays high for a model that never predicts some classes, GMrec is then 0
TABLE2_COLUMNS = {**TABLE2_METRICS, "gm": "GMrec"}


TABLE1_NAMES = {"pre_smote": "Pre-SMOTE", "pre_bsmote": "Pre-BSMOTE", "pre_balsvm": "Pre-BalSVM",
                "pre_ros": "Pre-ROS", "pre_remix": "REMIX", "smote": "Post-SMOTE", "bsmote": "Post-BSMOTE", "balsvm": "Post-BalSVM"}


def loss_display(loss: str) -> str:
    base, _, drw = loss.partition("-")
    return LOSS_NAMES.get(base, base) + ("-DRW" if drw else "")


def table2(metrics: pd.DataFrame, datasets: list[str], losses: list[str], methods: list[str]) -> pd.DataFrame:
    """One row per dataset x loss; for every method and metric the mean and sample sd over cuts.

    ``metrics``: tidy frame with columns dataset, cut, loss, method, metric, value.
    Columns: dataset, loss, n_cuts, then ``<Method>_<METRIC>_mean`` / ``_sd`` in paper order.
    """
    m = metrics[metrics["metric"].isin(list(TABLE2_COLUMNS))]
    stats = m.groupby(["dataset", "loss", "method", "metric"])["value"].agg(["mean", "std", "count"])
    rows = []
    for ds in datasets:
        for loss in losses:
            row = {"dataset": ds, "loss": loss_display(loss)}
            counts = set()
            for meth in methods:
                for key, short in TABLE2_COLUMNS.items():
                    s = stats.loc[(ds, loss, meth, key)]
                    counts.add(int(s["count"]))
                    row[f"{METHOD_NAMES[meth]}_{short}_mean"] = float(s["mean"])
                    row[f"{METHOD_NAMES[meth]}_{short}_sd"] = float(s["std"]) if s["count"] > 1 else np.nan
            if len(counts) != 1:
                raise ValueError(f"{ds}/{loss}: methods were evaluated on different numbers of cuts {sorted(counts)}")
            row["n_cuts"] = counts.pop()
            rows.append(row)
    df = pd.DataFrame(rows)
    return df[["dataset", "loss", "n_cuts"] + [c for c in df.columns if c not in ("dataset", "loss", "n_cuts")]]


def _markdown(title: str, heads: list[str], rows: list[list[str]]) -> str:
    lines = ([f"# {title}", ""] if title else []) + ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def mean_sd(mean: float, sd: float) -> str:
    """A table cell: 'mean ± sd' to 4 decimals, the mean alone when sd is NaN (one cut), '—' without a mean."""
    if np.isnan(mean):
        return "—"
    return f"{mean:.4f}" if np.isnan(sd) else f"{mean:.4f} ± {sd:.4f}"


def _mean_sd_cells(r, prefixes: list[str], columns: dict = TABLE2_METRICS) -> list[str]:
    """:func:`mean_sd` of each ``<prefix>_<METRIC>``."""
    return [mean_sd(r[f"{prefix}_{s}_mean"], r[f"{prefix}_{s}_sd"]) for prefix in prefixes for s in columns.values()]


def to_markdown(table: pd.DataFrame, methods: list[str], title: str = "") -> str:
    """Markdown twin of :func:`table2`: mean ± sd to 4 decimals."""
    heads = ["Dataset", "Loss", "Cuts"] + [f"{METHOD_NAMES[m]} {s}" for m in methods for s in TABLE2_COLUMNS.values()]
    rows = [[str(r["dataset"]), str(r["loss"]), str(r["n_cuts"])]
            + _mean_sd_cells(r, [METHOD_NAMES[m] for m in methods], TABLE2_COLUMNS) for _, r in table.iterrows()]
    notes = ("\nBAC: balanced accuracy. GM, FM: as the authors computed them (imbalanced-learn's macro G-mean "
             "sqrt(mean TPR x mean TNR); macro-F1 with zero_division=1), the columns the paper printed. GMrec: the "
             "geometric mean of the per-class recalls, 0 when any class is never predicted correctly.\n")
    if "crt" in methods:
        notes += ("\ncRT (Kang et al., ICLR 2020): a fresh linear head retrained on class-balanced embeddings, here "
                  "the ros sampler's (random oversampling in embedding space) with the same head training as the "
                  "sampler columns.\n")
    if "tau_norm" in methods:
        notes += ("\ntau-norm (Kang et al., ICLR 2020): the phase-1 head with every class vector divided by its "
                  "L2 norm to the power tau, bias dropped; tau chosen by BAC on a stratified held-out share of the "
                  "cut's training embeddings, never on the test set. LDAM's cosine head has unit-norm class "
                  "vectors already, so there tau-norm equals the Baseline.\n")
    return _markdown(title, heads, rows) + notes


def table2_methods(methods: list[str], present) -> list[str]:
    """``methods`` followed by the decoupling baselines (:data:`DECOUPLING`) that the metrics hold
    (``present``: their method names) and ``methods`` leaves out: evaluate_run writes cRT / tau-norm when
    the config's ``baselines`` asks for them, and Table II shows them after the samplers."""
    present = set(present)
    return list(methods) + [m for m in DECOUPLING if m in present and m not in methods]


def table2_stage(metric_files: list[str], out_csv: str, out_md: str, *, datasets: list[str],
                 losses: list[str], methods: list[str], titles: dict | None = None) -> pd.DataFrame:
    """The ``table2`` rule: EOS paper Table II (BAC / GM / FM, mean ± sd over cuts)."""
    metrics = pd.concat([pd.read_csv(f, dtype={"loss": str, "method": str, "dataset": str}) for f in metric_files],
                        ignore_index=True)
    methods = table2_methods(methods, metrics["method"].unique())
    table = table2(metrics, datasets, losses, methods)
    if titles:
        table["dataset"] = [titles.get(d, d) for d in table["dataset"]]
    table.to_csv(out_csv, index=False, float_format="%.6f")
    extra = [METHOD_NAMES[m] for m in DECOUPLING if m in methods]
    with open(out_md, "w") as fh:
        fh.write(to_markdown(table, methods, "Table II: baseline and latent-space oversampling"
                             + (f", decoupling baselines {' and '.join(extra)}" if extra else "")
                             + " (BAC; GM, FM as the authors computed them; GMrec; mean ± sd over cuts)"))
    return table


def table1(metrics: pd.DataFrame, datasets: list[str], methods: list[str]) -> pd.DataFrame:
    """EOS paper Table I: pixel-space pre-processing (``pre_*``: a CE backbone trained on balanced images
    or REMIX batches) vs the same samplers in embedding space (CE three-phase pipeline).  One row per
    method; per dataset BAC / GM / FM (authors' GM and FM) mean and sd over cuts."""
    m = metrics[(metrics["loss"] == "ce") & metrics["metric"].isin(list(TABLE2_METRICS))]
    stats = m.groupby(["method", "dataset", "metric"])["value"].agg(["mean", "std", "count"])
    rows = []
    for meth in methods:
        row = {"method": TABLE1_NAMES[meth], "space": "pixel" if meth.startswith("pre_") else "embedding"}
        for ds in datasets:
            for key, short in TABLE2_METRICS.items():
                s = stats.loc[(meth, ds, key)]
                row[f"{ds}_{short}_mean"] = float(s["mean"])
                row[f"{ds}_{short}_sd"] = float(s["std"]) if s["count"] > 1 else np.nan
            row[f"{ds}_n_cuts"] = int(stats.loc[(meth, ds, "bac"), "count"])
        rows.append(row)
    return pd.DataFrame(rows)


def table1_markdown(table: pd.DataFrame, datasets: list[str], titles: dict | None = None) -> str:
    titles = titles or {}
    heads = ["Method"] + [f"{titles.get(d, d)} {s}" for d in datasets for s in TABLE2_METRICS.values()]
    rows = [[r["method"]] + _mean_sd_cells(r, datasets) for _, r in table.iterrows()]
    return _markdown("Table I: pre-processing (pixel space) vs embedding-space oversampling, cross-entropy "
                     "(BAC, GM, FM as the authors computed them; mean ± sd over cuts)", heads, rows)


def table1_stage(metric_files: list[str], out_csv: str, out_md: str, *, datasets: list[str], methods: list[str],
                 titles: dict | None = None) -> pd.DataFrame:
    metrics = pd.concat([pd.read_csv(f, dtype={"loss": str, "method": str, "dataset": str}) for f in metric_files],
                        ignore_index=True)
    table = table1(metrics, datasets, methods)
    table.to_csv(out_csv, index=False, float_format="%.6f")
    with open(out_md, "w") as fh:
        fh.write(table1_markdown(table, datasets, titles))
    return table


def class_counts(runs: list[dict], samplers: list[str]) -> pd.DataFrame:
    """Per-class training counts after latent-space oversampling, of every run and sampler (beside Table II).

    ``runs``: dicts with keys dataset, cut, loss and oversampled {method: Parquet path}: a sampler's
    oversampled embeddings, for cRT the ros sampler's, for tau-norm the train embeddings (its head is the
    phase-1 one, fitted to the imbalanced cut).  One row per dataset, cut, loss, method, class: originals,
    synthetic rows, total, and whether the class reached the largest class's count (a sampler that could not
    balance — Borderline-SMOTE finding no danger rows, Bal-SVM relabelling synthetic rows — and tau-norm's
    minority classes show here as ``balanced`` False)."""
    rows = []
    for run in runs:
        for sampler in samplers:
            df = pd.read_parquet(run["oversampled"][sampler], columns=["label", "is_synthetic"])
            names = df.attrs.get("class_names") or [str(c) for c in range(int(df["label"].max()) + 1)]
            total = np.bincount(df["label"], minlength=len(names))
            synthetic = np.bincount(df.loc[df["is_synthetic"], "label"], minlength=len(names))
            for c, name in enumerate(names):
                rows.append(dict(dataset=run["dataset"], cut=run["cut"], loss=loss_display(run["loss"]),
                                 method=METHOD_NAMES[sampler], class_index=c, class_name=str(name),
                                 original=int(total[c] - synthetic[c]), synthetic=int(synthetic[c]),
                                 total=int(total[c]), balanced=bool(total[c] == total.max())))
    return pd.DataFrame(rows)


def class_counts_markdown(counts: pd.DataFrame) -> str:
    """One line per run and method: the count of every class after oversampling, and the classes short of
    the largest."""
    rows = []
    for (ds, loss, cut, meth), g in counts.groupby(["dataset", "loss", "cut", "method"], sort=False):
        short = g[~g["balanced"]]
        rows.append([str(ds), str(loss), str(cut), str(meth), " ".join(map(str, g["original"])),
                     " ".join(map(str, g["total"])),
                     ", ".join(f"{r.class_name} ({r.total})" for r in short.itertuples()) or "—"])
    return _markdown("Training counts per class after latent-space oversampling (beside Table II)",
                     ["Dataset", "Loss", "Cut", "Method", "Originals per class", "After per class",
                      "Classes short of the largest"], rows)


def class_counts_stage(runs: list[dict], out_csv: str, out_md: str, *, samplers: list[str],
                       titles: dict | None = None) -> pd.DataFrame:
    """The ``table2_class_counts`` rule."""
    counts = class_counts(runs, samplers)
    if titles:
        counts["dataset"] = [titles.get(d, d) for d in counts["dataset"]]
    counts.to_csv(out_csv, index=False)
    with open(out_md, "w") as fh:
        fh.write(class_counts_markdown(counts))
    return counts
