"""The CNN analyses of "The Hidden Influence of Latent Feature Magnitude When Learning with Imbalanced Data"
(Dablain & Chawla, arXiv 2407.10165): Fig. 1 (percentage of classification embeddings needed to predict an
instance), Fig. 5 (sorted latent feature magnitudes of the minority class) and the top-k share /
frequency-vs-magnitude table, on the models of the image study of "How Data Augmentation Works"
(:mod:`pipeline_lib.studies.da_images`).  The loader of latent features (:func:`model_latents`) is shared with
:mod:`pipeline_lib.studies.fragility`.

Sources.  The paper's seed text has only captions (/work/shared/papers/hidden_influence_of_latent_feature_
magnitude.txt); the definitions below follow the authors' scripts as described in
/work/shared/reference/authors_code.md §3.2 (``cif_CE_mag_all.py``, ``cif_ce_info.py``) and §3.3
(``img_CE_top.py``) and the reference notes /work/shared/reference/latent_magnitude_and_fragility_methods.md
§A.2-A.3 ("the notes").  Where neither defines something the choice is marked *ours*.

Models and records
    Models ``base``, ``balanced``, ``ros``, ``remix``, ``dsm``, ``eos`` of a cut record ``{"dataset", "cut",
    "title", "imbalance", "train_indices", "test_indices", "models": {model: {"train": parquet, "test":
    parquet}}}``: each model's latents files (:mod:`pipeline_lib.core.latents`; Base, DSM and EOS share Base's one
    extraction there), read, never recomputed from a network; whichever models are present are analysed
    (LDAM's cosine head is not in these analyses and is ignored; a file whose head is not an ``nn.Linear``
    raises).  A comparison with Base raises a one-line ``ValueError`` when a cut has no Base model.  The
    ``sample_id`` and ``label`` of a latents file must equal the cut's index files (checked), or, for a model
    with ``model["train_indices"]`` (the Balanced model's balanced draw), that file for the train split.

Latent features (FE), weights and logits
    FE f(x) in R^64: the global-average-pooled, post-ReLU output of ``ResNetCifar.features`` (eval mode,
    images normalised with the backbone's mean / std, no augmentation) of the cut's train images
    (``train_x[train_indices.sample_id]``) and test images (``test_x[test_indices.sample_id]``) [notes
    A.1].  W (C x 64), b (C): the model's ``nn.Linear`` head.  Logits z = W f + b are recomputed in float64
    from the float32 FE; the predicted class p = argmax z (ties: lower index) and the runner-up q = argmax
    of z over the classes other than p.

Classification embeddings (CE) [authors_code §3.2 step 3; notes A.3]
    CE = f ⊙ W[p] (element-wise), so z_p = sum(CE) + b_p.  For every instance the CE are those of its
    PREDICTED class, as the authors' scripts (also for misclassified instances).

Fig. 1: CE needed to predict an instance (:func:`ce_needed_multiclass`) [authors_code §3.2, notes A.3]
    Sort CE descending (s_1 >= s_2 >= ...), N = sum of the negative CE.  The count is the smallest k in
    0..64 with  b + N + s_1 + ... + s_k >= z_q  (the runner-up's full logit), 64 if none; 0 when the bias
    and the negative CE alone reach it.  This is the script's greedy loop, via
    :func:`pipeline_lib.core.measures.ce_needed`; like the script the partial sums run over the sorted CE, so
    past the positive entries the negative ones would be counted twice (this only happens when the target
    is never reached, i.e. with ``bias="true"`` on a misclassified instance, and then k = 64 either way).
    ``bias="predicted"`` (default): b = b[p], so the count always stops at or before the last positive CE.
    ``bias="true"``: b = b[y], the true class's bias, as ``cif_CE_mag_all.py`` (differs only for
    misclassified instances).  Percentage = 100 k / 64.  Per class c: mean over the test instances with
    label c and prediction c (``instances="correct"``, the true positives of ``cif_ce_info.py``) or over all
    test instances with label c (``instances="all"``); NaN when there is none.  The figure shows the mean
    over cuts (the authors average their 3 runs); the CSV holds every cut.  Models: Base, ROS, REMIX, DSM,
    EOS ("a base model ... and ... over-sampling methods", Fig. 1 caption; Balanced is not an
    over-sampling model).

Fig. 5: sorted latent feature magnitudes of the minority class (:func:`class_means`)
    Minority class = the class with the smallest count in the cut's (imbalanced) training set, ties -> the
    highest index (CIFAR-10: class 9, truck, the caption's class) (*ours* in general).  Magnitude of
    feature j = its mean over the class's correctly classified test instances of CE_j = f_j W[p, j]
    (``value="ce"``, the notes' reading "probably class-mean CE"; signed, so a negative contribution is
    plotted below 0) or of f_j (``value="fe"``, the FE themselves; the caption's "latent features").  When
    no instance of the class is classified correctly the mean is over all its instances (flagged
    ``fallback``).  The 64 values are sorted descending (rank on the x axis, the feature index of each rank
    in the CSV: the caption plots by index, but different networks' indices are not comparable, so
    sorting puts Base and a method on one axis -- *ours*).  The figure shows the mean over cuts of the
    value at each rank, Base against each of Balanced, ROS, REMIX, DSM, EOS; ``split="train"`` uses the
    training instances instead of the test ones.

Top-k share and frequency vs magnitude (:func:`top_k_share`, :func:`top_k_frequency`,
:func:`frequency_magnitude_correlation`)
    Per class c, m = the mean CE vector over its correctly classified test instances (``img_CE_top.py``,
    authors_code §3.3).  Share of the top-k: ``share = sum of the k largest m / sum(m)`` (the script's
    "reg" ratio; sum(m) = mean (z_p - b_p) is the predicted logit without its bias) and ``share_pos =
    sum of the k largest m / sum of the positive m`` (its "pos" ratio); NaN when the denominator is <= 0
    (*ours*: a ratio to a non-positive total has no meaning as a share); ``share`` exceeds 1 when the other
    entries of m sum to a negative value, as in the script.  k = 1, 3, 5, 10 by default (the
    script's k = int(0.1 d) = 6 can be passed in ``ks``).  Frequency of feature j for top-k: the fraction
    of the same instances whose own k largest CE include j (the issue's "how often a feature is among an
    instance's top-k"; *ours*), and ``spearman`` = Spearman's rank correlation over the 64 features between
    that frequency and m_j (scipy.stats.spearmanr; NaN when either is constant).  ``spearman_needed``: the
    same with the authors' RQ3 frequency, the fraction of the instances whose Fig. 1 greedy set (the CE
    counted by :func:`ce_needed_multiclass`) includes j (``cif_CE_mag_all.py``; the authors pool all
    instances of the class, here the same ``instances`` as the rest of the table).  Ties in every top-k:
    the lower feature index first.  The table is the mean ± sd over the cuts where a value is defined
(:func:`pipeline_lib.core.measures.mean_sd_n` with ``skip_nan``: a class with no correctly classified instance in one cut is left out of that cut's
term instead of making the mean NaN; ``n_cuts`` counts the cuts with a defined top-k share).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..core import measures
from ..core.image_models import LINEAR_HEAD_MODELS
from ..core.image_study import SPLITS, logits, model_latents, require_base, study, train_counts
from ..core.measures import (INSTANCES, check_choice, frequency_magnitude_correlation, instance_mask, mean_sd_n,
                             membership, minority_class, top_k_indices)
from ..render.names import MODEL_NAMES
from ..render.plots import bars
from ..render.tables import markdown, mean_sd, write_table

FIG1_MODELS = ("base", "ros", "remix", "dsm", "eos")
FIG5_METHODS = ("balanced", "ros", "remix", "dsm", "eos")
BIAS = ("predicted", "true")
VALUES = ("ce", "fe")


# --- pure measures ---------------------------------------------------------------------------------------------

def predicted_and_runner_up(z) -> tuple[np.ndarray, np.ndarray]:
    """(p, q): argmax of each row of the logits and argmax over the other classes (ties: lower index)."""
    z = np.asarray(z, np.float64)
    if z.shape[1] < 2:
        raise ValueError("a runner-up class needs at least 2 classes")
    p = z.argmax(1)
    rest = z.copy()
    rest[np.arange(len(z)), p] = -np.inf
    return p, rest.argmax(1)


def classification_embeddings(fe, weight, classes) -> np.ndarray:
    """CE = f ⊙ W[c] per row, c = ``classes`` (the predicted classes in the papers' definition)."""
    return np.asarray(fe, np.float64) * np.asarray(weight, np.float64)[np.asarray(classes)]


def ce_needed_multiclass(fe, weight, bias, y_true=None, bias_of: str = "predicted"):
    """Per instance the Fig. 1 greedy count (see the module notes): ``(counts (n,), used: list of index
    arrays (the CE added, largest first), p (n,), q (n,))``.  ``bias_of="true"`` (the authors' script)
    needs ``y_true``."""
    check_choice("bias", bias_of, BIAS)
    fe, weight, bias = np.asarray(fe, np.float64), np.asarray(weight, np.float64), np.asarray(bias, np.float64)
    z = logits(fe, weight, bias)
    p, q = predicted_and_runner_up(z)
    if bias_of == "true":
        if y_true is None:
            raise ValueError('bias "true" needs the true labels')
        b = bias[np.asarray(y_true, np.int64)]
    else:
        b = bias[p]
    ce = classification_embeddings(fe, weight, p)
    competing = z[np.arange(len(z)), q]
    counts, used = np.empty(len(fe), np.int64), []
    for i in range(len(fe)):
        counts[i], idx = measures.ce_needed(ce[i], float(b[i]), float(competing[i]))
        used.append(idx)
    return counts, used, p, q


def class_mean_counts(counts, y_true, pred, num_classes: int, instances: str = "correct"):
    """(mean count per class (C,), instances per class (C,)); NaN where a class has no instance."""
    counts = np.asarray(counts, np.float64)
    means, n = np.full(num_classes, np.nan), np.zeros(num_classes, np.int64)
    for c in range(num_classes):
        sel = instance_mask(y_true, pred, c, instances)
        n[c] = int(sel.sum())
        if n[c]:
            means[c] = counts[sel].mean()
    return means, n


def class_means(values, y_true, pred, num_classes: int, instances: str = "correct", fallback: bool = False):
    """(per-class mean rows (C, d), instances used (C,), fallback flags (C,)).  With ``fallback`` a class
    with no correctly classified instance is averaged over all its instances (flagged); NaN row when a class
    has no instance used."""
    values = np.asarray(values, np.float64)
    means = np.full((num_classes, values.shape[1]), np.nan)
    n, flags = np.zeros(num_classes, np.int64), np.zeros(num_classes, bool)
    for c in range(num_classes):
        sel = instance_mask(y_true, pred, c, instances)
        if not sel.any() and fallback and instances == "correct":
            sel, flags[c] = instance_mask(y_true, pred, c, "all"), True
        n[c] = int(sel.sum())
        if n[c]:
            means[c] = values[sel].mean(0)
    return means, n, flags


def sorted_magnitudes(vector) -> tuple[np.ndarray, np.ndarray]:
    """(values sorted descending, their feature indices); ties -> lower index first."""
    v = np.asarray(vector, np.float64)
    order = measures.top_k(v, len(v))
    return v[order], order


def top_k_share(mean_ce, k: int) -> tuple[float, float]:
    """(sum of the k largest / sum of all, sum of the k largest / sum of the positive) of a mean CE vector;
    NaN where the denominator is <= 0."""
    m = np.asarray(mean_ce, np.float64)
    if not 1 <= k <= len(m):
        raise ValueError(f"k must be in 1..{len(m)}, got {k}")
    if np.isnan(m).any():
        return float("nan"), float("nan")
    top = m[measures.top_k(m, k)].sum()
    total, positive = m.sum(), m[m > 0].sum()
    return (float(top / total) if total > 0 else float("nan"),
            float(top / positive) if positive > 0 else float("nan"))


def top_k_frequency(values, k: int) -> np.ndarray:
    """(d,) fraction of rows whose k largest values include feature j (NaN for no rows)."""
    v = np.asarray(values, np.float64)
    if not len(v):
        return np.full(v.shape[1], np.nan)
    return membership(top_k_indices(v, k), v.shape[1]).mean(0)


# --- Fig. 1 ----------------------------------------------------------------------------------------------------

def ce_count_frame(cuts: list[dict], bias: str = "predicted", instances: str = "correct",
                   models=FIG1_MODELS) -> pd.DataFrame:
    """One row per dataset (title) / cut / model / class: n_instances, mean_count, pct (= 100 mean_count / d),
    features (d), train_count."""
    check_choice("bias", bias, BIAS)
    check_choice("instances", instances, INSTANCES)
    _, titles, _ = study(cuts)
    rows = []
    for cut in cuts:
        for m, lat in model_latents(cut, models).items():
            counts, _, p, _ = ce_needed_multiclass(lat.test_fe, lat.weight, lat.bias, lat.test_y, bias)
            means, n = class_mean_counts(counts, lat.test_y, p, lat.num_classes, instances)
            tc = train_counts(cut, lat.num_classes)
            d = lat.test_fe.shape[1]
            rows += [{"dataset": titles[cut["dataset"]], "cut": cut["cut"], "model": MODEL_NAMES[m], "class": str(c),
                      "n_instances": int(n[c]), "mean_count": means[c], "pct": 100 * means[c] / d, "features": d,
                      "train_count": int(tc[c]), "bias": bias, "instances": instances}
                     for c in range(lat.num_classes)]
    return pd.DataFrame(rows, columns=["dataset", "cut", "model", "class", "n_instances", "mean_count", "pct",
                                       "features", "train_count", "bias", "instances"])


def fig1_stage(cuts: list[dict], out_png: str, out_csv: str, *, bias: str = "predicted", instances: str = "correct") -> pd.DataFrame:
    """The Fig. 1 rule: percentage of CE needed per instance, per class (bars: mean over cuts), per data set,
    for Base, ROS, REMIX, DSM, EOS (those present); the CSV holds every cut's value."""
    frame = ce_count_frame(cuts, bias, instances)
    if frame.empty:
        raise ValueError("fig1: none of Base, ROS, REMIX, DSM, EOS is in the records")
    which = "correctly classified" if instances == "correct" else "all"
    return bars(frame, x="model", y="pct", hue="class", col="dataset", ylabel="% of the 64 CE needed",
                 out_png=out_png, out_csv=out_csv,
                 suptitle=f"CE needed to predict an instance ({which} test instances per class; mean over cuts)")


# --- Fig. 5 ----------------------------------------------------------------------------------------------------

def minority_magnitude_frame(cuts: list[dict], value: str = "ce", instances: str = "correct", split: str = "test") -> pd.DataFrame:
    """One row per dataset (title) / cut / model / rank: the minority class's sorted mean magnitudes."""
    check_choice("value", value, VALUES)
    check_choice("split", split, SPLITS)
    check_choice("instances", instances, INSTANCES)
    _, titles, _ = study(cuts)
    rows = []
    for cut in cuts:
        lats = model_latents(cut, ("base",) + FIG5_METHODS)
        if not lats:
            continue
        require_base(lats, f"fig5: {cut['dataset']} cut {cut['cut']}")
        for m, lat in lats.items():
            fe, y = lat.fe(split), lat.labels(split)
            p = lat.pred(split)
            c = minority_class(train_counts(cut, lat.num_classes))
            vals = classification_embeddings(fe, lat.weight, p) if value == "ce" else fe
            means, n, flags = class_means(vals, y, p, lat.num_classes, instances, fallback=True)
            mags, order = sorted_magnitudes(means[c])
            rows += [{"dataset": titles[cut["dataset"]], "cut": cut["cut"], "model": MODEL_NAMES[m], "class": c,
                      "rank": r, "feature": int(order[r]), "magnitude": float(mags[r]), "n_instances": int(n[c]),
                      "fallback": bool(flags[c]), "value": value, "split": split} for r in range(len(mags))]
    return pd.DataFrame(rows, columns=["dataset", "cut", "model", "class", "rank", "feature", "magnitude",
                                       "n_instances", "fallback", "value", "split"])


def fig5_stage(cuts: list[dict], out_png: str, out_csv: str, *, value: str = "ce", instances: str = "correct",
               split: str = "test") -> pd.DataFrame:
    """The Fig. 5 rule: the minority class's 64 sorted magnitudes, one panel per data set (row) and method
    (column) with Base drawn in every panel; lines are the mean over cuts of each rank's value."""
    from ..render.plots import pyplot, save

    frame = minority_magnitude_frame(cuts, value, instances, split)
    if frame.empty:
        raise ValueError("fig5: no Base model in the records")
    datasets = list(dict.fromkeys(frame["dataset"]))
    methods = [MODEL_NAMES[m] for m in FIG5_METHODS if MODEL_NAMES[m] in set(frame["model"])]
    plt, _ = pyplot()
    ncol = max(1, len(methods))
    fig, axes = plt.subplots(len(datasets), ncol, figsize=(3.2 * ncol, 2.6 * len(datasets)), squeeze=False,
                             sharex=True)
    mean = {key: g.groupby("rank")["magnitude"].mean() for key, g in frame.groupby(["dataset", "model"], sort=False)}
    for i, ds in enumerate(datasets):
        minority = sorted(set(frame.loc[frame["dataset"] == ds, "class"]))
        for j in range(ncol):
            ax = axes[i, j]
            lines = [("Base", "0.45")] + ([(methods[j], "C3")] if methods else [])
            for name, color in lines:
                s = mean.get((ds, name))
                if s is not None:
                    ax.plot(s.index, s.to_numpy(), marker=".", ms=3, lw=1, color=color, label=name)
            ax.axhline(0, color="black", lw=0.5)
            ax.set_title(f"{ds}: {methods[j] if methods else 'Base'}", fontsize=9)
            if j == 0:
                ax.set_ylabel(f"mean {value.upper()} (class {'/'.join(map(str, minority))})")
            if i == len(datasets) - 1:
                ax.set_xlabel("feature rank (sorted)")
            ax.legend(fontsize=7)
    fig.suptitle(f"Minority-class latent {value.upper()} magnitudes, sorted ({split} set; mean over cuts)", y=1.01)
    fig.tight_layout()
    save(fig, out_png, frame, out_csv)
    plt.close(fig)
    return frame


# --- top-k share and frequency vs magnitude ---------------------------------------------------------------------

def top_k_frame(cuts: list[dict], ks=(1, 3, 5, 10), instances: str = "correct") -> pd.DataFrame:
    """Per dataset (title) / cut / model / class / k: n_instances, share, share_pos, spearman, spearman_needed."""
    check_choice("instances", instances, INSTANCES)
    ks = [int(k) for k in ks]
    _, titles, _ = study(cuts)
    rows = []
    for cut in cuts:
        for m, lat in model_latents(cut, LINEAR_HEAD_MODELS).items():
            counts, used, p, _ = ce_needed_multiclass(lat.test_fe, lat.weight, lat.bias)
            ce = classification_embeddings(lat.test_fe, lat.weight, p)
            needed = membership(used, ce.shape[1])
            for c in range(lat.num_classes):
                sel = instance_mask(lat.test_y, p, c, instances)
                mean_ce = ce[sel].mean(0) if sel.any() else np.full(ce.shape[1], np.nan)
                rho_needed = (frequency_magnitude_correlation(needed[sel].mean(0), mean_ce) if sel.any()
                              else float("nan"))
                for k in ks:
                    share, share_pos = top_k_share(mean_ce, k)
                    freq = top_k_frequency(ce[sel], k)
                    rows.append({"dataset": titles[cut["dataset"]], "cut": cut["cut"], "model": m, "class": c,
                                 "k": k, "n_instances": int(sel.sum()), "share": share, "share_pos": share_pos,
                                 "spearman": frequency_magnitude_correlation(freq, mean_ce),
                                 "spearman_needed": rho_needed})
    return pd.DataFrame(rows, columns=["dataset", "cut", "model", "class", "k", "n_instances", "share", "share_pos",
                                       "spearman", "spearman_needed"])


TOPK_VALUES = ("share", "share_pos", "spearman", "spearman_needed", "n_instances")


def table_topk(per_cut: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd over cuts (:func:`pipeline_lib.core.measures.mean_sd_n` with ``skip_nan``: NaN cuts left out): dataset, model, class, k,
    <value>_mean, <value>_sd, n_cuts (the cuts with a defined top-k share)."""
    rows = []
    for (ds, m, c, k), g in per_cut.groupby(["dataset", "model", "class", "k"], sort=False):
        row = {"dataset": ds, "model": m, "class": c, "k": k}
        for v in TOPK_VALUES:
            row[f"{v}_mean"], row[f"{v}_sd"], n = mean_sd_n(g[v], skip_nan=True)
            if v == "share":
                row["n_cuts"] = n
        rows.append(row)
    return pd.DataFrame(rows, columns=["dataset", "model", "class", "k"]
                        + [f"{v}_{s}" for v in TOPK_VALUES for s in ("mean", "sd")] + ["n_cuts"])


def table_topk_markdown(t: pd.DataFrame, instances: str = "correct") -> str:
    ks = sorted(set(t["k"]))
    st = t.set_index(["dataset", "model", "class", "k"])
    rows = []
    for (ds, m, c), _ in t.groupby(["dataset", "model", "class"], sort=False):
        cells = [str(ds), MODEL_NAMES[m], str(c)]
        cells += [mean_sd(st.loc[(ds, m, c, k), "share_mean"], st.loc[(ds, m, c, k), "share_sd"], 3) for k in ks]
        cells += [mean_sd(st.loc[(ds, m, c, k), "spearman_mean"], st.loc[(ds, m, c, k), "spearman_sd"], 2) for k in ks]
        r = st.loc[(ds, m, c, ks[0])]
        cells += [mean_sd(r["spearman_needed_mean"], r["spearman_needed_sd"], 2), f"{r['n_instances_mean']:.0f}"]
        rows.append(cells)
    heads = (["Dataset", "Model", "Class"] + [f"top-{k} share" for k in ks] + [f"ρ top-{k}" for k in ks]
             + ["ρ needed", "n"])
    which = "correctly classified" if instances == "correct" else "all"
    return markdown("Share of the predicted logit carried by the top-k CE; CE frequency vs magnitude", heads,
                     rows) + (
        "\nMean ± sd over the cuts where the value is defined. Per class, m = mean CE (CE = FE ⊙ W[pred]) over "
        f"its {which} test instances; "
        "top-k share = sum of the k largest m / sum of m (the predicted logit without its bias; NaN when that "
        "is <= 0). ρ top-k: Spearman correlation over the 64 features between how often a feature is among an "
        "instance's k largest CE and m. ρ needed: the same with the frequency of a feature in the greedy set "
        "of Fig. 1 (the authors' RQ3 frequency). n: instances per class (mean over cuts).\n")


def table_topk_stage(cuts: list[dict], out_csv: str, out_md: str, ks=(1, 3, 5, 10), *, instances: str = "correct") -> pd.DataFrame:
    """The top-k table rule: :func:`table_topk` of every model present, CSV + Markdown."""
    per_cut = top_k_frame(cuts, ks, instances)
    if per_cut.empty:
        raise ValueError("table_topk: none of Base, Balanced, ROS, REMIX, DSM, EOS is in the records")
    t = table_topk(per_cut)
    return write_table(t, table_topk_markdown(t, instances), out_csv, out_md)
