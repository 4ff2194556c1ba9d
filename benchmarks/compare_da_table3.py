"""Our Table III (reports/da/table3.csv) against the paper's 180 cells (benchmarks/paper_da_table3.csv).

    .venv/bin/python benchmarks/compare_da_table3.py reports/da/table3.csv [--paper benchmarks/paper_da_table3.csv]
                                                     [--top 10] [--no-cells]

Prints, per classifier (SVM, LG, NN) and metric (BAC, FM), the mean |ours - paper| over the data sets and
methods both tables have, then the largest gaps and the table of every cell (ours, paper, difference).
Our SVM kernel (the table's ``svm_kernel`` column) is printed with it: the paper used scikit-learn's
defaults (RBF).
"""
import argparse
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
MODELS = ("svm", "lg", "nn")
METRICS = ("bac", "fm")
NAMES = {"svm": "SVM", "lg": "LG", "nn": "NN", "bac": "BAC", "fm": "FM"}


def cells(ours: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, method, model, metric) present in both tables: ours, paper, diff, abs_diff."""
    rows = []
    keyed = ours.set_index(["dataset", "method"])
    for r in paper.itertuples(index=False):
        if (r.dataset, r.method) not in keyed.index:
            continue
        mine = keyed.loc[(r.dataset, r.method)]
        for model in MODELS:
            for metric in METRICS:
                col = f"{model}_{metric}_mean"
                if col not in mine:
                    continue
                o, p = float(mine[col]), float(getattr(r, f"{model}_{metric}"))
                rows.append({"dataset": r.dataset, "method": r.method, "model": model, "metric": metric,
                             "ours": o, "paper": p, "diff": o - p, "abs_diff": abs(o - p)})
    return pd.DataFrame(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("table3", help="our reports/da/table3.csv")
    ap.add_argument("--paper", default=str(HERE / "paper_da_table3.csv"))
    ap.add_argument("--top", type=int, default=10, help="how many of the largest gaps to list")
    ap.add_argument("--no-cells", action="store_true", help="leave out the table of every cell")
    a = ap.parse_args()
    ours = pd.read_csv(a.table3)
    paper = pd.read_csv(a.paper, comment="#")
    c = cells(ours, paper)
    if c.empty:
        raise SystemExit("no (dataset, method) in common between the two tables")
    kernel = ", ".join(sorted(ours["svm_kernel"].dropna().astype(str).unique())) if "svm_kernel" in ours else "unknown"
    runs = ", ".join(str(n) for n in sorted(ours["n_runs"].unique())) if "n_runs" in ours else "?"
    print(f"{a.table3}: {len(c)} of {len(paper) * len(MODELS) * len(METRICS)} paper cells compared; "
          f"runs per cell: {runs}; our SVM kernel: {kernel} (paper: RBF, scikit-learn defaults)\n")
    print("mean |ours - paper| (mean signed difference, max |difference|, cells)")
    summary = c.groupby(["model", "metric"], sort=False).agg(mean_abs=("abs_diff", "mean"), mean_diff=("diff", "mean"),
                                                            max_abs=("abs_diff", "max"), n=("abs_diff", "size"))
    for (model, metric), s in summary.iterrows():
        print(f"  {NAMES[model]:4s} {NAMES[metric]:4s} {s.mean_abs:.3f}  ({s.mean_diff:+.3f}, {s.max_abs:.3f}, {int(s.n)})")
    per_model = c.groupby("model", sort=False)["abs_diff"].mean()
    print("  per classifier, both metrics: " + ", ".join(f"{NAMES[m]} {v:.3f}" for m, v in per_model.items())
          + f"; all {c['abs_diff'].mean():.3f}")
    print(f"\nlargest {a.top} gaps")
    top = c.sort_values("abs_diff", ascending=False).head(a.top)
    for r in top.itertuples():
        print(f"  {r.dataset:13s} {r.method:7s} {NAMES[r.model]:4s} {NAMES[r.metric]:4s} ours {r.ours:.4f} "
              f"paper {r.paper:.4f} diff {r.diff:+.4f}")
    if not a.no_cells:
        print("\nevery cell: ours / paper (difference)")
        wide = c.assign(cell=[f"{o:.3f}/{p:.3f} ({d:+.3f})" for o, p, d in zip(c["ours"], c["paper"], c["diff"])])
        wide["column"] = wide["model"].map(NAMES) + " " + wide["metric"].map(NAMES)
        table = wide.pivot_table(index=["dataset", "method"], columns="column", values="cell", aggfunc="first",
                                 sort=False)
        cols = [f"{NAMES[m]} {NAMES[x]}" for m in MODELS for x in METRICS if f"{NAMES[m]} {NAMES[x]}" in table]
        with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_rows", 100):
            print(table[cols].to_string())


if __name__ == "__main__":
    main()
