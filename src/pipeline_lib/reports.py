"""Paper tables assembled from the tidy per-run metrics files."""
from __future__ import annotations

import numpy as np
import pandas as pd

METHOD_NAMES = {"baseline": "Baseline", "none": "Head", "ros": "ROS", "smote": "SMOTE",
                "bsmote": "B.SMOTE", "balsvm": "Bal.SVM", "eos": "EOS"}
LOSS_NAMES = {"ce": "CE", "focal": "Focal", "asl": "ASL", "ldam": "LDAM"}
TABLE2_METRICS = {"bac": "BAC", "gm_authors": "GM", "fm_authors": "FM"}


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


def to_markdown(table: pd.DataFrame, methods: list[str], title: str = "") -> str:
    """Markdown twin of :func:`table2`: mean ± sd to 4 decimals."""
    heads = ["Dataset", "Loss", "Cuts"] + [f"{METHOD_NAMES[m]} {s}" for m in methods for s in TABLE2_METRICS.values()]
    lines = ([f"# {title}", ""] if title else []) + ["| " + " | ".join(heads) + " |",
                                                     "|" + "---|" * len(heads)]
    for _, r in table.iterrows():
        cells = [str(r["dataset"]), str(r["loss"]), str(r["n_cuts"])]
        for m in methods:
            for s in TABLE2_METRICS.values():
                mean, sd = r[f"{METHOD_NAMES[m]}_{s}_mean"], r[f"{METHOD_NAMES[m]}_{s}_sd"]
                cells.append(f"{mean:.4f}" if np.isnan(sd) else f"{mean:.4f} ± {sd:.4f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


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
