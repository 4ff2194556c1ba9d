"""Tables and figures of the tabular study (``reports/da/``, ``reports/magnitude/``).

Two layers, as in the EOS figures: ``collect_*`` functions read the per-run model files once and write a
tidy CSV under ``data/tabular/analysis/`` (one row per dataset x run x model x method [x class / feature]);
the table and figure functions only aggregate those CSVs (mean over runs, sample sd), write the table
(CSV + Markdown) or the PNG plus the CSV of exactly what it plots.

A *run* below is a dict made by the workflow: ``dataset``, ``run``, ``train``, ``test`` (split files),
``models`` = {model: {method: file}} (``model.npz`` for svm / svm_linear / lg, ``model.pt`` for nn,
``head.pt`` for the NN's eos / dsm) and ``predictions`` = {"model/method": file}.

Kernels: ``svm`` is the SVM of ``tabular.svm`` (default RBF, the paper's scikit-learn defaults) used by
Table III, Fig. 1 and the support-vector Figs 2-6; ``svm_linear`` (kernel linear) is the SVM of the CE
analysis (magnitude Figs 3, 4), which needs ``coef_``.  Every artifact that shows an SVM names the kernel
read from the model files (``kernel`` / ``svm_kernel`` column, title).

Your own samplers (``tabular.oversampling.custom``) are methods after the paper's (:func:`own_methods`: the
methods of the runs' files or of the tidy CSVs that are not the paper's, in their order): the collectors
read their models like the paper's; Tables III, IV, VI, VII, IX, X, the support-vector Figs 2-6, the weight
norms of Figs 7-9, the top features of Figs 11-12 and the magnitude paper's CE Figs 2-4 show them under
their own name.  Fig. 1 keeps the paper's methods: it contrasts class balancing (ROS, CS) with
interpolation (SMOTE, ADASYN, REMIX), and a sampler of your own belongs to neither group by name.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...core import measures
from ...render.names import TABULAR_NAMES, Names
from ...render.plots import bars, pyplot, save
from ...render.tables import markdown, mean_sd, write_table
from .runs import LATENT, METHODS, read_table

TITLES = {"ozone_level": "Ozone", "scene": "Scene", "coil_2000": "Coil", "thyroid_sick": "Thyroid",
          "us_crime": "US Crime"}
NN_METHODS = METHODS + LATENT
CHANGED = ("cs", "ros", "smote", "adasyn", "remix")  # methods compared with Base (paper order: CS first)
NAMES = Names(TABULAR_NAMES)  # display names; your own sampler's name shows as it is


def own_methods(methods) -> list[str]:
    """Your own samplers' methods among ``methods`` (an iterable of method names: a run's file keys, a CSV's
    ``method`` column): those that are not the paper's (METHODS, LATENT), in order of first appearance."""
    paper = set(METHODS) | set(LATENT)
    return list(dict.fromkeys(m for m in methods if m not in paper))


def _run_methods(r: dict, model: str) -> list[str]:
    """The real-space methods of one run's ``model`` files: the paper's, then your own samplers'."""
    return list(METHODS) + own_methods(r["models"][model])


def title(ds: str) -> str:
    return TITLES.get(ds, ds)


def _mean_sd(df: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    g = df.groupby(keys, sort=False)[value]
    return g.agg(mean="mean", sd="std", n="count").reset_index()


# --- collectors ------------------------------------------------------------------------------------------

def _npz(path: str) -> dict:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def _kernel(m: dict) -> str:
    """The SVM kernel recorded in a ``model.npz`` ("" for LG)."""
    return str(m["kernel"]) if "kernel" in m else "unknown"


def kernel_of(frame: pd.DataFrame, model: str = "svm") -> str:
    """The kernel(s) of ``model``'s rows of a frame with ``model`` and ``kernel`` columns (or of every
    row when it has no ``model`` column), e.g. "rbf"; "unknown" where not recorded."""
    if "kernel" not in frame:
        return "unknown"
    rows = frame[frame["model"] == model] if "model" in frame else frame
    kernels = sorted({str(k) for k in rows["kernel"].dropna() if str(k)})
    return "/".join(kernels) if kernels else "unknown"


def collect_support_vectors(runs: list[dict], out_csv: str, mode: str = "paper") -> pd.DataFrame:
    """Support-vector statistics of every SVM (Figs 2-6; the ``svm`` models, default RBF), with its kernel."""
    rows = []
    for r in runs:
        files = r["models"]["svm"]
        base = _npz(files["base"])
        base_ids = measures.sv_identities(base["support"], base["train_sample_id"], mode)
        for method in _run_methods(r, "svm"):
            m = _npz(files[method])
            stats = measures.support_vector_stats(m["support"], m["dual_coef"], m["train_label"], m["train_sample_id"],
                                                  m["train_is_synthetic"], int(m["n_original"]), base_ids, mode)
            rows.append({"dataset": r["dataset"], "run": r["run"], "method": method, "kernel": _kernel(m), **stats,
                         "sv_multiple": stats["n_sv"] / len(base["support"])})
    out = pd.DataFrame(rows)
    out.to_csv(out_csv, index=False, float_format="%.8g")
    return out


def _nn_models(r: dict) -> dict:
    """Every NN of a run as a torch module (eos / dsm: the Base encoder with the retrained head), the real-space
    methods first (the paper's, then your own samplers')."""
    from ...core.heads import load_head
    from ...core.mlp import load_mlp
    from ...core.models import reassemble

    files = r["models"]["nn"]
    out = {m: load_mlp(files[m])[0] for m in _run_methods(r, "nn")}
    for m in LATENT:
        out[m] = reassemble(out["base"], load_head(files[m])[0]).eval()
    return out


def collect_weights(runs: list[dict], out_csv: str, eps: float = 0.0) -> pd.DataFrame:
    """LG coefficient norms and the NN classification layer's per-class norms, with the relative weight
    change from Base (Tables VI, VII; Figs 7-9).  Bias terms are left out, as in the paper."""
    rows = []
    for r in runs:
        lg = {m: _npz(r["models"]["lg"][m])["coef"] for m in _run_methods(r, "lg")}
        nn = {m: mod.head.weight.detach().numpy().astype(np.float64) for m, mod in _nn_models(r).items()}
        for model, weights in (("lg", lg), ("nn", nn)):
            for method, w in weights.items():
                change, excluded = (np.nan, 0) if method == "base" else \
                    measures.relative_weight_change(weights["base"], w, eps)
                norms = measures.weight_norms(w)
                rows.append({"dataset": r["dataset"], "run": r["run"], "model": model, "method": method,
                             "norm": measures.frobenius_norm(w),
                             "norm_majority": norms[0] if model == "nn" else np.nan,
                             "norm_minority": norms[1] if model == "nn" else np.nan,
                             "relative_change": change, "n_excluded": excluded})
    out = pd.DataFrame(rows)
    out.to_csv(out_csv, index=False, float_format="%.8g")
    return out


def collect_top_features(runs: list[dict], out_csv: str, how: str = "abs_of_mean") -> pd.DataFrame:
    """Per class, the magnitude of every feature: LG classification embeddings x * w and NN input
    gradients over the test instances of the class that the model predicts correctly (Tables IX, X;
    Figs 11, 12)."""
    frames = []

    def add(r, model, method, values, y, pred):
        mags, fallback = measures.class_feature_magnitudes(values, y, pred, 2, how)
        for c in range(2):
            frames.append(pd.DataFrame({"dataset": r["dataset"], "run": r["run"], "model": model, "method": method,
                                        "class": c, "feature": np.arange(mags.shape[1]), "magnitude": mags[c],
                                        "fallback": bool(fallback[c])}))

    import torch

    for r in runs:
        test, X, _ = read_table(r["test"])
        y = test["label"].to_numpy()
        for method in _run_methods(r, "lg"):
            coef = _npz(r["models"]["lg"][method])["coef"]
            pred = pd.read_parquet(r["predictions"]["lg"][method], columns=["pred"])["pred"].to_numpy()
            add(r, "lg", method, measures.linear_contributions(X, coef), y, pred)
        for method, model in _nn_models(r).items():
            with torch.no_grad():
                pred = model(torch.as_tensor(X, dtype=torch.float32)).argmax(1).numpy()
            add(r, "nn", method, measures.input_gradients(model, X), y, pred)
    out = pd.concat(frames, ignore_index=True)
    out.to_csv(out_csv, index=False, float_format="%.8g")
    return out


def collect_ce_counts(runs: list[dict], out_csv: str, bias: str = "predicted", instances: str = "correct") -> pd.DataFrame:
    """Per class, the share of classification embeddings needed to predict an instance (mean over the
    class's instances) and for the whole class (union of the instances' CE), for LG and the linear SVM
    (the run's ``svm_linear`` models; rows ``model = "svm"``, ``kernel = "linear"``)."""
    rows = []
    for r in runs:
        test, X, _ = read_table(r["test"])
        y, d = test["label"].to_numpy(), X.shape[1]
        for model, name in (("lg", "lg"), ("svm_linear", "svm")):
            for method in _run_methods(r, model):
                m = _npz(r["models"][model][method])
                if m["coef"].size == 0:
                    raise ValueError(f"{r['dataset']} run {r['run']} {model}/{method}: the CE analysis needs a "
                                     f"linear model (coef_), got kernel {_kernel(m)!r}")
                pred = pd.read_parquet(r["predictions"][model][method], columns=["pred"])["pred"].to_numpy()
                counts, used = measures.ce_counts_binary(X, m["coef"], float(m["intercept"][0]), y, pred, bias)
                for c in range(2):
                    sel = (y == c) & ((pred == c) if instances == "correct" else True)
                    union = set().union(*(set(used[i].tolist()) for i in np.flatnonzero(sel))) if sel.any() else set()
                    rows.append({"dataset": r["dataset"], "run": r["run"], "model": name, "kernel": _kernel(m),
                                 "method": method, "class": c,
                                 "n_instances": int(sel.sum()), "features": d,
                                 "instance_pct": 100 * counts[sel].mean() / d if sel.any() else np.nan,
                                 "class_pct": 100 * len(union) / d if sel.any() else np.nan})
    out = pd.DataFrame(rows)
    out.to_csv(out_csv, index=False, float_format="%.8g")
    return out


# --- tables ----------------------------------------------------------------------------------------------

def table1(raw_files: dict[str, str], out_csv: str, out_md: str) -> pd.DataFrame:
    """Table I: imbalance ratio, samples and features of each data set, computed from the fetched data."""
    rows = []
    for ds, path in raw_files.items():
        df, X, _ = read_table(path)
        n_min = int(df["label"].sum())
        n_maj = len(df) - n_min
        rows.append({"dataset": ds, "title": title(ds), "imbalance_ratio": n_maj / n_min, "samples": len(df),
                     "features": X.shape[1], "majority": n_maj, "minority": n_min})
    t = pd.DataFrame(rows)
    md = markdown("Table I: Tabular Datasets", ["Dataset", "Imb. Ratio", "# Samples", "# Features"],
                   [[r.title, f"{round(r.imbalance_ratio)}:1", f"{r.samples:,}", str(r.features)]
                    for r in t.itertuples()])
    return write_table(t, md, out_csv, out_md)


def _metric_stats(metrics: pd.DataFrame) -> pd.DataFrame:
    m = metrics[metrics["metric"].isin(["bac", "fm"])]
    return _mean_sd(m, ["dataset", "model", "method", "metric"], "value").set_index(["dataset", "model", "method",
                                                                                     "metric"])


def _runs_note(metrics: pd.DataFrame) -> str:
    runs = sorted(metrics["run"].unique().tolist())
    return f"\nMean ± sd over {len(runs)} stratified 70:30 splits (seeds {', '.join(map(str, runs))}).\n"


def _convergence_note(metrics: pd.DataFrame) -> str:
    if "converged" not in metrics:
        return ""
    bad = metrics.loc[~metrics["converged"].astype(bool), ["dataset", "run", "model", "method"]].drop_duplicates()
    if bad.empty:
        return "Every SVM and LG fit converged.\n"
    fits = "; ".join(f"{r.dataset} run {r.run} {NAMES[r.model]} {NAMES[r.method]}" for r in bad.itertuples())
    return f"NOT converged ({len(bad)} fits, results kept): {fits}.\n"


def _own_note(custom: dict | None) -> str:
    """The Markdown lines naming your own samplers (``custom``: {name: one line, class, package, version})."""
    return "\nYour own samplers:\n\n" + "".join(f"- {line}\n" for line in custom.values()) if custom else ""


def table3(metrics: pd.DataFrame, datasets: list[str], out_csv: str, out_md: str,
           custom: dict | None = None) -> pd.DataFrame:
    """Table III: BAC and FM of SVM, LG and NN for every real-space method (the paper's, then your own
    samplers') and data set; ``svm_kernel`` (and the title) name the SVM's kernel as recorded in the per-run
    metrics.  ``custom``: {your sampler: its line (class, package, version, params)} listed under the table."""
    st = _metric_stats(metrics)
    kernel = kernel_of(metrics)
    rows, md_rows = [], []
    for ds in datasets:
        for method in list(METHODS) + own_methods(metrics["method"]):
            row, cells = {"dataset": ds, "method": method, "svm_kernel": kernel}, [title(ds), NAMES[method]]
            for model in ("svm", "lg", "nn"):
                for metric in ("bac", "fm"):
                    s = st.loc[(ds, model, method, metric)]
                    row[f"{model}_{metric}_mean"], row[f"{model}_{metric}_sd"] = s["mean"], s["sd"]
                    cells.append(mean_sd(s["mean"], s["sd"]))
            row["n_runs"] = int(s["n"])
            rows.append(row)
            md_rows.append(cells)
    heads = ["Dataset", "Method"] + [f"{NAMES[m]} {x}" for m in ("svm", "lg", "nn") for x in ("BAC", "FM")]
    md = markdown(f"Table III: Detailed Performance Results for Tabular Data (SVM: {kernel} kernel)", heads,
                   md_rows)
    return write_table(pd.DataFrame(rows), md + _runs_note(metrics) + _convergence_note(metrics) + _own_note(custom),
                       out_csv, out_md)


def table4(metrics: pd.DataFrame, datasets: list[str], out_csv: str, out_md: str,
           custom: dict | None = None) -> pd.DataFrame:
    """Table IV: the NN with real-space methods (the paper's, then your own samplers') vs latent-space EOS
    and DSM; best per column in bold.  ``custom``: as in :func:`table3`."""
    st = _metric_stats(metrics)
    rows = []
    for method in list(METHODS) + own_methods(metrics["method"]) + list(LATENT):
        row = {"method": method}
        for ds in datasets:
            for metric in ("bac", "fm"):
                s = st.loc[(ds, "nn", method, metric)]
                row[f"{ds}_{metric}_mean"], row[f"{ds}_{metric}_sd"] = s["mean"], s["sd"]
        rows.append(row)
    t = pd.DataFrame(rows)
    md_rows = [[NAMES[r["method"]]] for _, r in t.iterrows()]
    for ds in datasets:
        for metric in ("bac", "fm"):
            col = t[f"{ds}_{metric}_mean"]
            for i, r in t.iterrows():
                cell = mean_sd(r[f"{ds}_{metric}_mean"], r[f"{ds}_{metric}_sd"])
                md_rows[i].append(f"**{cell}**" if col[i] == col.max() else cell)
    heads = ["Method"] + [f"{title(ds)} {x}" for ds in datasets for x in ("BAC", "FM")]
    md = markdown("Table IV: Tabular Data: Latent vs. Real DA (NN)", heads, md_rows)
    return write_table(t, md + _runs_note(metrics) + _own_note(custom), out_csv, out_md)


def weight_change_table(weights: pd.DataFrame, model: str, datasets: list[str], out_csv: str, out_md: str,
                        eps: float) -> pd.DataFrame:
    """Tables VI (LG) and VII (NN classification layer): mean relative weight change from Base (the paper's
    methods, your own samplers', then for the NN EOS and DSM)."""
    w = weights[(weights["model"] == model) & (weights["method"] != "base")]
    methods = CHANGED + tuple(own_methods(w["method"])) + (LATENT if model == "nn" else ())
    st = _mean_sd(w, ["dataset", "method"], "relative_change").set_index(["dataset", "method"])
    excluded = w.groupby("dataset")["n_excluded"].sum()
    rows = [{"dataset": ds, **{m: st.loc[(ds, m), "mean"] for m in methods},
             **{f"{m}_sd": st.loc[(ds, m), "sd"] for m in methods}, "n_excluded": int(excluded[ds])}
            for ds in datasets]
    t = pd.DataFrame(rows)
    name = {"lg": "Table VI: LG Model Weight Differences", "nn": "Table VII: NN Model Weight Differences "
            "(classification layer)"}[model]
    md = markdown(name, ["Dataset"] + [NAMES[m] for m in methods] + ["entries left out"],
                   [[title(r["dataset"])] + [mean_sd(r[m], digits=3) for m in methods] + [str(r["n_excluded"])]
                    for _, r in t.iterrows()])
    guard = (f"Each entry: |W_m - W_base| / (|W_base| + {eps:g})." if eps > 0 else
             "Entries with |W_base| <= 1e-6 max|W_base| (numerically 0: constant features after scaling, dead "
             "MLP units) are left out of the mean (count summed over runs and methods).")
    n_runs = weights["run"].nunique()
    return write_table(t, md + f"\nMean over {n_runs} runs of the mean relative change of all non-bias weights. "
                        f"{guard}\n", out_csv, out_md)


def overlaps(top: pd.DataFrame, model: str, k: int) -> pd.DataFrame:
    """Top-k overlap with Base of every (dataset, run, method) of ``model`` from the magnitudes CSV."""
    t = top[top["model"] == model]
    rows = []
    for (ds, run), g in t.groupby(["dataset", "run"], sort=False):
        tops = {m: np.stack([measures.top_k(gm[gm["class"] == c].sort_values("feature")["magnitude"], k)
                             for c in (0, 1)]) for m, gm in g.groupby("method", sort=False)}
        fallback = g.groupby("method")["fallback"].any()
        for m in tops:
            if m != "base":
                rows.append({"dataset": ds, "run": run, "method": m, "overlap": measures.top_k_overlap(tops["base"],
                                                                                                       tops[m]),
                             "fallback": bool(fallback[m] or fallback["base"])})
    return pd.DataFrame(rows)


def overlap_table(top: pd.DataFrame, model: str, k: int, datasets: list[str], out_csv: str, out_md: str) -> pd.DataFrame:
    """Tables IX (LG, classification embeddings) and X (NN, input gradients): mean top-k overlap with Base
    (the paper's methods, your own samplers', then for the NN EOS and DSM)."""
    ov = overlaps(top, model, k)
    methods = CHANGED + tuple(own_methods(ov["method"])) + (LATENT if model == "nn" else ())
    st = ov.groupby(["dataset", "method"])["overlap"].mean()
    t = pd.DataFrame([{"dataset": ds, **{m: st[(ds, m)] for m in methods}} for ds in datasets])
    avg = {"dataset": "Average", **{m: t[m].mean() for m in methods}}
    t = pd.concat([t, pd.DataFrame([avg])], ignore_index=True)
    n_fb = int(ov["fallback"].sum())
    name = {"lg": f"Table IX: LG: overlap of the top-{k} classification-embedding features with Base",
            "nn": f"Table X: NN: overlap of the top-{k} input-gradient features with Base"}[model]
    md = markdown(name, ["Dataset"] + [NAMES[m] for m in methods],
                   [[title(r["dataset"])] + [mean_sd(r[m], digits=2) for m in methods] for _, r in t.iterrows()])
    note = (f"\nOverlap = sum over the 2 classes of |top-{k}(method) ∩ top-{k}(Base)| / {2 * k}, on correctly "
            f"predicted test instances, mean over {ov['run'].nunique()} runs. "
            f"{n_fb} (dataset, run, method) comparisons used all instances of a class because a model "
            "predicted none of them correctly.\n")
    return write_table(t, md + note, out_csv, out_md)


# --- figures ---------------------------------------------------------------------------------------------

def _named(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in ("method", "model"):
        if c in out:
            out[c] = out[c].map(lambda v: NAMES[v])
    if "dataset" in out:
        out["dataset"] = out["dataset"].map(title)
    return out


def fig1_balancing_vs_interpolation(metrics: pd.DataFrame, out_png: str, out_csv: str) -> pd.DataFrame:
    """Fig. 1: BAC and FM of class-balancing methods (ROS, CS) vs interpolating ones (SMOTE, ADASYN,
    REMIX), per classifier, averaged over data sets and runs.  The paper's methods only: a sampler of your
    own is in neither group by name (it is in Table III)."""
    m = metrics[metrics["metric"].isin(["bac", "fm"]) & metrics["method"].isin(CHANGED)].copy()
    kernel = kernel_of(metrics)
    agg = _mean_sd(m, ["model", "method", "metric"], "value")
    agg["group"] = np.where(agg["method"].isin(["ros", "cs"]), "balancing", "interpolating")
    agg["metric"] = agg["metric"].str.upper()
    agg["kernel"] = np.where(agg["model"] == "svm", kernel, "")
    plot = _named(agg).rename(columns={"mean": "value"})
    plot["model"] = plot["model"].replace({"SVM": f"SVM ({kernel})"})
    return bars(plot, x="model", y="value", hue="method", col="metric", ylabel="mean over data sets and runs",
                 out_png=out_png, out_csv=out_csv,
                 suptitle=f"Balancing (ROS, CS) vs interpolating (SMOTE, ADASYN, REMIX) methods (SVM: {kernel} kernel)")


SV_FIGURES = {  # figure -> (column, methods, y label, reference line)
    "fig2": ("sv_multiple", CHANGED, "# SVs / # SVs of Base", 1.0),
    "fig3": ("majority_minority_ratio", METHODS, "majority SVs / minority SVs", 1.0),
    "fig4": ("dual_coef_ratio", METHODS, "-sum dual coef (maj.) / sum dual coef (min.)", 1.0),
    "fig5": ("new_share", CHANGED, "share of SVs not in Base", None),
    "fig6": ("synthetic_share", ("smote", "adasyn"), "share of synthetic SVs", None),
}


def sv_figure(sv: pd.DataFrame, figure: str, out_png: str, out_csv: str) -> pd.DataFrame:
    """Figs 2-6 (SVM support vectors), mean over runs per data set and method: the figure's methods of the
    paper, then your own samplers' (their new rows that copy no original are synthetic, Fig. 6)."""
    column, methods, ylabel, ref = SV_FIGURES[figure]
    methods = tuple(methods) + tuple(own_methods(sv["method"]))
    kernel = kernel_of(sv)
    agg = _mean_sd(sv[sv["method"].isin(methods)], ["dataset", "method"], column).rename(columns={"mean": column})
    agg["kernel"] = kernel
    return bars(_named(agg), x="dataset", y=column, hue="method", ylabel=ylabel, out_png=out_png, out_csv=out_csv,
                 hline=ref, suptitle=f"SVM ({kernel} kernel) support vectors")


def lg_norm_figure(weights: pd.DataFrame, out_png: str, out_csv: str) -> pd.DataFrame:
    """Fig. 7: norm of the LG weights (bias excluded), mean over runs."""
    agg = _mean_sd(weights[weights["model"] == "lg"], ["dataset", "method"], "norm").rename(columns={"mean": "norm"})
    return bars(_named(agg), x="dataset", y="norm", hue="method", ylabel="LG weight norm", out_png=out_png,
                 out_csv=out_csv)


def nn_norm_figure(weights: pd.DataFrame, cls: str, out_png: str, out_csv: str) -> pd.DataFrame:
    """Figs 8 (majority) and 9 (minority): norm of the NN classification layer's class weights and its
    difference from Base, mean over runs."""
    col = f"norm_{cls}"
    w = weights[weights["model"] == "nn"].copy()
    base = w[w["method"] == "base"].set_index(["dataset", "run"])[col]
    w["difference from Base"] = w[col].to_numpy() - base.loc[list(zip(w["dataset"], w["run"]))].to_numpy()
    w = w.rename(columns={col: "norm"})
    long = w.melt(id_vars=["dataset", "run", "method"], value_vars=["norm", "difference from Base"],
                  var_name="quantity", value_name="value")
    agg = _mean_sd(long, ["quantity", "dataset", "method"], "value").rename(columns={"mean": "value"})
    return bars(_named(agg), x="dataset", y="value", hue="method", row="quantity",
                 ylabel=f"{cls} class weight norm", out_png=out_png, out_csv=out_csv, hline=0.0,
                 suptitle=f"NN classification layer, {cls} class")


def top_features_figure(top: pd.DataFrame, model: str, dataset: str, k: int, out_png: str, out_csv: str) -> pd.DataFrame:
    """Figs 11 (LG, |mean CE|) and 12 (NN, |mean input gradient|): the top-k features of each class of one
    data set for every method; magnitudes are averaged over runs (features keep their index across runs)."""
    t = top[(top["model"] == model) & (top["dataset"] == dataset)]
    mean = t.groupby(["method", "class", "feature"], sort=False)["magnitude"].mean().reset_index()
    order = list(METHODS) + own_methods(mean["method"]) + (list(LATENT) if model == "nn" else [])
    methods = [m for m in order if m in set(mean["method"])]
    rows = []
    for m in methods:
        for c in (0, 1):
            g = mean[(mean["method"] == m) & (mean["class"] == c)].sort_values("feature")
            for rank, f in enumerate(measures.top_k(g["magnitude"].to_numpy(), k)):
                rows.append({"method": m, "class": c, "rank": rank + 1, "feature": int(g["feature"].iloc[f]),
                             "magnitude": float(g["magnitude"].iloc[f])})
    frame = pd.DataFrame(rows)
    plt, _ = pyplot()
    ncol = 4 if len(methods) > 6 else 3
    nrow = -(-len(methods) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 2.6 * nrow), squeeze=False)
    for ax, m in zip(axes.flat, methods):
        f = frame[frame["method"] == m]
        labels = [f"{int(r.feature)}" for r in f.itertuples()]
        colors = ["tab:red" if c == 0 else "tab:blue" for c in f["class"]]
        ax.bar(range(len(f)), f["magnitude"], color=colors)
        ax.set_xticks(range(len(f)), labels, fontsize=7)
        ax.set_title(NAMES[m], fontsize=9)
    for ax in list(axes.flat)[len(methods):]:
        ax.axis("off")
    what = "|mean classification embedding|" if model == "lg" else "|mean input gradient|"
    fig.suptitle(f"{title(dataset)}, {NAMES[model]}: top-{k} features per class by {what} "
                 "(red: majority, blue: minority; x: feature index)", fontsize=9)
    fig.tight_layout()
    save(fig, out_png, frame.assign(method=frame["method"].map(NAMES)), out_csv)
    plt.close(fig)
    return frame


def ce_figure(ce: pd.DataFrame, model: str, out_png: str, out_csv: str) -> pd.DataFrame:
    """Magnitude paper Figs 2 (LG) and 3 (SVM): percentage of CE needed to predict an instance, per
    data set, method and class (0 majority, 1 minority), mean over runs."""
    c = ce[(ce["model"] == model) & (ce["method"] != "cs")]
    agg = _mean_sd(c, ["dataset", "method", "class"], "instance_pct").rename(columns={"mean": "instance_pct"})
    agg["class"] = agg["class"].map({0: "0 (majority)", 1: "1 (minority)"})
    name = NAMES[model]
    if model == "svm":
        agg["kernel"] = kernel_of(ce)
        name = f"SVM ({agg['kernel'].iloc[0]} kernel)"
    return bars(_named(agg), x="method", y="instance_pct", hue="class", col="dataset", ylabel="% of CE needed",
                 out_png=out_png, out_csv=out_csv, suptitle=f"{name}: CE needed to predict an instance")


def ce_instance_vs_class_figure(ce: pd.DataFrame, out_png: str, out_csv: str) -> pd.DataFrame:
    """Magnitude paper Fig. 4: CE needed per instance vs for the whole class (distinct features used by any
    instance of the class), LG and SVM, mean over data sets and runs."""
    c = ce[ce["method"] != "cs"].melt(id_vars=["dataset", "run", "model", "method", "class"],
                                      value_vars=["instance_pct", "class_pct"], var_name="count", value_name="pct")
    c["count"] = c["count"].map({"instance_pct": "per instance", "class_pct": "per class"})
    agg = _mean_sd(c, ["model", "class", "method", "count"], "pct").rename(columns={"mean": "pct"})
    agg["class"] = agg["class"].map({0: "class 0 (majority)", 1: "class 1 (minority)"})
    kernel = kernel_of(ce)
    agg["kernel"] = np.where(agg["model"] == "svm", kernel, "")
    plot = _named(agg)
    plot["model"] = plot["model"].replace({"SVM": f"SVM ({kernel})"})
    return bars(plot, x="method", y="pct", hue="count", row="model", col="class", ylabel="% of CE needed",
                 out_png=out_png, out_csv=out_csv, suptitle=f"CE needed per instance vs per class (SVM: {kernel} kernel)")


# --- entry point of the report rules -----------------------------------------------------------------------

def read_csvs(paths) -> pd.DataFrame:
    """One frame of the CSV files ``paths`` (the per-run metrics, or one analysis table)."""
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
