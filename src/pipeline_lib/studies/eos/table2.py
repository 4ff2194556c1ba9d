"""EOS Tables I and II and Table II's class counts, assembled from the tidy per-run metrics files."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...render.names import METHOD_NAMES, TABLE1_NAMES, loss_display
from ...render.tables import markdown, markdown_block, write_table

# Kang et al.'s decoupling baselines (ICLR 2020), Table II columns after the samplers: cRT = a fresh head retrained
# on the ros sampler's class-balanced embeddings, tau-norm = the phase-1 head with w_c / ||w_c||^tau, no bias;
# then post-hoc logit adjustment (Menon et al., ICLR 2021: phase-1 logits - tau log prior, pipeline_lib.core.decoupling)
DECOUPLING = ("crt", "tau_norm", "logit_adj")
TABLE2_METRICS = {"bac": "BAC", "gm_authors": "GM", "fm_authors": "FM"}  # what the papers printed
# Table II adds, labelled GMrec, the geometric mean of the per-class recalls (metrics.gm): the authors' GM
# (sqrt(mean TPR x mean TNR)) stays high for a model that never predicts some classes, GMrec is then 0
TABLE2_COLUMNS = {**TABLE2_METRICS, "gm": "GMrec"}
CSV_FLOAT = "%.6f"  # the EOS tables' CSVs (the other studies keep render.tables' default, %.6g)




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


def to_markdown(table: pd.DataFrame, methods: list[str], title: str = "") -> str:
    """Markdown twin of :func:`table2`, laid out as the paper's: one block per metric (BAC, GM, FM, GMrec),
    a row per data set and loss, the methods side by side, mean ± sd to 4 decimals, the best mean of each
    row in bold."""
    names = [METHOD_NAMES[m] for m in methods]
    keys = list(range(len(table)))
    labels = [[str(r["dataset"]), str(r["loss"]), str(r["n_cuts"])] for _, r in table.iterrows()]
    blocks = []
    for short in TABLE2_COLUMNS.values():
        cells = {(i, n): (r[f"{n}_{short}_mean"], r[f"{n}_{short}_sd"])
                 for i, (_, r) in enumerate(table.iterrows()) for n in names}
        blocks.append(markdown_block(short, ["Dataset", "Loss", "Cuts"] + names, labels, names, keys, cells))
    body = (f"# {title}\n\n" if title else "") + "\n".join(blocks)
    notes = ("\nBold: the best mean of the row. BAC: balanced accuracy. GM, FM: as the authors computed them "
             "(imbalanced-learn's macro G-mean "
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
    if "logit_adj" in methods:
        notes += ("\nLA: post-hoc logit adjustment (Menon et al., ICLR 2021): the phase-1 logits minus tau times the "
                  "log of the cut's training class prior (LDAM's cosine logits scaled by its s), tau chosen by BAC on "
                  "the same held-out share of the training embeddings as tau-norm, never on the test set.\n")
    return body + notes


def table2_methods(methods: list[str], present) -> list[str]:
    """``methods`` followed by the decoupling baselines (:data:`DECOUPLING`) that the metrics hold
    (``present``: their method names) and ``methods`` leaves out: evaluate_run writes cRT / tau-norm when
    the config's ``baselines`` asks for them, and Table II shows them after the samplers."""
    present = set(present)
    return list(methods) + [m for m in DECOUPLING if m in present and m not in methods]


def table2_stage(metric_files: list[str], out_csv: str, out_md: str, *, datasets: list[str],
                 losses: list[str], methods: list[str], titles: dict | None = None,
                 custom: dict | None = None) -> pd.DataFrame:
    """The ``table2`` rule: EOS paper Table II (BAC / GM / FM, mean ± sd over cuts).  ``custom``: {run name:
    one line (class, package, version, params)} of your own samplers, listed under the table."""
    metrics = pd.concat([pd.read_csv(f, dtype={"loss": str, "method": str, "dataset": str}) for f in metric_files],
                        ignore_index=True)
    methods = table2_methods(methods, metrics["method"].unique())
    table = table2(metrics, datasets, losses, methods)
    if titles:
        table["dataset"] = [titles.get(d, d) for d in table["dataset"]]
    extra = [METHOD_NAMES[m] for m in DECOUPLING if m in methods]
    md = to_markdown(table, methods, "Table II: baseline and latent-space oversampling"
                     + (f", decoupling baselines {' and '.join(extra)}" if extra else "")
                     + " (BAC; GM, FM as the authors computed them; GMrec; mean ± sd over cuts)")
    if custom:
        md += "\nYour own samplers:\n\n" + "".join(f"- {line}\n" for line in custom.values())
    return write_table(table, md, out_csv, out_md, float_format=CSV_FLOAT)


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
    """One block per data set: the methods as rows, BAC / GM / FM side by side, the best of each column bold."""
    titles = titles or {}
    keys = list(range(len(table)))
    labels = [str(r["method"]) for _, r in table.iterrows()]
    blocks = []
    for d in datasets:
        cells = {(i, s): (r[f"{d}_{s}_mean"], r[f"{d}_{s}_sd"]) for i, (_, r) in enumerate(table.iterrows())
                 for s in TABLE2_METRICS.values()}
        blocks.append(markdown_block(titles.get(d, d), ["Method"] + list(TABLE2_METRICS.values()), labels,
                                     list(TABLE2_METRICS.values()), keys, cells, best_along="column"))
    return ("# Table I: pre-processing (pixel space) vs embedding-space oversampling, cross-entropy (BAC, GM, FM as "
            "the authors computed them; mean ± sd over cuts; bold: the best of each column)\n\n" + "\n".join(blocks))


def table1_stage(metric_files: list[str], out_csv: str, out_md: str, *, datasets: list[str], methods: list[str],
                 titles: dict | None = None) -> pd.DataFrame:
    metrics = pd.concat([pd.read_csv(f, dtype={"loss": str, "method": str, "dataset": str}) for f in metric_files],
                        ignore_index=True)
    table = table1(metrics, datasets, methods)
    return write_table(table, table1_markdown(table, datasets, titles), out_csv, out_md, float_format=CSV_FLOAT)


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
    return markdown("Training counts per class after latent-space oversampling (beside Table II)",
                     ["Dataset", "Loss", "Cut", "Method", "Originals per class", "After per class",
                      "Classes short of the largest"], rows)


def class_counts_stage(runs: list[dict], out_csv: str, out_md: str, *, samplers: list[str],
                       titles: dict | None = None) -> pd.DataFrame:
    """The ``table2_class_counts`` rule."""
    counts = class_counts(runs, samplers)
    if titles:
        counts["dataset"] = [titles.get(d, d) for d in counts["dataset"]]
    return write_table(counts, class_counts_markdown(counts), out_csv, out_md, float_format=None)
