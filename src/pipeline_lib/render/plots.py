"""Plot plumbing: matplotlib (Agg) with seaborn's theme, the PNG + CSV writer (each figure's CSV holds exactly
what it plots), grouped bar charts.  Imports nothing of the package."""
from __future__ import annotations

import os

import pandas as pd


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper")
    return plt, sns


def save(fig, png: str, frame: pd.DataFrame, csv: str) -> pd.DataFrame:
    os.makedirs(os.path.dirname(png) or ".", exist_ok=True)
    fig.savefig(png, dpi=120, bbox_inches="tight", metadata={"Software": None})
    frame.to_csv(csv, index=False, float_format="%.6g")
    return frame


def bars(frame: pd.DataFrame, *, x: str, hue: str, y: str, ylabel: str, out_png: str, out_csv: str,
         col: str | None = None, row: str | None = None, hline: float | None = None, suptitle: str = ""):
    plt, sns = pyplot()
    g = sns.catplot(data=frame, kind="bar", x=x, y=y, hue=hue, col=col, row=row, errorbar=None, height=3.2,
                    aspect=1.4, sharey=False)
    g.set_axis_labels("", ylabel)
    if hline is not None:
        for ax in g.axes.flat:
            ax.axhline(hline, color="black", lw=0.8, ls="--")
    if suptitle:
        g.figure.suptitle(suptitle, y=1.03)
    save(g.figure, out_png, frame, out_csv)
    plt.close(g.figure)
    return frame
