"""Many / medium / few-shot accuracy beside EOS Table II (groups: :mod:`pipeline_lib.core.long_tail`).

Table II's companion (:func:`shots_stage`): ``reports/table2_shots.csv`` (tidy: dataset, loss, method,
shot, n_classes, mean, sd, n_cuts over cuts), ``reports/table2_per_class.csv`` (one row per run, method and
class: training count, shot group, test recall, read from evaluate_run's ``recall_<c>`` rows) and a Markdown
table with one block per data set and loss, methods as rows, the best value of each column in bold.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.long_tail import SHOTS, shot_groups
from ...render.names import METHOD_NAMES, SHOT_NAMES, loss_display
from ...render.tables import markdown_block
from .table2 import table2_methods


def per_class_rows(metrics: pd.DataFrame, counts: dict, names: dict, many_above: int, few_below: int) -> pd.DataFrame:
    """One row per (dataset, cut, loss, method, class) of evaluate_run's tidy metrics (its ``recall_<c>``
    rows) with the class's training count (``counts[(dataset, cut, loss)]``) and shot group."""
    rec = metrics[metrics["metric"].str.startswith("recall_")].copy()
    rec["class_index"] = rec["metric"].str[len("recall_"):].astype(int)
    rows = []
    for key, g in rec.groupby(["dataset", "cut", "loss"], sort=False):
        n = np.asarray(counts[key])
        groups = shot_groups(n, many_above, few_below)
        for r in g.itertuples():
            c = int(r.class_index)
            rows.append(dict(dataset=r.dataset, cut=int(r.cut), loss=r.loss, method=r.method, class_index=c,
                             class_name=str(names[key][c]) if c < len(names[key]) else str(c),
                             train_count=int(n[c]), shot=str(groups[c]), recall=float(r.value)))
    return pd.DataFrame(rows)


def shot_summary(per_class: pd.DataFrame, datasets, losses, methods) -> pd.DataFrame:
    """Mean, sample sd and number of cuts of each group's accuracy per dataset, loss and method."""
    per_cut = (per_class.groupby(["dataset", "loss", "method", "cut", "shot"], sort=False)
               .agg(acc=("recall", "mean"), n_classes=("recall", "size")).reset_index())
    rows = []
    for ds in datasets:
        for loss in losses:
            for meth in methods:
                sub = per_cut[(per_cut["dataset"] == ds) & (per_cut["loss"] == loss) & (per_cut["method"] == meth)]
                n_cuts = sub["cut"].nunique()
                for shot in SHOTS:
                    v = sub.loc[sub["shot"] == shot]
                    rows.append(dict(dataset=ds, loss=loss, method=meth, shot=shot,
                                     n_classes=int(v["n_classes"].max()) if len(v) else 0,
                                     mean=float(v["acc"].mean()) if len(v) else np.nan,
                                     sd=float(v["acc"].std()) if len(v) > 1 else np.nan, n_cuts=int(n_cuts)))
    return pd.DataFrame(rows)


def shots_markdown(summary: pd.DataFrame, methods: list[str], *, titles: dict, many_above: int,
                   few_below: int) -> str:
    """One block per data set and loss: methods as rows, Many / Medium / Few (+ the classes in each) as
    columns, the best mean of each column in bold."""
    parts = [f"# Table II companion: many / medium / few-shot accuracy (mean test recall of the classes with "
             f"> {many_above}, {few_below}-{many_above}, < {few_below} training images; mean ± sd over cuts)\n"]
    for (ds, loss), g in summary.groupby(["dataset", "loss"], sort=False):
        st = g.set_index(["method", "shot"])
        heads = ["Method"] + [f"{SHOT_NAMES[s]} ({int(st.loc[(methods[0], s), 'n_classes'])} cl.)" for s in SHOTS]
        cells = {(m, s): (st.loc[(m, s), "mean"], st.loc[(m, s), "sd"]) for m in methods for s in SHOTS}
        parts.append(markdown_block(f"{titles.get(ds, ds)}, {loss_display(loss)}", heads,
                                    [METHOD_NAMES[m] for m in methods], SHOTS, methods, cells, best_along="column"))
    parts.append("Per-class test recall with each class's training count and group: table2_per_class.csv.\n")
    return "\n".join(parts)


def shots_stage(metric_files: list[str], train_files: list[str], runs: list[dict], out_csv: str,
                out_per_class: str, out_md: str, *, datasets: list[str], losses: list[str], methods: list[str],
                titles: dict | None, many_above: int, few_below: int) -> pd.DataFrame:
    """The ``table2_shots`` rule: ``runs`` [{dataset, cut, loss}] in the order of ``metric_files`` and
    ``train_files`` (each run's evaluate_run CSV and train embeddings, whose labels give the counts)."""
    metrics = pd.concat([pd.read_csv(f, dtype={"loss": str, "method": str, "dataset": str}) for f in metric_files],
                        ignore_index=True)
    methods = table2_methods(methods, metrics["method"].unique())
    counts, names = {}, {}
    for run, path in zip(runs, train_files, strict=True):
        df = pd.read_parquet(path, columns=["label"])
        key = (run["dataset"], int(run["cut"]), run["loss"])
        names[key] = list(df.attrs.get("class_names") or [])
        counts[key] = np.bincount(df["label"].to_numpy(), minlength=len(names[key]))
    per_class = per_class_rows(metrics, counts, names, many_above, few_below)
    per_class.to_csv(out_per_class, index=False, float_format="%.6f")
    summary = shot_summary(per_class, datasets, losses, methods)
    summary.to_csv(out_csv, index=False, float_format="%.6f")
    with open(out_md, "w") as fh:
        fh.write(shots_markdown(summary, methods, titles=titles or {}, many_above=many_above, few_below=few_below))
    return summary
