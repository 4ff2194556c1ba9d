"""The image half of "How Data Augmentation Works with Imbalanced Data" (Dablain & Chawla): Tables II, V,
VIII, XI and Fig. 10, from the trained CNNs of every image data set and cut.

Models
    Seven models per data set and *cut* (the seed of the imbalanced training draw): ``balanced`` (trained on
    a balanced version of the data), ``base`` (the imbalanced cut, cross-entropy), ``ldam`` (LDAM loss, its
    cosine ``NormedLinear`` head), ``ros`` and ``remix`` (own networks trained on randomly oversampled /
    REMIX batches), ``dsm`` and ``eos`` (Base's extractor with a classification head retrained on SMOTE /
    EOS-oversampled embeddings: :func:`pipeline_lib.core.models.reassemble`).  A model the ``models`` setting
    left out is absent from the records and is left out of every table and figure without error; a table
    that compares with Base raises a one-line ``ValueError`` when Base is absent.

Records (built by the workflow; every value a path)
    model record   ``{"network": backbone.pt, "predictions": parquet}`` for a model with its own network;
                   ``{"network": Base's backbone.pt, "head": head.pt, "predictions": ...}`` for dsm / eos.
                   The predictions file has columns ``label``, ``pred`` (and ``sample_id``).
    cut record     ``{"dataset", "cut", "images": the raw images.npz, "train_indices": csv, "test_indices":
                   csv, "models": {model: model record}}``; an indices csv has columns sample_id, label,
                   class_name (train: the cut's imbalanced training set, indexing train_x; test: the cut's
                   test images, indexing test_x).  Table XI's cut record has ``"saliency": {model: npz}``
                   (the files :func:`saliency_stage` writes) instead of ``models``.

Table II (:func:`table2`) -- computed from the index files, nothing typed in
    # classes = 1 + the largest label in the cut's train / test files.  Per cut the train (test) count of
    every class; the imbalance level of a cut is max / min of its train counts.  Per data set the class
    counts and the level are the mean over cuts; ``train_counts_vary`` / ``test_counts_vary`` say whether
    the cuts differ (then the printed counts are means).  # Train Maj. / Min. = largest / smallest train
    count; Num. Test Maj. / Min. = mean test count of the classes with the largest / smallest train count.

Table V (:func:`table5`)
    BAC = ``metrics.compute(...)["bac"]`` (sklearn balanced accuracy) and FM = ``"fm_authors"`` (macro-F1 with
    ``zero_division=1``, the authors' FM and the one the EOS tables of this project print), on the cut's test
    images: prediction rows whose ``sample_id`` is not in the cut's ``test_indices`` are dropped (a test id
    missing from the predictions raises).  The number of classes is 1 + the largest label of the cut's
    index files.  Mean and sample sd (ddof 1; NaN for one cut) over cuts; rows in the paper's order
    Balanced, Base, DSM, EOS, LDAM, REMIX, ROS.

Table VIII (:func:`table8`): change of the classification layer against Base, paired by cut
    ``paper``: mean over all C x 64 entries of |W_m - W_base| / |W_base| with no guard (the authors'
    ``*_wt_diff.py``): an entry with W_base = 0 gives inf (nan when W_m is 0 too), which is reported as such;
    ``n_flagged`` counts the entries with W_base == 0.  ``guarded``: :func:`measures.relative_weight_change`
    with its defaults (the tabular Table VII's measure): entries with |W_base| <= 1e-6 max|W_base| are left
    out of the mean and counted in ``n_flagged``.  Bias terms are left out.  The authors pool the entries
    of their three runs into one mean; with the same C x 64 entries per cut that equals the mean over cuts
    of the per-cut means, which is reported here with its sd.  Methods: ROS, REMIX, DSM, EOS (not LDAM).
    DSM / EOS heads are fresh ``nn.Linear`` heads (not warm-started from Base's head, as the authors).

Head weights (:func:`head_weight`)
    (C, 64): ``nn.Linear.weight``, or the transpose of ``NormedLinear``'s (64, C) weight.  LDAM's cosine head
    normalises its columns and its inputs, so its weight scale is arbitrary and not comparable with a
    linear head: LDAM is in neither Table VIII nor Fig. 10 (the paper leaves it out of both too).

Fig. 10 (:func:`weight_norm_frame`): L2 norm of each class's row of W, majority vs minority
    Classes are ranked by the cut's imbalanced TRAIN counts (also for the Balanced model).  Step imbalance:
    majority = the mean of the norms of all classes with the largest count (the paper's "aggregate the
    majority classes"); minority = ONE class (the paper's "a single minority class", which one is left
    open): the smallest class, ties -> the last class index (the class with the highest index, which in
    LDAM-style step draws is the last of the minority classes).  Any other imbalance type (exponential):
    majority = the largest class (ties -> the first index), minority = the smallest (ties -> the last
    index).  Models: Balanced, Base, ROS, REMIX, DSM, EOS.  The CSV has one row per data set / model / cut /
    group; the bars are the mean over cuts.

Table XI (:func:`top_pixels`, :func:`pixel_overlap`): top-10 % saliency overlap with Base
    For a model and test image, s = |d logit_p / d x| where p is THAT model's predicted class (argmax of its
    logits) and x the image scaled to [0, 1] before the per-channel normalisation (the gradient is chained
    through (x - mean) / std, so a channel's gradient is the normalised-input gradient / std), reduced by the
    max over channels to an H x W map (Simonyan et al. 2013's choice for colour images).  The top pixels are
    the k = max(1, floor(fraction H W + 0.5)) pixels (round half up; 0.1 x 32 x 32 -> 102) with the largest s,
    ties broken by the lower pixel index h W + w (stable sort of -s).  Overlap of a method with Base for one
    image = |top_m & top_base| / k; mean over ALL test images of the cut (correct or not), then mean and
    sd over cuts; the "Average" row is the mean over data sets of the data-set means (the paper's row).
    Methods: LDAM, ROS, REMIX, DSM, EOS.  Left open by the paper (Algorithm 2 says only "argsort(G)" and
    "K-percent of the input features ... that have the highest gradient"): signed vs absolute gradient
    (absolute here: argsort of the signed gradient would rank only positive evidence), which logit
    (predicted class, "back-propagate the model's label prediction"; not the softmax, not the true label),
    pixel vs channel (pixels, max over channels; channel-level top-K would count a pixel up to 3 times),
    the rounding of K-percent, and ties.  Saliency runs in eval mode (BatchNorm on its running statistics),
    so a batch gives every image its own gradient; on a GPU cuDNN is switched to deterministic kernels for
    the duration.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd

from ..core import measures
from ..core.image_models import TABLE5_MODELS
from ..core.image_study import require_base, study
from ..core.measures import mean_sd_n, minority_class
from ..render.names import MODEL_NAMES, SHOT_NAMES
from ..render.plots import bars
from ..render.tables import markdown, mean_sd, write_table

TABLE8_METHODS = ("ros", "remix", "dsm", "eos")
FIG10_MODELS = ("balanced", "base", "ros", "remix", "dsm", "eos")
TABLE11_METHODS = ("ldam", "ros", "remix", "dsm", "eos")
TABLE5_METRICS = {"bac": "BAC", "fm_authors": "FM"}
MEASURES = ("paper", "guarded")
IMBALANCE_NAMES = {"exp": "Expon.", "step": "Step"}


def _title(ds: str, titles: dict | None) -> str:
    return (titles or {}).get(ds, ds)


# --- networks and heads ------------------------------------------------------------------------------------

def load_network_meta(record: dict) -> tuple[torch.nn.Module, dict]:
    """(network in eval mode on the CPU, the backbone's meta: mean, std, class_names, num_classes, ...);
    a record with ``head`` gets Base's extractor (``network``) with that head."""
    from ..core.heads import load_head
    from ..core.models import load_backbone, reassemble

    model, meta = load_backbone(record["network"])
    if record.get("head"):
        model = reassemble(model, load_head(record["head"])[0])
    return model.cpu().eval(), meta


def load_network(record: dict) -> torch.nn.Module:
    """The model of a record as one network (eval mode, CPU)."""
    return load_network_meta(record)[0]


def head_weight(record: dict) -> np.ndarray:
    """The classification layer's weight as (C, 64) float64 (NormedLinear's (64, C) weight transposed;
    LDAM's cosine head is not comparable with a linear head, see the module notes)."""
    from ..core.models import NormedLinear, class_weight_rows

    head = load_network(record).head
    w = head.weight.detach().cpu().double().numpy()
    return np.ascontiguousarray(class_weight_rows(w, isinstance(head, NormedLinear)))


# --- Table II ----------------------------------------------------------------------------------------------

def _labels(path: str) -> np.ndarray:
    return pd.read_csv(path, usecols=["label"])["label"].to_numpy(np.int64)


def _fmt_count(v: float) -> str:
    return f"{v:g}" if float(v).is_integer() else f"{v:.1f}"


def table2(datasets: list[dict]) -> pd.DataFrame:
    """Table II, one row per data set.  ``datasets``: dicts ``name``, ``title``, ``imbalance_type`` (the
    config's string) and ``cuts`` = {cut: {"train_indices": csv, "test_indices": csv}}."""
    rows = []
    for ds in datasets:
        cuts = ds["cuts"]
        if not cuts:
            raise ValueError(f"table2: data set {ds['name']!r} has no cuts")
        train = [_labels(c["train_indices"]) for c in cuts.values()]
        test = [_labels(c["test_indices"]) for c in cuts.values()]
        C = 1 + int(max(max(a.max() for a in train), max(a.max() for a in test)))
        tr = np.stack([np.bincount(a, minlength=C) for a in train]).astype(np.float64)
        te = np.stack([np.bincount(a, minlength=C) for a in test]).astype(np.float64)
        if (tr == 0).any():
            raise ValueError(f"table2: {ds['name']}: a cut's training set lacks a class")
        tr_mean, te_mean = tr.mean(0), te.mean(0)
        maj, mino = tr_mean == tr_mean.max(), tr_mean == tr_mean.min()
        rows.append({"dataset": ds["name"], "title": ds.get("title") or ds["name"], "classes": C,
                     "imbalance_type": ds["imbalance_type"],
                     "imbalance_level": float(np.mean(tr.max(1) / tr.min(1))),
                     "train_majority": float(tr.max(1).mean()), "train_minority": float(tr.min(1).mean()),
                     "test_majority": float(te_mean[maj].mean()), "test_minority": float(te_mean[mino].mean()),
                     "train_counts": " ".join(_fmt_count(v) for v in tr_mean),
                     "test_counts": " ".join(_fmt_count(v) for v in te_mean),
                     "n_cuts": len(cuts),
                     "train_counts_vary": bool((tr != tr[0]).any()), "test_counts_vary": bool((te != te[0]).any())})
    return pd.DataFrame(rows)


def table2_markdown(t: pd.DataFrame) -> str:
    md = markdown("Table II: Image Datasets",
                   ["Dataset", "# Class", "Imbal. Type", "Max Imbal. Level", "# Train Maj.", "# Train Min.",
                    "Num. Test Maj.", "Num. Test Min.", "Train per class", "Test per class"],
                   [[r.title, str(r.classes), IMBALANCE_NAMES.get(r.imbalance_type, str(r.imbalance_type)),
                     f"{r.imbalance_level:.3g}:1", _fmt_count(r.train_majority), _fmt_count(r.train_minority),
                     _fmt_count(r.test_majority), _fmt_count(r.test_minority), r.train_counts, r.test_counts]
                    for r in t.itertuples()])
    vary = []
    for r in t.itertuples():
        which = [s for s, v in (("train", r.train_counts_vary), ("test", r.test_counts_vary)) if v]
        if which:
            vary.append(f"{r.title} ({', '.join(which)})")
    note = ("\nCounts from the cuts' index files (class 0 first). Imbalance level = largest / smallest train "
            "count of a cut; Test Maj. / Min. = test count of the classes with the largest / smallest train "
            "count. " + (f"Counts differ between cuts and are means over cuts for: {'; '.join(vary)}.\n" if vary
                         else "Every cut has the same counts.\n"))
    return md + note


def table2_stage(datasets: list[dict], out_csv: str, out_md: str) -> pd.DataFrame:
    """The Table II rule: :func:`table2` as CSV + Markdown."""
    t = table2(datasets)
    return write_table(t, table2_markdown(t), out_csv, out_md)


# --- Table V -----------------------------------------------------------------------------------------------

def _num_classes(cut: dict) -> int:
    return 1 + int(max(_labels(cut["train_indices"]).max(), _labels(cut["test_indices"]).max()))


def read_predictions(path: str, test_indices: str | None = None) -> pd.DataFrame:
    """``label`` / ``pred`` of a predictions file, restricted to the cut's test images when ``test_indices``
    is given (the file must then have ``sample_id``)."""
    df = pd.read_parquet(path)
    if test_indices is not None and "sample_id" not in df:
        raise ValueError(f"{path}: no sample_id column, so its rows cannot be matched to the cut's test images "
                         f"({test_indices})")
    if test_indices is not None:
        ids = pd.read_csv(test_indices, usecols=["sample_id"])["sample_id"].to_numpy()
        missing = np.setdiff1d(ids, df["sample_id"].to_numpy())
        if missing.size:
            raise ValueError(f"{path}: {missing.size} test images of {test_indices} have no prediction "
                             f"(first sample_id {int(missing[0])})")
        df = df[df["sample_id"].isin(ids)]
    return df[["label", "pred"]]




def model_metrics(cuts: list[dict], shots: dict | None = None) -> pd.DataFrame:
    """BAC and FM (authors') of every model of every cut: columns dataset, cut, model, metric, value.
    ``shots`` ({many_above, few_below}) adds many / medium / few-shot accuracy (pipeline_lib.core.long_tail: mean
    test recall of the classes grouped by the cut's training counts)."""
    from ..core.long_tail import shot_accuracy
    from ..core.metrics import compute

    rows = []
    for cut in cuts:
        C = _num_classes(cut)
        for model in TABLE5_MODELS:
            if model not in cut["models"]:
                continue
            df = read_predictions(cut["models"][model]["predictions"], cut.get("test_indices"))
            m = compute(df["label"].to_numpy(), df["pred"].to_numpy(), C)
            values = {k: m[k] for k in TABLE5_METRICS}
            if shots:
                counts = np.bincount(_labels(cut["train_indices"]), minlength=C)
                groups = shot_accuracy([m[f"recall_{c}"] for c in range(C)], counts, **shots)
                values.update({k: v for k, v in groups.items() if not np.isnan(v)})  # a group without a class: no row
            rows += [{"dataset": cut["dataset"], "cut": cut["cut"], "model": model, "metric": k, "value": v}
                     for k, v in values.items()]
    return pd.DataFrame(rows, columns=["dataset", "cut", "model", "metric", "value"])


def table5(per_cut: pd.DataFrame, datasets: list[str]) -> pd.DataFrame:
    """Long format: dataset, model, metric, mean, sd, n_cuts (models in the paper's order, absent ones left out)."""
    rows = []
    metrics = [k for k in {**TABLE5_METRICS, **SHOT_NAMES} if k in set(per_cut["metric"])]
    for ds in datasets:
        for model in TABLE5_MODELS:
            for metric in metrics:
                v = per_cut.loc[(per_cut["dataset"] == ds) & (per_cut["model"] == model)
                                & (per_cut["metric"] == metric), "value"]
                if len(v):
                    mean, sd, n = mean_sd_n(v)
                    rows.append({"dataset": ds, "model": model, "metric": metric, "mean": mean, "sd": sd, "n_cuts": n})
    return pd.DataFrame(rows, columns=["dataset", "model", "metric", "mean", "sd", "n_cuts"])


def table5_markdown(t: pd.DataFrame, datasets: list[str], titles: dict | None = None) -> str:
    st = t.set_index(["dataset", "model", "metric"])
    models = [m for m in TABLE5_MODELS if m in set(t["model"])]
    shown = {k: v for k, v in {**TABLE5_METRICS, **SHOT_NAMES}.items() if k in set(t["metric"])}
    rows = []
    for model in models:
        cells = [MODEL_NAMES[model]]
        for ds in datasets:
            for metric in shown:
                key = (ds, model, metric)
                cells.append(mean_sd(st.loc[key, "mean"], st.loc[key, "sd"]) if key in st.index else "n/a")
        rows.append(cells)
    heads = ["Method"] + [f"{_title(ds, titles)} {s}" for ds in datasets for s in shown.values()]
    n = sorted(set(t["n_cuts"].astype(int)))
    return markdown("Table V: Image Data: Latent vs Real DA", heads, rows) + (
        f"\nMean ± sd over cuts ({'/'.join(map(str, n))} cuts). BAC: balanced accuracy; FM: macro-F1 with "
        "zero_division=1 (the authors' FM), on each cut's test images."
        + (" Many / Medium / Few: mean test recall of the classes with many / medium / few training images "
           "(thresholds: config long_tail)." if set(SHOT_NAMES) & set(shown) else "") + "\n")


def table5_stage(cuts: list[dict], datasets: list[str], out_csv: str, out_md: str,
                 titles: dict | None = None, shots: dict | None = None) -> pd.DataFrame:
    """The Table V rule: metrics of every model's predictions, mean ± sd over cuts, CSV + Markdown; ``shots``
    ({many_above, few_below}) adds the many / medium / few-shot columns."""
    t = table5(model_metrics(cuts, shots), datasets)
    return write_table(t, table5_markdown(t, datasets, titles), out_csv, out_md)


# --- Table VIII --------------------------------------------------------------------------------------------

def paper_weight_change(w_base, w_method) -> tuple[float, int]:
    """(mean |W_m - W_b| / |W_b| over all entries with no guard, number of entries with W_b == 0): a zero
    base entry makes the mean inf (nan if W_m is 0 there too), as in the authors' scripts."""
    wb = np.asarray(w_base, dtype=np.float64)
    wm = np.asarray(w_method, dtype=np.float64)
    if wb.shape != wm.shape:
        raise ValueError(f"weight shapes differ: {wb.shape} vs {wm.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.mean(np.abs(wm - wb) / np.abs(wb))), int((wb == 0).sum())


def _against_base(cuts: list[dict], key: str, methods, load, what: str):
    """(cut, method, loaded Base, loaded method) for every cut and every one of ``methods`` in ``cut[key]``
    (model records or saliency files), Base loaded once per cut; a cut with a method but no Base is a
    one-line ValueError."""
    for cut in cuts:
        items = cut[key]
        present = [m for m in methods if m in items]
        if not present:
            continue
        require_base(items, f"{what}: {cut['dataset']} cut {cut['cut']}")
        base = load(items["base"])
        for m in present:
            yield cut, m, base, load(items[m])


def weight_changes(cuts: list[dict]) -> pd.DataFrame:
    """Per cut and method (ROS, REMIX, DSM, EOS present), both measures: dataset, cut, method, measure,
    value, n_flagged."""
    rows = []
    for cut, m, wb, wm in _against_base(cuts, "models", TABLE8_METHODS, head_weight, "table8"):
        for measure, (value, flagged) in (("paper", paper_weight_change(wb, wm)),
                                          ("guarded", measures.relative_weight_change(wb, wm))):
            rows.append({"dataset": cut["dataset"], "cut": cut["cut"], "method": m, "measure": measure,
                         "value": value, "n_flagged": flagged})
    return pd.DataFrame(rows, columns=["dataset", "cut", "method", "measure", "value", "n_flagged"])


def table8(per_cut: pd.DataFrame, datasets: list[str]) -> pd.DataFrame:
    """dataset, method, measure, mean, sd, n_cuts, n_flagged (summed over cuts); inf / nan kept."""
    rows = []
    for ds in datasets:
        for measure in MEASURES:
            for m in TABLE8_METHODS:
                g = per_cut[(per_cut["dataset"] == ds) & (per_cut["method"] == m) & (per_cut["measure"] == measure)]
                if len(g):
                    mean, sd, n = mean_sd_n(g["value"])
                    rows.append({"dataset": ds, "method": m, "measure": measure, "mean": mean, "sd": sd, "n_cuts": n,
                                 "n_flagged": int(g["n_flagged"].sum())})
    return pd.DataFrame(rows, columns=["dataset", "method", "measure", "mean", "sd", "n_cuts", "n_flagged"])


def table8_markdown(t: pd.DataFrame, datasets: list[str], titles: dict | None = None) -> str:
    methods = [m for m in TABLE8_METHODS if m in set(t["method"])]
    st = t.set_index(["dataset", "measure", "method"])
    rows = []
    for ds in datasets:
        for measure in MEASURES:
            keys = [(ds, measure, m) for m in methods]
            if not any(k in st.index for k in keys):
                continue
            flagged = max(int(st.loc[k, "n_flagged"]) for k in keys if k in st.index)
            rows.append([_title(ds, titles), measure]
                        + [mean_sd(st.loc[k, "mean"], st.loc[k, "sd"], digits=3) if k in st.index else "n/a" for k in keys]
                        + [str(flagged)])
    md = markdown("Table VIII: CNN Weight Differences (classification layer)",
                   ["Dataset", "Measure"] + [MODEL_NAMES[m] for m in methods] + ["flagged entries"], rows)
    return md + ("\nMean ± sd over cuts of the mean over all C x 64 classification weights (bias left out) of "
                 "|W_m - W_Base| / |W_Base|, paired by cut. paper: no guard, as the authors' scripts (a W_Base "
                 "entry equal to 0 gives inf; flagged = such entries, summed over cuts). guarded: the tabular "
                 "Table VII's measure, entries with |W_Base| <= 1e-6 max|W_Base| left out (flagged = entries "
                 "left out, summed over cuts). LDAM's cosine head is not comparable and is not shown.\n")


def table8_stage(cuts: list[dict], datasets: list[str], out_csv: str, out_md: str,
                 titles: dict | None = None) -> pd.DataFrame:
    """The Table VIII rule: both measures, mean ± sd over cuts, CSV (column ``measure``) + Markdown."""
    t = table8(weight_changes(cuts), datasets)
    return write_table(t, table8_markdown(t, datasets, titles), out_csv, out_md)


# --- Fig. 10 -----------------------------------------------------------------------------------------------

def majority_minority(counts, imbalance_type: str) -> tuple[np.ndarray, int]:
    """(majority class indices, the one minority class) from train counts; see the module notes."""
    counts = np.asarray(counts)
    if imbalance_type == "step":
        majority = np.flatnonzero(counts == counts.max())
    else:
        majority = np.array([int(np.argmax(counts))])
    return majority, minority_class(counts)


def group_norms(weight, counts, imbalance_type: str) -> dict[str, float]:
    """{"majority": mean row norm of the majority classes, "minority": row norm of the minority class}."""
    norms = measures.weight_norms(weight)
    majority, minority = majority_minority(counts, imbalance_type)
    return {"majority": float(norms[majority].mean()), "minority": float(norms[minority])}


def weight_norm_frame(cuts: list[dict], imbalance_types: dict[str, str], titles: dict | None = None) -> pd.DataFrame:
    """One row per dataset (its title) / cut / model / group: the norm and the classes it covers."""
    rows = []
    for cut in cuts:
        labels = _labels(cut["train_indices"])
        counts = np.bincount(labels, minlength=_num_classes(cut))
        kind = imbalance_types[cut["dataset"]]
        majority, minority = majority_minority(counts, kind)
        classes = {"majority": majority, "minority": np.array([minority])}
        for model in FIG10_MODELS:
            if model not in cut["models"]:
                continue
            norms = group_norms(head_weight(cut["models"][model]), counts, kind)
            for group in ("majority", "minority"):
                rows.append({"dataset": _title(cut["dataset"], titles), "cut": cut["cut"],
                             "model": MODEL_NAMES[model], "group": group, "norm": norms[group],
                             "classes": " ".join(map(str, classes[group])),
                             "train_count": int(counts[classes[group][0]]), "imbalance_type": kind})
    return pd.DataFrame(rows)


def fig10_stage(cuts: list[dict], imbalance_types: dict[str, str], out_png: str, out_csv: str,
                titles: dict | None = None) -> pd.DataFrame:
    """The Fig. 10 rule: majority / minority class weight norms per data set and model (bars: mean over
    cuts); the CSV holds every cut's value."""
    frame = weight_norm_frame(cuts, imbalance_types, titles)
    if frame.empty:
        raise ValueError("fig10: none of Balanced, Base, ROS, REMIX, DSM, EOS is in the records")
    return bars(frame, x="model", y="norm", hue="group", col="dataset", ylabel="L2 norm of the class weight vector",
                 out_png=out_png, out_csv=out_csv,
                 suptitle="Classification-layer weight norms, majority vs minority class (mean over cuts)")


# --- Table XI: saliency ------------------------------------------------------------------------------------

def top_k_count(fraction: float, height: int, width: int) -> int:
    """k = max(1, round-half-up(fraction H W))."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    return max(1, int(math.floor(fraction * height * width + 0.5)))


class _DeterministicCudnn:
    def __enter__(self):
        import torch

        b = torch.backends.cudnn
        self.saved = (b.deterministic, b.benchmark)
        b.deterministic, b.benchmark = True, False

    def __exit__(self, *exc):
        import torch

        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = self.saved


def saliency(model: torch.nn.Module, images_u8: np.ndarray, mean, std, batch_size: int,
             device="cpu") -> tuple[np.ndarray, np.ndarray]:
    """(maps (N, H, W) float32: max over channels of |d logit_p / d x| with x in [0, 1]; p (N,) int64, the
    model's predicted class).  ``images_u8``: (N, H, W, C) uint8."""
    import torch  # here: the tables that read files only do not import torch

    dev = torch.device(device)
    model = model.to(dev).eval()
    m = torch.as_tensor(np.asarray(mean, np.float32), device=dev).view(1, -1, 1, 1)
    s = torch.as_tensor(np.asarray(std, np.float32), device=dev).view(1, -1, 1, 1)
    maps, preds = [], []
    with torch.enable_grad(), _DeterministicCudnn():
        for i in range(0, len(images_u8), batch_size):
            x = torch.from_numpy(np.ascontiguousarray(images_u8[i:i + batch_size])).to(dev)
            x = x.permute(0, 3, 1, 2).float().div(255.0).requires_grad_(True)
            logits = model((x - m) / s)
            pred = logits.argmax(1)
            (grad,) = torch.autograd.grad(logits.gather(1, pred[:, None]).sum(), x)
            maps.append(grad.abs().amax(dim=1).cpu().numpy())
            preds.append(pred.cpu().numpy())
    if not maps:
        h, w = images_u8.shape[1:3]
        return np.zeros((0, h, w), np.float32), np.zeros(0, np.int64)
    return np.concatenate(maps).astype(np.float32), np.concatenate(preds).astype(np.int64)


def top_k_pixels(maps: np.ndarray, fraction: float) -> np.ndarray:
    """(N, k) pixel indices h W + w of the k largest saliencies per map, largest first, ties -> lower index."""
    n, h, w = maps.shape
    k = top_k_count(fraction, h, w)
    return np.argsort(-maps.reshape(n, h * w), axis=1, kind="stable")[:, :k].astype(np.int64)


def top_pixels(model: torch.nn.Module, images_u8: np.ndarray, mean, std, fraction: float, batch_size: int,
               device="cpu") -> np.ndarray:
    """(N, k) top-``fraction`` saliency pixels of every image (see :func:`saliency`, :func:`top_k_pixels`)."""
    return top_k_pixels(saliency(model, images_u8, mean, std, batch_size, device)[0], fraction)


def pixel_overlap(top_base: np.ndarray, top_method: np.ndarray) -> np.ndarray:
    """Per image |top_m & top_base| / k for two (N, k) arrays of distinct pixel indices per row."""
    top_base, top_method = np.asarray(top_base), np.asarray(top_method)
    if top_base.shape != top_method.shape:
        raise ValueError(f"top-pixel shapes differ: {top_base.shape} vs {top_method.shape}")
    n, k = top_base.shape
    size = int(max(top_base.max(initial=0), top_method.max(initial=0))) + 1
    mask = np.zeros((n, size), bool)
    rows = np.arange(n)[:, None]
    mask[rows, top_base] = True
    return mask[rows, top_method].sum(1) / k


def save_top_pixels(path: str, top: np.ndarray, pred: np.ndarray, sample_id: np.ndarray, fraction: float,
                    height: int, width: int) -> None:
    """The saliency file of one (dataset, cut, model): top (N, k), pred, sample_id, fraction, height, width."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as fh:  # np.savez on a handle: no timestamps, same bytes for the same content
        np.savez(fh, top=np.asarray(top, np.int64), pred=np.asarray(pred, np.int64),
                 sample_id=np.asarray(sample_id, np.int64), fraction=np.float64(fraction),
                 height=np.int64(height), width=np.int64(width))


def load_top_pixels(path: str) -> dict:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def saliency_stage(record: dict, out_npz: str, fraction: float, batch_size: int, device: str) -> None:
    """The saliency rule for one (dataset, cut, model): ``record`` is the model record plus the cut's
    ``images`` and ``test_indices``; writes the top pixels of every test image of the cut (in the order of
    ``test_indices``).  ``device``: auto | cpu | cuda (:func:`training.pick_device`)."""
    from ..core.devices import pick_device

    from ..core.datasets import ImageArrays

    model, meta = load_network_meta(record)
    ids = pd.read_csv(record["test_indices"], usecols=["sample_id"])["sample_id"].to_numpy(np.int64)
    images = ImageArrays.load(record["images"]).test_x[ids]  # the test pool (the train pool with test_split train)
    maps, pred = saliency(model, images, meta["mean"], meta["std"], batch_size, pick_device(device))
    save_top_pixels(out_npz, top_k_pixels(maps, fraction), pred, ids, fraction, images.shape[1], images.shape[2])


def saliency_overlaps(cuts: list[dict]) -> pd.DataFrame:
    """Per cut and method: mean overlap with Base over the cut's test images.  ``cuts``: dicts dataset,
    cut, saliency = {model: npz}; columns dataset, cut, method, overlap, n_images, k, fraction."""
    rows = []
    for cut, m, base, other in _against_base(cuts, "saliency", TABLE11_METHODS, load_top_pixels, "table11"):
        if not np.array_equal(base["sample_id"], other["sample_id"]):
            raise ValueError(f"table11: {cut['dataset']} cut {cut['cut']}: {m} and base saliency files cover "
                             "different test images")
        rows.append({"dataset": cut["dataset"], "cut": cut["cut"], "method": m,
                     "overlap": float(pixel_overlap(base["top"], other["top"]).mean()),
                     "n_images": int(len(base["sample_id"])), "k": int(base["top"].shape[1]),
                     "fraction": float(base["fraction"])})
    return pd.DataFrame(rows, columns=["dataset", "cut", "method", "overlap", "n_images", "k", "fraction"])


def table11(per_cut: pd.DataFrame, datasets: list[str]) -> pd.DataFrame:
    """dataset, method, mean, sd, n_cuts, k; then rows dataset = "Average" (mean over data sets of the
    data-set means, sd NaN, n_cuts = the number of data sets averaged)."""
    rows = []
    for ds in datasets:
        for m in TABLE11_METHODS:
            g = per_cut[(per_cut["dataset"] == ds) & (per_cut["method"] == m)]
            if len(g):
                mean, sd, n = mean_sd_n(g["overlap"])
                rows.append({"dataset": ds, "method": m, "mean": mean, "sd": sd, "n_cuts": n,
                             "k": "/".join(map(str, sorted(set(g["k"].astype(int)))))})
    t = pd.DataFrame(rows, columns=["dataset", "method", "mean", "sd", "n_cuts", "k"])
    avg = [{"dataset": "Average", "method": m, "mean": float(g["mean"].mean()), "sd": float("nan"),
            "n_cuts": len(g), "k": ""} for m, g in t.groupby("method", sort=False)]
    return pd.concat([t, pd.DataFrame(avg, columns=t.columns)], ignore_index=True) if avg else t


def table11_markdown(t: pd.DataFrame, datasets: list[str], fraction: float | None = None,
                     titles: dict | None = None) -> str:
    methods = [m for m in TABLE11_METHODS if m in set(t["method"])]
    st = t.set_index(["dataset", "method"])
    rows = []
    for ds in [d for d in datasets if d in set(t["dataset"])] + ["Average"]:
        keys = [(ds, m) for m in methods]
        if any(k in st.index for k in keys):
            ks = "/".join(sorted({str(st.loc[k, "k"]) for k in keys if k in st.index}))
            rows.append([_title(ds, titles)] + [mean_sd(st.loc[k, "mean"], st.loc[k, "sd"]) if k in st.index else "n/a"
                                                for k in keys] + [ks])
    pct = "top" if fraction is None else f"top-{100 * fraction:g} %"
    md = markdown(f"Table XI: CNN: overlap of the {pct} salient pixels with Base", ["Dataset"]
                   + [MODEL_NAMES[m] for m in methods] + ["k"], rows)
    return md + ("\nSaliency s = max over channels of |d logit_p / d x| (p: the model's predicted class, x: the "
                 "image in [0, 1] before normalisation); top pixels = the k = round-half-up(fraction H W) largest "
                 "s (ties: lower pixel index). Overlap = |top(method) ∩ top(Base)| / k per test image, mean over "
                 "the cut's test images, mean ± sd over cuts; Average = mean over data sets.\n")


def table11_stage(cuts: list[dict], datasets: list[str], out_csv: str, out_md: str,
                  titles: dict | None = None) -> pd.DataFrame:
    """The Table XI rule: the saliency files of LDAM, ROS, REMIX, DSM, EOS against Base, CSV + Markdown."""
    per_cut = saliency_overlaps(cuts)
    fractions = sorted(set(per_cut["fraction"]))
    t = table11(per_cut, datasets)
    return write_table(t, table11_markdown(t, datasets, fractions[0] if len(fractions) == 1 else None, titles),
                        out_csv, out_md)


def table2_from_cuts(cuts: list[dict], out_csv: str, out_md: str) -> pd.DataFrame:
    """:func:`table2_stage` on cut records (dataset, cut, title, imbalance, train_indices, test_indices)."""
    names, titles, kinds = study(cuts)
    datasets = [{"name": d, "title": titles[d], "imbalance_type": kinds[d],
                 "cuts": {c["cut"]: {"train_indices": c["train_indices"], "test_indices": c["test_indices"]}
                          for c in cuts if c["dataset"] == d}} for d in names]
    return table2_stage(datasets, out_csv, out_md)
