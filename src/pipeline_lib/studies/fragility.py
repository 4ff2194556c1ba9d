"""The analyses of "Understanding CNN Fragility When Learning With Imbalanced Data" (Dablain, Jacobson,
Bellinger, Roberts & Chawla, arXiv 2210.09465 / Machine Learning 2023): class top-K features, train / test
magnitude matching and latent class diversity, on the models of the image study of "How Data Augmentation
Works" (Base, Balanced, ROS, REMIX, DSM, EOS per data set and cut; records and FE as in
:mod:`pipeline_lib.studies.magnitude_images`, whose :func:`~pipeline_lib.core.image_study.model_latents` loads them).

Sources.  Only the paper's abstract and findings are available (/work/shared/papers/understanding_cnn_
fragility_with_imbalanced_data.txt); it gives no formula.  The nearest code is the authors'
``dd1github/IML_for_Imbalanced_Learning`` (described in /work/shared/reference/authors_code.md §5 and in
/work/shared/reference/latent_magnitude_and_fragility_methods.md §B.3, B.6, "the notes"), which is followed
where it defines a measure; everything else is marked *ours*.  FE = the 64-d pooled post-ReLU features (so
FE >= 0); "train" = the cut's imbalanced training images (a model record's own ``train_indices``, e.g. the
Balanced draw, where the workflow gives one), "test" = the cut's test images.  Ties in every top-K: the
lower feature index first.  Class groups (*ours*): ``majority`` = the classes with the largest count in the
cut's training set, ``minority`` = those with the smallest, ``middle`` = the rest (exponential imbalance:
one majority and one minority class; step: every class of each step).  Means over cuts in the Markdown
summaries leave out the cuts where a value is undefined (NaN, e.g. a class without instances);
:func:`pipeline_lib.core.measures.mean_sd_n` (``skip_nan=True``).

Class top-K features (:func:`class_top_features`) [``FE_idx_density.py``, authors_code §5, notes B.6]
    Per class c the mean FE over the class's instances of the split (default: all TRAINING instances with
    label c, as ``extract_FE.py`` / ``FE_idx_density.py``; ``instances="correct"`` keeps those the model
    classifies correctly); its top-K = the K largest means (K = 10), each with its share of the sum of the
    K means (the script's stacked bars).  ``top_share`` = sum of the K means / sum of all 64 means (how
    concentrated the class is on its top-K; *ours*).  Overlap of a model with Base for class c =
    |top_c(model) ∩ top_c(Base)| / K (the per-class term of the sibling paper's Algorithm 1 overlap
    Σ_c |∩| / (C K), :func:`pipeline_lib.core.measures.top_k_overlap`).  ``chance`` = K / d, the expected overlap
    of two K-sets drawn at random from d features.  Caveat: the feature indices of two independently
    trained extractors (Base vs Balanced / ROS / REMIX) are not aligned by construction; their overlap
    means something only to the extent that their training shares its initialisation (the workflow seeds
    every network alike), so compare it with ``chance``.  DSM and EOS share Base's extractor, so on the
    training set with all instances their top-K are Base's exactly.

Train / test magnitude matching (:func:`magnitude_sums`, :func:`magnitude_match`) -- *ours*: the paper
says only that a CNN "has difficulty generalizing to test data if the magnitude of its top-K latent features
do not match the training set" (notes B.3, B.4 (5))
    For class c with top-K features T_c (above, from the training set, all instances), every instance x of
    class c gets the magnitude s(x) = Σ_{j in T_c} f_j(x).  The distributions of s on the class's training
    and test instances are summarised by mean, sd and median, and compared by the 1-D Wasserstein distance
    W1 = scipy.stats.wasserstein_distance(s_train, s_test); ``relative_w1`` = W1 / mean(s_train) (scale
    free, so classes and models with different feature scales are comparable; NaN when mean(s_train) = 0)
    is the matching score (0 = the test magnitudes match the training ones; larger = worse).
    ``mean_ratio`` = mean(s_test) / mean(s_train).  Recall of c = the share of its test instances the model
    predicts as c.  Per cut and model, ``spearman`` = Spearman's rho over the classes between relative_w1
    and recall (the paper's claim predicts rho < 0).  The figure plots relative_w1 against recall, one
    point per class and cut.

Latent class diversity -- the paper hypothesises that it "matters beyond sample size" but gives no
operational definition (notes B.3); three measures:
    * distinct top-K sets (:func:`distinct_top_k_sets`, *ours*): per instance the SET of its own K largest
      FE indices; per class the number of distinct sets among its instances, their share of the instances,
      and the Shannon entropy (bits) of the sets' empirical distribution, also divided by log2(n)
      (``entropy_norm``: 1 = every instance has its own set; NaN for n < 2).  On the train and the test
      split.
    * instance archetypes (:func:`same_class_neighbours`, :func:`archetypes`) [``arch_NNB.py``,
      authors_code §5]: the n_neighbors = 5 nearest neighbours (Euclidean, FE, sklearn ``NearestNeighbors``
      brute force) of each instance, itself excluded by index (the script drops the first of 6 neighbours,
      the same unless two instances share an FE); the number of neighbours with the instance's label gives
      safe (4-5 of 5), borderline (2-3), rare (1), outlier (0) -- the script's thresholds, which are Napierala
      & Stefanowski's for k = 5.  For another n_neighbors (*ours*): safe >= n - 1, borderline 2 .. n - 2,
      rare 1, outlier 0 (n >= 3).  Train: neighbours among the training instances (the script).  Test
      (*ours*): among the test instances (``test_neighbours="test"``, the same definition on the test set)
      or among the training instances (``"train"``: where the test instance falls in the learned training
      distribution).  Reported: the share of each archetype per class.
    * reference-class density (:func:`reference_density`) [``FE_idx_density.py``]: reference class r =
      the minority class (smallest training count, ties -> the highest index; CIFAR-10: class 9, truck,
      the script's reference) or ``ref_class``.  For each of r's top-K features j (above) and each class i,
      ``density="share"`` (default): the share of class i's instances whose own top-K FE include j;
      ``density="authors"``: the script's count ratio adv_count[i, j] / ref_count[j] (counts, so it grows
      with the class's size; NaN where ref_count[j] = 0; the script's ad-hoc rescaling for plotting is not
      applied).  Reported per feature and as the mean over r's top-K (``ref_density``).  On both splits.
    * the class's test ``recall`` and its training count are reported alongside (size vs diversity).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..core import measures
from ..core.image_models import LINEAR_HEAD_MODELS
from ..core.image_study import SPLITS, model_latents, require_base, study, train_counts
from ..core.measures import (INSTANCES, check_choice, frequency_magnitude_correlation, instance_mask, mean_sd_n,
                             membership, minority_class, top_k_indices)
from ..render.names import MODEL_NAMES
from ..render.tables import markdown, mean_sd, write_table

DENSITY = ("share", "authors")
TEST_NEIGHBOURS = ("test", "train")
ARCHETYPES = ("safe", "borderline", "rare", "outlier")


# --- pure measures ---------------------------------------------------------------------------------------------

def class_groups(counts) -> np.ndarray:
    """"majority" / "minority" / "middle" per class from its training count (largest / smallest / other)."""
    counts = np.asarray(counts)
    return np.where(counts == counts.max(), "majority", np.where(counts == counts.min(), "minority", "middle"))


def class_top_features(fe, y, num_classes: int, k: int, pred=None, instances: str = "all"):
    """Per class: (top (C, k) feature indices, means (C, d), shares (C, k) of the top-k sum, n (C,)); a class
    without instances gets -1 indices and NaN."""
    check_choice("instances", instances, INSTANCES)
    fe = np.asarray(fe, np.float64)
    y = np.asarray(y)
    d = fe.shape[1]
    if not 1 <= k <= d:
        raise ValueError(f"k must be in 1..{d}, got {k}")
    if instances == "correct" and pred is None:
        raise ValueError('instances "correct" needs the predictions')
    means = np.full((num_classes, d), np.nan)
    top, shares = np.full((num_classes, k), -1, np.int64), np.full((num_classes, k), np.nan)
    n = np.zeros(num_classes, np.int64)
    for c in range(num_classes):
        sel = instance_mask(y, pred if pred is not None else y, c, instances)
        n[c] = int(sel.sum())
        if n[c]:
            means[c] = fe[sel].mean(0)
            top[c] = measures.top_k(means[c], k)
            total = means[c][top[c]].sum()
            shares[c] = means[c][top[c]] / total if total > 0 else np.nan
    return top, means, shares, n


def set_overlap(a, b) -> float:
    """|a ∩ b| / k of two index sets of the same size k (NaN if either has a -1, i.e. no instances)."""
    a, b = np.asarray(a), np.asarray(b)
    if (a < 0).any() or (b < 0).any():
        return float("nan")
    return measures.top_k_overlap(a[None], b[None])


def magnitude_sums(fe, features) -> np.ndarray:
    """Per row, the sum of its FE over ``features``."""
    return np.asarray(fe, np.float64)[:, np.asarray(features, np.int64)].sum(1)


def magnitude_match(s_train, s_test) -> dict[str, float]:
    """Train vs test distribution of one class's magnitudes: means, sds (ddof 0), medians, W1, relative W1
    (W1 / mean train) and mean ratio (test / train); NaN where a side is empty or the train mean is 0."""
    from scipy.stats import wasserstein_distance

    a, b = np.asarray(s_train, np.float64), np.asarray(s_test, np.float64)
    out = {"train_mean": np.nan, "test_mean": np.nan, "train_sd": np.nan, "test_sd": np.nan,
           "train_median": np.nan, "test_median": np.nan, "w1": np.nan, "relative_w1": np.nan, "mean_ratio": np.nan}
    for name, v in (("train", a), ("test", b)):
        if v.size:
            out[f"{name}_mean"], out[f"{name}_sd"], out[f"{name}_median"] = v.mean(), v.std(), np.median(v)
    if a.size and b.size:
        out["w1"] = float(wasserstein_distance(a, b))
        if out["train_mean"] != 0:
            out["relative_w1"] = out["w1"] / out["train_mean"]
            out["mean_ratio"] = out["test_mean"] / out["train_mean"]
    return {k: float(v) for k, v in out.items()}


def recall_per_class(y_true, pred, num_classes: int) -> np.ndarray:
    """Share of each class's instances predicted as that class (NaN for an absent class)."""
    y_true, pred = np.asarray(y_true), np.asarray(pred)
    out = np.full(num_classes, np.nan)
    for c in range(num_classes):
        sel = y_true == c
        if sel.any():
            out[c] = float((pred[sel] == c).mean())
    return out


def set_entropy(index_sets) -> tuple[int, float]:
    """(number of distinct rows, Shannon entropy in bits of their empirical distribution) of an (n, k) array
    of index sets (each row is sorted first, so the order inside a row does not matter)."""
    rows = np.sort(np.asarray(index_sets, np.int64), axis=1)
    if not len(rows):
        return 0, float("nan")
    _, counts = np.unique(rows, axis=0, return_counts=True)
    p = counts / counts.sum()
    return int(len(counts)), float(-(p * np.log2(p)).sum() + 0.0)


def distinct_top_k_sets(fe, k: int) -> dict[str, float]:
    """Diversity of a class's instances: n, distinct top-k sets, their share of n, entropy (bits) and
    entropy / log2(n) (NaN for n < 2)."""
    fe = np.asarray(fe, np.float64)
    n = len(fe)
    distinct, h = set_entropy(top_k_indices(fe, k)) if n else (0, float("nan"))
    return {"n": n, "distinct_sets": distinct, "distinct_share": distinct / n if n else float("nan"),
            "entropy_bits": h, "entropy_norm": h / math.log2(n) if n > 1 else float("nan")}


def same_class_neighbours(X, y, n_neighbors: int = 5, reference_X=None, reference_y=None) -> np.ndarray:
    """Per row of X, how many of its ``n_neighbors`` nearest neighbours (Euclidean) have its label.  Without
    a reference the neighbours are the other rows of X (the row itself excluded by index); with one they are
    rows of ``reference_X`` (labels ``reference_y``)."""
    from sklearn.neighbors import NearestNeighbors

    X, y = np.asarray(X, np.float64), np.asarray(y)
    within = reference_X is None
    R, ry = (X, y) if within else (np.asarray(reference_X, np.float64), np.asarray(reference_y))
    need = n_neighbors + (1 if within else 0)
    if n_neighbors < 1 or len(R) < need:
        raise ValueError(f"{n_neighbors} neighbours need at least {need} reference rows, got {len(R)}")
    if not len(X):
        return np.zeros(0, np.int64)
    idx = NearestNeighbors(n_neighbors=need, algorithm="brute").fit(R).kneighbors(X, return_distance=False)
    if within:
        idx = np.array([row[row != i][:n_neighbors] for i, row in enumerate(idx)])
    return (ry[idx] == y[:, None]).sum(1).astype(np.int64)


def archetypes(same_counts, n_neighbors: int = 5) -> np.ndarray:
    """Archetype index per instance (0 safe, 1 borderline, 2 rare, 3 outlier; names in ARCHETYPES) from its
    same-class neighbour count: safe >= n - 1, borderline 2 .. n - 2, rare 1, outlier 0."""
    if n_neighbors < 3:
        raise ValueError(f"archetypes need n_neighbors >= 3, got {n_neighbors}")
    s = np.asarray(same_counts, np.int64)
    if (s < 0).any() or (s > n_neighbors).any():
        raise ValueError(f"same-class counts must be in 0..{n_neighbors}")
    return np.select([s >= n_neighbors - 1, s >= 2, s == 1], [0, 1, 2], default=3).astype(np.int64)


def archetype_shares(kinds, y, num_classes: int) -> np.ndarray:
    """(C, 4) share of each archetype among each class's instances (NaN rows for absent classes)."""
    kinds, y = np.asarray(kinds), np.asarray(y)
    out = np.full((num_classes, len(ARCHETYPES)), np.nan)
    for c in range(num_classes):
        sel = y == c
        if sel.any():
            out[c] = np.bincount(kinds[sel], minlength=len(ARCHETYPES)) / sel.sum()
    return out


def reference_density(fe, y, num_classes: int, ref_features, ref_class: int, k: int,
                      density: str = "share") -> np.ndarray:
    """(C, len(ref_features)): for each class i and reference feature j, the share of class i's instances
    whose own top-k FE include j (``share``), or the count of such instances / the same count in the
    reference class (``authors``)."""
    check_choice("density", density, DENSITY)
    fe, y = np.asarray(fe, np.float64), np.asarray(y)
    ref = np.asarray(ref_features, np.int64)
    hit = membership(top_k_indices(fe, k), fe.shape[1])[:, ref] if len(fe) else np.zeros((0, len(ref)), bool)
    counts = np.stack([hit[y == c].sum(0) for c in range(num_classes)]).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if density == "share":
            n = np.bincount(y, minlength=num_classes).astype(np.float64)[:num_classes, None]
            return np.where(n > 0, counts / np.where(n > 0, n, 1), np.nan)
        r = counts[ref_class]
        return np.where(r > 0, counts / np.where(r > 0, r, 1), np.nan)


# --- class top-K features ---------------------------------------------------------------------------------------

def top_features_frame(cuts: list[dict], k: int = 10, split: str = "train", instances: str = "all") -> pd.DataFrame:
    """One row per dataset (title) / cut / model / class / rank: feature, mean_activation, share, and the
    class's n_instances, top_share, overlap_base, chance, group."""
    check_choice("split", split, SPLITS)
    _, titles, _ = study(cuts)
    rows = []
    for cut in cuts:
        lats = model_latents(cut, LINEAR_HEAD_MODELS)
        if not lats:
            continue
        require_base(lats, f"top_features: {cut['dataset']} cut {cut['cut']}")
        tops = {}
        for m, lat in lats.items():
            fe, y = lat.fe(split), lat.labels(split)
            tops[m] = class_top_features(fe, y, lat.num_classes, k, lat.pred(split), instances)
        for m, lat in lats.items():
            top, means, shares, n = tops[m]
            groups = class_groups(train_counts(cut, lat.num_classes))
            for c in range(lat.num_classes):
                total = means[c].sum()
                top_share = float(means[c][top[c]].sum() / total) if n[c] and total > 0 else float("nan")
                overlap = set_overlap(tops["base"][0][c], top[c])
                for r in range(k):
                    rows.append({"dataset": titles[cut["dataset"]], "cut": cut["cut"], "model": m, "class": c,
                                 "group": groups[c], "rank": r, "feature": int(top[c, r]),
                                 "mean_activation": float(means[c, top[c, r]]) if n[c] else float("nan"),
                                 "share": float(shares[c, r]), "n_instances": int(n[c]), "top_share": top_share,
                                 "overlap_base": overlap, "chance": k / means.shape[1], "split": split,
                                 "instances": instances})
    return pd.DataFrame(rows, columns=["dataset", "cut", "model", "class", "group", "rank", "feature",
                                       "mean_activation", "share", "n_instances", "top_share", "overlap_base",
                                       "chance", "split", "instances"])


def top_features_markdown(frame: pd.DataFrame, k: int) -> str:
    classes = frame[frame["rank"] == 0]
    summary = []
    for (ds, m), g in classes.groupby(["dataset", "model"], sort=False):
        per_cut = g.groupby("cut")["overlap_base"].mean()
        mean, sd, n = mean_sd_n(per_cut, skip_nan=True)
        share, _, _ = mean_sd_n(g.groupby("cut")["top_share"].mean(), skip_nan=True)
        summary.append([str(ds), MODEL_NAMES[m], mean_sd(mean, sd, 3), f"{g['chance'].iloc[0]:.3f}", mean_sd(share, digits=3),
                        str(n)])
    md = markdown(f"Class top-{k} FE: overlap with Base", ["Dataset", "Model", "overlap with Base (mean over classes)",
                                                          "chance", f"top-{k} share of all 64", "cuts"], summary)
    md += (f"\nOverlap = |top-{k}(model) ∩ top-{k}(Base)| / {k} per class, mean over classes, mean ± sd over cuts; "
           f"chance = {k} / d (two random sets). Feature indices of separately trained extractors (Balanced, ROS, "
           "REMIX) are not aligned by construction; DSM / EOS share Base's extractor.\n\n")
    rows = []
    for (ds, cut, m, c), g in frame.groupby(["dataset", "cut", "model", "class"], sort=False):
        g = g.sort_values("rank")
        feats = (", ".join(f"{f} ({s:.2f})" for f, s in zip(g["feature"], g["share"])) if g["n_instances"].iloc[0]
                 else "n/a")
        rows.append([str(ds), str(cut), MODEL_NAMES[m], str(c), g["group"].iloc[0], feats,
                     mean_sd(g["top_share"].iloc[0], digits=3), mean_sd(g["overlap_base"].iloc[0], digits=2),
                     str(g["n_instances"].iloc[0])])
    split, inst = frame["split"].iloc[0], frame["instances"].iloc[0]
    md += markdown(f"Class top-{k} FE indices (share of the top-{k} sum)",
                    ["Dataset", "Cut", "Model", "Class", "Group", f"top-{k} features (share)", f"top-{k} / all",
                     "overlap Base", "n"], rows)
    return md + (f"\nPer class: mean FE over its {inst} {split} instances; the {k} largest means (largest first) "
                 f"with their share of the top-{k} sum (the authors' FE_idx_density.py). Group: majority / minority "
                 "= largest / smallest training count.\n")


def top_features_stage(cuts: list[dict], out_csv: str, out_md: str, k: int = 10, *, split: str = "train",
                       instances: str = "all") -> pd.DataFrame:
    """The top-features rule: class top-k FE of every model present and their overlap with Base; the CSV has
    one row per (dataset, cut, model, class, rank)."""
    frame = top_features_frame(cuts, k, split, instances)
    if frame.empty:
        raise ValueError("top_features: no Base model in the records")
    return write_table(frame, top_features_markdown(frame, k), out_csv, out_md)


# --- train / test magnitude matching ----------------------------------------------------------------------------

def magnitude_match_frame(cuts: list[dict], k: int = 10) -> pd.DataFrame:
    """One row per dataset (title) / cut / model / class: group, train_count, n_train, n_test, top features,
    the :func:`magnitude_match` values and recall."""
    _, titles, _ = study(cuts)
    rows = []
    for cut in cuts:
        for m, lat in model_latents(cut, LINEAR_HEAD_MODELS).items():
            C = lat.num_classes
            top, _, _, _ = class_top_features(lat.train_fe, lat.train_y, C, k)
            recall = recall_per_class(lat.test_y, lat.pred("test"), C)
            counts = train_counts(cut, C)
            groups = class_groups(counts)
            for c in range(C):
                tr, te = lat.train_y == c, lat.test_y == c
                if top[c, 0] < 0:
                    match = magnitude_match([], [])
                else:
                    match = magnitude_match(magnitude_sums(lat.train_fe[tr], top[c]),
                                            magnitude_sums(lat.test_fe[te], top[c]))
                rows.append({"dataset": titles[cut["dataset"]], "cut": cut["cut"], "model": MODEL_NAMES[m], "class": c,
                             "group": groups[c], "train_count": int(counts[c]), "n_train": int(tr.sum()),
                             "n_test": int(te.sum()), "top_features": " ".join(map(str, top[c])), **match,
                             "recall": float(recall[c]), "k": k})
    return pd.DataFrame(rows)


def magnitude_match_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per dataset / model: Spearman(relative_w1, recall) over classes (mean ± sd over cuts) and the mean
    relative_w1 and recall of the majority and minority groups (mean ± sd over cuts of the group means)."""
    rows = []
    for (ds, m), g in frame.groupby(["dataset", "model"], sort=False):
        row = {"dataset": ds, "model": m}
        rho = [frequency_magnitude_correlation(gc["relative_w1"], gc["recall"]) for _, gc in g.groupby("cut")]
        row["spearman_mean"], row["spearman_sd"], _ = mean_sd_n(rho, skip_nan=True)
        row["n_cuts"] = int(g["cut"].nunique())
        for grp in ("majority", "minority"):
            gg = g[g["group"] == grp].groupby("cut")[["relative_w1", "recall"]].mean()
            for v in ("relative_w1", "recall"):
                row[f"{grp}_{v}_mean"], row[f"{grp}_{v}_sd"], _ = mean_sd_n(gg[v], skip_nan=True)
        rows.append(row)
    return pd.DataFrame(rows)


def magnitude_match_markdown(summary: pd.DataFrame, k: int) -> str:
    rows = [[str(r.dataset), str(r.model), mean_sd(r.spearman_mean, r.spearman_sd, 2),
             mean_sd(r.majority_relative_w1_mean, r.majority_relative_w1_sd, 3),
             mean_sd(r.minority_relative_w1_mean, r.minority_relative_w1_sd, 3),
             mean_sd(r.majority_recall_mean, r.majority_recall_sd, 3),
             mean_sd(r.minority_recall_mean, r.minority_recall_sd, 3),
             str(r.n_cuts)] for r in summary.itertuples()]
    md = markdown(f"Train / test matching of the class top-{k} FE magnitudes",
                   ["Dataset", "Model", "ρ(relative W1, recall)", "rel. W1 majority", "rel. W1 minority",
                    "recall majority", "recall minority", "cuts"], rows)
    return md + (f"\nPer class c: s(x) = sum of x's FE over c's top-{k} features (largest mean training FE); "
                 "relative W1 = 1-D Wasserstein distance between s on c's training and test instances / mean of s "
                 "on training (0 = magnitudes match). ρ: Spearman correlation over classes with the class's test "
                 "recall, per cut. Majority / minority: classes with the largest / smallest training count. Mean ± "
                 "sd over cuts. The definition is ours: the paper gives none. Per-class values: the CSV.\n")


def magnitude_match_stage(cuts: list[dict], out_png: str, out_csv: str, out_md: str, k: int = 10) -> pd.DataFrame:
    """The magnitude-matching rule: per-class CSV (every cut; the figure's points: relative W1 against test
    recall, one panel per data set), and the Markdown summary."""
    from ..render.plots import pyplot, save

    frame = magnitude_match_frame(cuts, k)
    if frame.empty:
        raise ValueError("magnitude_match: none of Base, Balanced, ROS, REMIX, DSM, EOS is in the records")
    plt, sns = pyplot()
    g = sns.relplot(data=frame, x="relative_w1", y="recall", hue="model", style="group", col="dataset",
                    kind="scatter", height=3.2, aspect=1.2, facet_kws={"sharex": False})
    g.set_axis_labels(f"relative W1 of top-{k} FE magnitude (train vs test)", "test recall")
    g.figure.suptitle("Train/test magnitude mismatch vs recall (one point per class and cut)", y=1.03)
    save(g.figure, out_png, frame, out_csv)
    plt.close(g.figure)
    with open(out_md, "w") as fh:
        fh.write(magnitude_match_markdown(magnitude_match_summary(frame), k))
    return frame


# --- latent class diversity ---------------------------------------------------------------------------------------

DIVERSITY_COLUMNS = ["dataset", "cut", "model", "split", "class", "group", "train_count", "measure", "feature", "value"]


def diversity_frame(cuts: list[dict], k: int = 10, n_neighbors: int = 5, ref_class: int | None = None,
                    density: str = "share", test_neighbours: str = "test") -> pd.DataFrame:
    """Tidy rows dataset (title) / cut / model / split / class / measure [/ feature] / value, measures: n,
    distinct_sets, distinct_share, entropy_bits, entropy_norm, safe, borderline, rare, outlier, density (per
    reference feature), ref_density (their mean), recall (test)."""
    check_choice("density", density, DENSITY)
    check_choice("test_neighbours", test_neighbours, TEST_NEIGHBOURS)
    _, titles, _ = study(cuts)
    rows = []
    for cut in cuts:
        for m, lat in model_latents(cut, LINEAR_HEAD_MODELS).items():
            C = lat.num_classes
            counts = train_counts(cut, C)
            groups = class_groups(counts)
            r = minority_class(counts) if ref_class is None else int(ref_class)
            if not 0 <= r < C:
                raise ValueError(f"ref_class {r} is not a class of {cut['dataset']} ({C} classes)")
            ref_top = class_top_features(lat.train_fe, lat.train_y, C, k)[0][r]
            base = {"dataset": titles[cut["dataset"]], "cut": cut["cut"], "model": m, "ref_class": r}

            def add(split, c, measure, value, feature=None):
                rows.append({**base, "split": split, "class": c, "group": groups[c], "train_count": int(counts[c]),
                             "measure": measure, "feature": feature, "value": float(value)})

            for split in SPLITS:
                fe, y = lat.fe(split), lat.labels(split)
                if split == "train" or test_neighbours == "test":
                    same = same_class_neighbours(fe, y, n_neighbors)
                else:
                    same = same_class_neighbours(fe, y, n_neighbors, lat.train_fe, lat.train_y)
                shares = archetype_shares(archetypes(same, n_neighbors), y, C)
                dens = (reference_density(fe, y, C, ref_top, r, k, density) if ref_top[0] >= 0
                        else np.full((C, k), np.nan))
                for c in range(C):
                    for key, v in distinct_top_k_sets(fe[y == c], k).items():
                        add(split, c, key, v)
                    for a, v in zip(ARCHETYPES, shares[c]):
                        add(split, c, a, v)
                    for j, v in zip(ref_top, dens[c]):
                        add(split, c, "density", v, int(j))
                    add(split, c, "ref_density", np.nanmean(dens[c]) if np.isfinite(dens[c]).any() else np.nan)
            for c, v in enumerate(recall_per_class(lat.test_y, lat.pred("test"), C)):
                add("test", c, "recall", v)
    frame = pd.DataFrame(rows, columns=DIVERSITY_COLUMNS + ["ref_class"])
    frame["feature"] = frame["feature"].astype("Int64")
    frame["ref_class"] = frame["ref_class"].astype("Int64")
    frame["k"], frame["n_neighbors"] = k, n_neighbors
    frame["density_mode"], frame["test_neighbours"] = density, test_neighbours
    return frame


DIVERSITY_SHOWN = {"train": ["n", "distinct_share", "entropy_norm", "safe", "borderline", "rare", "outlier",
                             "ref_density"],
                   "test": ["distinct_share", "entropy_norm", "safe", "borderline", "rare", "outlier", "ref_density",
                            "recall"]}


def diversity_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean over cuts of every class-level measure (feature-level density rows left out): dataset, model,
    split, class, group, measure, mean, sd, n_cuts."""
    f = frame[frame["measure"] != "density"]
    rows = []
    for (ds, m, split, c, measure), g in f.groupby(["dataset", "model", "split", "class", "measure"], sort=False):
        mean, sd, n = mean_sd_n(g["value"], skip_nan=True)
        rows.append({"dataset": ds, "model": m, "split": split, "class": c, "group": g["group"].iloc[0],
                     "measure": measure, "mean": mean, "sd": sd, "n_cuts": n})
    return pd.DataFrame(rows)


def diversity_markdown(table: pd.DataFrame, k: int, n_neighbors: int, ref: str, density: str,
                       test_neighbours: str) -> str:
    st = table.set_index(["dataset", "model", "split", "class", "measure"])
    md = ""
    for split in SPLITS:
        measures = DIVERSITY_SHOWN[split]
        rows = []
        for (ds, m, c), g in table[table["split"] == split].groupby(["dataset", "model", "class"], sort=False):
            cells = [str(ds), MODEL_NAMES[m], str(c), g["group"].iloc[0]]
            for meas in measures:
                key = (ds, m, split, c, meas)
                if key not in st.index:
                    cells.append("n/a")
                elif meas == "n":
                    cells.append(f"{st.loc[key, 'mean']:.0f}")
                else:
                    cells.append(mean_sd(st.loc[key, "mean"], digits=3))
            rows.append(cells)
        md += markdown(f"Latent class diversity ({split} set)", ["Dataset", "Model", "Class", "Group"] + measures,
                        rows) + "\n"
    return md + (
        f"Mean over cuts. distinct_share: distinct per-instance top-{k} FE index sets / instances; entropy_norm: "
        f"entropy of those sets (bits) / log2(instances). safe / borderline / rare / outlier: share of the class's "
        f"instances with >= {n_neighbors - 1} / 2..{n_neighbors - 2} / 1 / 0 same-class among their {n_neighbors} "
        f"nearest neighbours in FE space (the authors' arch_NNB.py; test instances: neighbours among the "
        f"{test_neighbours} instances). ref_density: for the reference class {ref}'s top-{k} features, "
        + ("for each of them the share of the class's instances whose own top-k FE include it, mean over them"
           if density == "share" else "the authors' count ratio to the reference class, mean over the features")
        + ". recall: test recall. Definitions of diversity and density: ours / the authors' IML code (the paper "
        "gives none); per-cut and per-feature values: the CSV.\n")


def diversity_stage(cuts: list[dict], out_csv: str, out_md: str, k: int = 10, n_neighbors: int = 5, *,
                    ref_class: int | None = None, density: str = "share", test_neighbours: str = "test") -> pd.DataFrame:
    """The diversity rule: the tidy per-cut frame of every model present as CSV, the means over cuts as
    Markdown."""
    frame = diversity_frame(cuts, k, n_neighbors, ref_class, density, test_neighbours)
    if frame.empty:
        raise ValueError("diversity: none of Base, Balanced, ROS, REMIX, DSM, EOS is in the records")
    refs = "/".join(map(str, sorted(set(frame["ref_class"].dropna().astype(int)))))
    table = diversity_table(frame)
    frame.to_csv(out_csv, index=False, float_format="%.6g")
    with open(out_md, "w") as fh:
        fh.write(diversity_markdown(table, k, n_neighbors, refs, density, test_neighbours))
    return frame
