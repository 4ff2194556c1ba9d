"""Paper tables assembled from the tidy per-run metrics files."""
from __future__ import annotations

import numpy as np
import pandas as pd

METHOD_NAMES = {"baseline": "Baseline", "none": "Head", "ros": "ROS", "smote": "SMOTE",
                "bsmote": "B.SMOTE", "balsvm": "Bal.SVM", "eos": "EOS"}
LOSS_NAMES = {"ce": "CE", "focal": "Focal", "asl": "ASL", "ldam": "LDAM"}
TABLE2_METRICS = {"bac": "BAC", "gm_authors": "GM", "fm_authors": "FM"}


TABLE1_NAMES = {"pre_smote": "Pre-SMOTE", "pre_bsmote": "Pre-BSMOTE", "pre_balsvm": "Pre-BalSVM",
                "pre_remix": "REMIX", "smote": "Post-SMOTE", "bsmote": "Post-BSMOTE", "balsvm": "Post-BalSVM"}


def loss_display(loss: str) -> str:
    base, _, drw = loss.partition("-")
    return LOSS_NAMES.get(base, base) + ("-DRW" if drw else "")


def table2(metrics: pd.DataFrame, datasets: list[str], losses: list[str], methods: list[str]) -> pd.DataFrame:
    """One row per dataset x loss; for every method and metric the mean and sample sd over cuts.

    ``metrics``: tidy frame with columns dataset, cut, loss, method, metric, value.
    Columns: dataset, loss, n_cuts, then ``<Method>_<METRIC>_mean`` / ``_sd`` in paper order.
    """
    m = metrics[metrics["metric"].isin(list(TABLE2_METRICS))]
    stats = m.groupby(["dataset", "loss", "method", "metric"])["value"].agg(["mean", "std", "count"])
    rows = []
    for ds in datasets:
        for loss in losses:
            row = {"dataset": ds, "loss": loss_display(loss)}
            counts = set()
            for meth in methods:
                for key, short in TABLE2_METRICS.items():
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


def _mean_sd_cells(r, prefixes: list[str]) -> list[str]:
    """'mean ± sd' (4 decimals; the mean alone when sd is NaN) for each ``<prefix>_<METRIC>``."""
    cells = []
    for prefix in prefixes:
        for s in TABLE2_METRICS.values():
            mean, sd = r[f"{prefix}_{s}_mean"], r[f"{prefix}_{s}_sd"]
            cells.append(f"{mean:.4f}" if np.isnan(sd) else f"{mean:.4f} ± {sd:.4f}")
    return cells


def to_markdown(table: pd.DataFrame, methods: list[str], title: str = "") -> str:
    """Markdown twin of :func:`table2`: mean ± sd to 4 decimals."""
    heads = ["Dataset", "Loss", "Cuts"] + [f"{METHOD_NAMES[m]} {s}" for m in methods for s in TABLE2_METRICS.values()]
    rows = [[str(r["dataset"]), str(r["loss"]), str(r["n_cuts"])] + _mean_sd_cells(r, [METHOD_NAMES[m] for m in methods])
            for _, r in table.iterrows()]
    return _markdown(title, heads, rows)


def table2_stage(metric_files: list[str], out_csv: str, out_md: str, *, datasets: list[str],
                 losses: list[str], methods: list[str], titles: dict | None = None) -> pd.DataFrame:
    """The ``table2`` rule: EOS paper Table II (BAC / GM / FM, mean ± sd over cuts)."""
    metrics = pd.concat([pd.read_csv(f, dtype={"loss": str, "method": str, "dataset": str}) for f in metric_files],
                        ignore_index=True)
    table = table2(metrics, datasets, losses, methods)
    if titles:
        table["dataset"] = [titles.get(d, d) for d in table["dataset"]]
    table.to_csv(out_csv, index=False, float_format="%.6f")
    with open(out_md, "w") as fh:
        fh.write(to_markdown(table, methods, "Table II: baseline and latent-space oversampling "
                                             "(BAC, GM, FM as the authors computed them; mean ± sd over cuts)"))
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
