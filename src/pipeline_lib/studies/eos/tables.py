"""The EOS paper's sensitivity studies (§V-E) and the EOS variant study, from the runs' test predictions.

    Table IV      reports/table4     EOS with K in {10, 50, 100, 200, 300}, cross-entropy backbones
    Table V       reports/table5     other backbones (ResNet-56, WideResNet, DenseNet), without and with EOS
    §V-E3         reports/pixel_eos  EOS in pixel space (a backbone trained on EOS-balanced images) against
                                     EOS in embedding space (the three-phase pipeline), both cross-entropy
    variants      reports/eos_variants  EOS as the paper's text reads it, as its printed pseudo-code reads it,
                                     the authors' off-by-one, r in [0, 0.5), next to SMOTE, with the share
                                     of synthetic rows whose nearest original is of another class

Every study reads files with ``label`` and ``pred`` columns (a head's ``test_predictions.parquet``, or the
test embeddings for a phase-1 network) and computes the metrics of :mod:`pipeline_lib.core.metrics`; a record is
one such file with its keys (dataset, cut, loss, k, arch, method ...).  The CSVs are tidy: the keys,
``metric``, then ``mean``, ``sd`` (sample sd over cuts; NaN for one cut) and ``n_cuts``; the variant study's
CSV keeps one row per cut (``value``).  Metrics: ``bac``, ``gm_authors``, ``fm_authors`` (the paper's BAC,
GM, FM, as the authors computed them, see :mod:`pipeline_lib.studies.eos.table2`) and, for the variants,
``label_conflict``.

Label-conflict share (our definition; the papers give none): among the synthetic rows of an oversampled
file, the share whose nearest ORIGINAL row (Euclidean, in the embedding space where they were made) has
another label.  A synthetic point placed inside another class's region by an interpolation scores 1;
SMOTE's points, made between two same-class rows, score 1 only where classes overlap.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ...core.metrics import prediction_metrics
from ...render.names import loss_display
from ...render.tables import markdown_block, write_table
from .table2 import CSV_FLOAT, TABLE2_METRICS


def label_conflict_share(oversampled_parquet: str) -> float:
    """The share of synthetic rows whose nearest original row has another label (module docstring);
    NaN for a file without synthetic rows."""
    from sklearn.neighbors import NearestNeighbors

    from ...core import embeddings as emb

    df, _ = emb.read(oversampled_parquet)
    syn = df["is_synthetic"].to_numpy()
    if not syn.any():
        return float("nan")
    X, y = emb.features(df), df["label"].to_numpy()
    nn = NearestNeighbors(n_neighbors=1).fit(X[~syn])
    nearest = nn.kneighbors(X[syn], return_distance=False)[:, 0]
    return float(np.mean(y[~syn][nearest] != y[syn]))


def per_cut(records: list[dict], metrics=tuple(TABLE2_METRICS)) -> pd.DataFrame:
    """Tidy per-cut frame: the record's keys (all but ``predictions`` / ``oversampled``), metric, value.
    A record with ``oversampled`` adds the ``label_conflict`` of that file."""
    rows = []
    for r in records:
        keys = {k: v for k, v in r.items() if k not in ("predictions", "oversampled")}
        values = prediction_metrics(r["predictions"])
        values = {m: values[m] for m in metrics}
        if r.get("oversampled"):
            values["label_conflict"] = label_conflict_share(r["oversampled"])
        rows += [{**keys, "metric": m, "value": float(v)} for m, v in values.items()]
    return pd.DataFrame(rows)


def summarise(tidy: pd.DataFrame) -> pd.DataFrame:
    """Mean, sample sd and number of cuts of every (keys, metric) of a per-cut frame, in first-seen order."""
    keys = [c for c in tidy.columns if c not in ("cut", "value", "metric")] + ["metric"]
    g = tidy.groupby(keys, sort=False)["value"]
    out = g.agg(mean="mean", sd="std", n_cuts="count").reset_index()
    return out


def _summary(records: list[dict], titles: dict) -> pd.DataFrame:
    """:func:`summarise` of the records' per-cut metrics, data sets under their titles."""
    summary = summarise(per_cut(records))
    summary["dataset"] = [titles.get(d, d) for d in summary["dataset"]]
    return summary


def wide_markdown(summary: pd.DataFrame, rows: list[str], cols: str | None, metrics: dict, title: str,
                  labels: dict | None = None, notes: str = "", lower_better=("label_conflict",),
                  best_along: str = "row") -> str:
    """A readable markdown table, cells 'mean ± sd'.  With ``cols``: one block per metric, a line per
    distinct ``rows`` tuple, the ``cols`` values side by side, the best mean of each line in bold.  Without:
    one block, a column per metric, the best mean of each column in bold.  ``best_along='column'`` marks the
    best of each column of a block instead.  ``labels`` renames values in cells and heads; a metric in
    ``lower_better`` is not marked (its direction is no verdict)."""
    labels = labels or {}
    name = lambda v: str(labels.get(v, v))  # noqa: E731
    stats = {tuple(r[k] for k in rows) + ((r[cols],) if cols else ()) + (r["metric"],): (r["mean"], r["sd"])
             for _, r in summary.iterrows()}
    keys = list(dict.fromkeys(tuple(r[k] for k in rows) for _, r in summary.iterrows()))
    row_labels = [[name(v) for v in key] for key in keys]
    heads = [r.capitalize() for r in rows]
    if cols is None:
        cells = {(key, m): stats.get(key + (m,), (np.nan, np.nan)) for key in keys for m in metrics}
        return (f"# {title}\n\n" + markdown_block("", heads + list(metrics.values()), row_labels, list(metrics),
                                                   keys, cells, best_along="column")
                + (f"\n{notes}\n" if notes else ""))
    col_values = list(dict.fromkeys(summary[cols]))
    blocks = []
    for m, label in metrics.items():
        cells = {(key, c): stats.get(key + (c, m), (np.nan, np.nan)) for key in keys for c in col_values}
        blocks.append(markdown_block(label, heads + [name(c) for c in col_values], row_labels, col_values, keys,
                                     cells, best_along, best=None if m in lower_better else "max"))
    return f"# {title}\n\n" + "\n".join(blocks) + (f"\n{notes}\n" if notes else "")


_METRIC_NOTE = ("BAC: balanced accuracy; GM, FM: as the authors computed them (imbalanced-learn's macro G-mean, "
                "macro-F1 with zero_division=1); mean ± sample sd over cuts.")


def table4_stage(records: list[dict], out_csv: str, out_md: str, *, titles: dict, table2_k: int) -> pd.DataFrame:
    """EOS paper Table IV: records {dataset, cut, k, predictions} of the cross-entropy EOS heads."""
    summary = _summary(records, titles)
    summary.insert(1, "loss", "ce")
    summary.insert(2, "method", "eos")
    note = (f"EOS heads on the cross-entropy embeddings, one run per K (K in the run's path, "
            f"data/heads/<dataset>/cut<cut>/ce/eos-k<K>/); K = {table2_k} is the Table II run. " + _METRIC_NOTE)
    write_table(summary, out_csv=out_csv, float_format=CSV_FLOAT,
                md=wide_markdown(summary, ["k"], "dataset", TABLE2_METRICS,
                                           "Table IV: EOS with K nearest neighbours (cross-entropy)", notes=note,
                                           best_along="column"),
                out_md=out_md)
    return summary


ARCH_NOTE = ("Backbones: ResNet-56 (He et al. 2016, option-A shortcuts); WideResNet WRN-d-k (Zagoruyko & "
             "Komodakis 2016); DenseNet-BC-L-k (Huang et al. 2017); see pipeline_lib.core.models for the variants "
             "and why. Each is trained with cross-entropy as the data set's Table II backbone (the WideResNet for "
             "its epochs_scale share of the epochs), then EOS retrains its head.")


def model_family(arch: str) -> str:
    """The paper's name of a backbone's family (Table V's rows): resnet<depth>, wideresnet, densenet."""
    return {"wrn": "wideresnet", "densenet": "densenet"}.get(re.match(r"[a-z]+", arch)[0], arch)


def table5_stage(records: list[dict], out_csv: str, out_md: str, *, titles: dict, k: int) -> pd.DataFrame:
    """EOS paper Table V: records {dataset, cut, arch, method: baseline | eos, predictions}; columns model
    (:func:`model_family`), loss (ce) and k (EOS rows) are added for the scorecard."""
    summary = _summary(records, titles)
    summary.insert(1, "model", [model_family(a) for a in summary["arch"]])
    summary.insert(2, "loss", "ce")
    summary.insert(4, "k", [str(k) if m == "eos" else "" for m in summary["method"]])
    labels = {"baseline": "Baseline", "eos": "EOS"}
    write_table(summary, out_csv=out_csv, float_format=CSV_FLOAT,
                md=wide_markdown(summary, ["dataset", "arch"], "method", TABLE2_METRICS,
                                           "Table V: backbones without and with EOS (cross-entropy)", labels,
                                           notes=ARCH_NOTE + " " + _METRIC_NOTE), out_md=out_md)
    return summary


def pixel_eos_stage(records: list[dict], out_csv: str, out_md: str, *, titles: dict) -> pd.DataFrame:
    """§V-E3: records {dataset, cut, space: pixel | embedding, predictions}."""
    summary = _summary(records, titles)
    summary.insert(1, "loss", "ce")
    summary.insert(2, "method", ["pre_eos" if sp == "pixel" else "eos" for sp in summary["space"]])
    labels = {"pixel": "EOS in pixel space (pre-processing)", "embedding": "EOS in embedding space (three-phase)"}
    note = ("Pixel space: the cut's training images, flattened, balanced with EOS (same K and options) and a "
            "cross-entropy backbone trained on them, as the paper's Table I pre-processing rows. Embedding space: "
            "the Table II EOS run (cross-entropy). " + _METRIC_NOTE)
    write_table(summary, out_csv=out_csv, float_format=CSV_FLOAT,
                md=wide_markdown(summary, ["dataset", "space"], None, TABLE2_METRICS,
                                           "EOS in pixel space vs embedding space (§V-E3)", labels, notes=note),
                out_md=out_md)
    return summary


VARIANT_LABELS = {"smote": "SMOTE", "eos_text": "EOS text", "eos_pseudocode": "EOS pseudo-code",
                  "eos_authors": "EOS authors", "eos_half_gap": "EOS r<0.5"}


def variants_stage(records: list[dict], out_csv: str, out_md: str, *, titles: dict, k: int,
                   custom: dict | None = None) -> pd.DataFrame:
    """The EOS variant study: records {dataset, loss, cut, method, predictions, oversampled}; CSV per cut.
    ``custom``: {run name: one line (class, package, version, params)} of your own samplers among the methods."""
    tidy = per_cut(records)
    tidy.to_csv(out_csv, index=False, float_format="%.6f")
    summary = summarise(tidy)
    summary["dataset"] = [titles.get(d, d) for d in summary["dataset"]]
    summary["loss"] = [loss_display(v) for v in summary["loss"]]
    note = (f"K = {k}. EOS text: base + r (enemy - base), r ~ U[0, 1) (the paper's §III text, the default). "
            "Pseudo-code: base + r (base - enemy) (the printed Algorithm 1). Authors: the off-by-one of EOS.py "
            "(partner read one rank too close: the base itself or often a same-class point). r<0.5: the text's "
            "EOS with r ~ U[0, 0.5). Conflict: the share of synthetic rows whose nearest original row (in the "
            "embedding space) is of another class. " + _METRIC_NOTE)
    if custom:
        note += " Your own samplers: " + "; ".join(custom.values()) + "."
    with open(out_md, "w") as fh:
        fh.write(wide_markdown(summary, ["dataset", "loss"], "method", {"bac": "BAC", "label_conflict": "Conflict"},
                               "EOS variants next to SMOTE (BAC and label-conflict share)", VARIANT_LABELS,
                               notes=note))
        fh.write("\n" + wide_markdown(summary, ["dataset", "loss"], "method",
                                      {"gm_authors": "GM", "fm_authors": "FM"}, "GM and FM", VARIANT_LABELS))
    return tidy


def table3_stage(records: list[dict], out_csv: str, out_md: str, *, titles: dict, k: int) -> pd.DataFrame:
    """EOS paper Table III: records {dataset, loss, cut, method: gamo | bagan | cgan | eos, predictions}."""
    summary = _summary(records, titles)
    summary.insert(4, "k", [str(k) if m == "eos" else "" for m in summary["method"]])
    shown = summary.assign(loss=[loss_display(v) for v in summary["loss"]])
    labels = {"gamo": "GAMO", "bagan": "BAGAN", "cgan": "CGAN", "eos": "EOS"}
    note = ("GAMO, BAGAN, CGAN: a backbone trained with the row's loss on the cut balanced by that GAN (one GAN per "
            "data set and cut; pipeline_lib.sampling.gans for the architectures and settings). EOS: the Table II run "
            f"(K = {k}). " + _METRIC_NOTE)
    write_table(summary, out_csv=out_csv, float_format=CSV_FLOAT,
                md=wide_markdown(shown, ["dataset", "loss"], "method", TABLE2_METRICS,
                                           "Table III: GAN-based oversampling vs EOS", labels, notes=note), out_md=out_md)
    return summary


__all__ = ["prediction_metrics", "label_conflict_share", "per_cut", "summarise", "wide_markdown", "table4_stage",
           "table3_stage", "table5_stage", "pixel_eos_stage", "variants_stage"]
