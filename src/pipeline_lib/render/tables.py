"""Tables: Markdown (one table, or a block per metric with each row's best in bold), the 'mean ± sd' cell and
the CSV + Markdown writer every study uses.  Imports nothing of the package."""
from __future__ import annotations

import numpy as np
import pandas as pd


def markdown(title: str, heads: list[str], rows: list[list[str]]) -> str:
    lines = ([f"# {title}", ""] if title else []) + ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def mean_sd(mean: float, sd: float = np.nan, digits: int = 4, missing: str = "n/a") -> str:
    """A table cell: 'mean ± sd' to ``digits`` decimals, the mean alone when sd is NaN (one cut / run),
    ``missing`` without a mean.  The EOS tables (:func:`markdown_block`) show a missing cell as '—', the DA,
    Magnitude and Fragility tables as 'n/a' (as each has since its first release)."""
    if np.isnan(mean):
        return missing
    return f"{mean:.{digits}f}" if np.isnan(sd) else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def markdown_block(title: str, heads: list[str], row_labels: list, col_keys, row_keys, cells: dict,
                   best_along: str = "row", best: str = "max") -> str:
    """One readable Markdown table: a row per ``row_keys`` (its leading cells ``row_labels``, a string or a
    list each), a column per ``col_keys``, ``cells[(row key, col key)] = (mean, sd)`` shown as 'mean ± sd'
    (:func:`mean_sd`; a missing cell '—'); the best mean (``best``: 'max' or 'min'; rounded to the 4
    decimals shown, so ties are all marked; a row or column that ties throughout is not marked) of each row (``best_along='row'``) or column ('column') in
    bold, none with ``best=None``."""
    means = {k: round(float(v[0]), 4) for k, v in cells.items() if not np.isnan(v[0])}
    pick = max if best == "max" else min

    def winner(keys):  # none where every value ties (nothing to tell apart)
        vals = [means[k] for k in keys if k in means]
        return pick(vals) if best and len(set(vals)) > 1 else None

    win = ({r: winner([(r, c) for c in col_keys]) for r in row_keys} if best_along == "row"
           else {c: winner([(r, c) for r in row_keys]) for c in col_keys})
    rows = []
    for r, lab in zip(row_keys, row_labels):
        out = [lab] if isinstance(lab, str) else list(lab)
        for c in col_keys:
            mean, sd = cells.get((r, c), (np.nan, np.nan))
            text = mean_sd(mean, sd, missing="—")
            w = win[r] if best_along == "row" else win[c]
            out.append(f"**{text}**" if w is not None and (r, c) in means and means[(r, c)] == w else text)
        rows.append(out)
    return markdown("", heads, rows) if not title else f"## {title}\n\n" + markdown("", heads, rows)


def write_table(table: pd.DataFrame, md: str, out_csv: str, out_md: str,
                float_format: str | None = "%.6g") -> pd.DataFrame:
    """Write a table as CSV (``float_format``: the EOS tables keep '%.6f', the other studies '%.6g'; None =
    pandas' repr, for counts) and its Markdown twin ``md``; returns ``table``."""
    table.to_csv(out_csv, index=False, float_format=float_format)
    with open(out_md, "w") as fh:
        fh.write(md)
    return table
