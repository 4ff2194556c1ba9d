"""The EOS paper's figures: each function computes exactly the numbers it plots, writes them as a CSV
next to the PNG (seaborn), and returns the frame.  Inputs are the pipeline's Parquet / checkpoint files."""
from __future__ import annotations

import os
import platform

import numpy as np
import pandas as pd

from ...core import embeddings as emb
from ...core import measures
from ...render.names import METHOD_NAMES, loss_display
from ...render.plots import pyplot, save


def _train_path(run: dict, method: str) -> str:
    """Train embeddings of a run as seen by ``method``: 'baseline' the originals, a sampler its
    oversampled file (synthetic rows included)."""
    return run["train"] if method == "baseline" else run["oversampled"][method]


def _train_of(run: dict, method: str) -> tuple[np.ndarray, np.ndarray]:
    df, _ = emb.read(_train_path(run, method))
    return emb.features(df), df["label"].to_numpy()


def gap_per_class(runs: list[dict], methods: list[str], out_png: str, out_csv: str, title: str = "") -> pd.DataFrame:
    """Fig. 3: generalization gap per class for every loss and method, with the class counts drawn over it.

    ``runs``: dicts with keys cut, loss, train, test (Parquet paths) and oversampled {sampler: path}.
    The plotted value is the mean over cuts."""
    rows = []
    for run in runs:
        test, meta = emb.read(run["test"])
        C = len(meta["class_names"])
        test_X, test_y = emb.features(test), test["label"].to_numpy()
        train_df, _ = emb.read(run["train"])
        counts = np.bincount(train_df["label"], minlength=C)
        for method in methods:
            X, y = (emb.features(train_df), train_df["label"].to_numpy()) if method == "baseline" else \
                _train_of(run, method)
            gap = measures.generalization_gap(X, y, test_X, test_y, C)
            rows += [dict(cut=run["cut"], loss=loss_display(run["loss"]), method=METHOD_NAMES[method], class_index=c,
                          n_train=int(counts[c]), gap=float(gap[c])) for c in range(C)]
    per_cut = pd.DataFrame(rows)
    frame = (per_cut.groupby(["loss", "method", "class_index"], sort=False)
             .agg(gap=("gap", "mean"), gap_sd=("gap", "std"), n_train=("n_train", "mean"), n_cuts=("cut", "nunique"))
             .reset_index())
    plt, sns = pyplot()
    losses = list(dict.fromkeys(frame["loss"]))
    fig, axes = plt.subplots(1, len(losses), figsize=(3.6 * len(losses), 3.2), squeeze=False, sharey=True)
    for ax, loss in zip(axes[0], losses):
        sub = frame[frame["loss"] == loss]
        sns.lineplot(data=sub, x="class_index", y="gap", hue="method", style="method", markers=True, ax=ax)
        ax.set_title(f"{title} {loss}".strip())
        ax.set_xlabel("class (0 = largest)")
        ax.set_ylabel("generalization gap")
        twin = ax.twinx()
        imb = sub.drop_duplicates("class_index")
        twin.plot(imb["class_index"], imb["n_train"], color="black", lw=1.2, label="train count")
        twin.set_yscale("log")
        twin.grid(False)
        twin.set_ylabel("train images (log)")
        if ax is not axes[0][-1]:
            twin.set_ylabel("")
    return save(fig, out_png, frame, out_csv)


def gap_tp_fp(runs_by_dataset: dict[str, list[dict]], out_png: str, out_csv: str) -> pd.DataFrame:
    """Fig. 4: gap of test true positives vs false positives of the phase-1 network, per dataset
    (mean over classes, then over losses and cuts)."""
    rows = []
    for ds, runs in runs_by_dataset.items():
        for run in runs:
            test, meta = emb.read(run["test"])
            train, _ = emb.read(run["train"])
            out = measures.tp_fp_gap(emb.features(train), train["label"], emb.features(test), test["label"],
                                     test["pred"], len(meta["class_names"]))
            for kind in ("tp", "fp"):
                rows.append(dict(dataset=ds, cut=run["cut"], loss=loss_display(run["loss"]), kind=kind.upper(),
                                 gap=float(np.nanmean(out[kind])) if np.isfinite(out[kind]).any() else np.nan))
    per_run = pd.DataFrame(rows)
    frame = per_run.groupby(["dataset", "kind"], sort=False).agg(gap=("gap", "mean"), gap_sd=("gap", "std"),
                                                                 n_runs=("gap", "count")).reset_index()
    plt, sns = pyplot()
    fig, ax = plt.subplots(figsize=(1.6 + 1.4 * frame["dataset"].nunique(), 3.2))
    sns.barplot(data=per_run, x="dataset", y="gap", hue="kind", errorbar="sd", ax=ax)
    ax.set_ylabel("generalization gap (test vs train range)")
    ax.set_title("Gap of true vs false positives")
    return save(fig, out_png, frame, out_csv)


def head_weight_norms(runs: list[dict], methods: list[str], out_png: str, out_csv: str, title: str = "") -> pd.DataFrame:
    """Fig. 5: L2 norm of each class's classifier weights, per loss, for the phase-1 head ('Baseline')
    and each retrained head.  ``runs``: dicts with keys cut, loss, backbone, heads {sampler: path}."""
    import torch

    from ...core.models import class_weight_rows

    rows = []
    for run in runs:
        state = torch.load(run["backbone"], map_location="cpu", weights_only=False)
        w = state["state_dict"]["head.weight"].numpy()
        phase1 = class_weight_rows(w, bool(state.get("normed_head")))
        for method in methods:
            if method == "baseline":
                W = phase1
            else:
                W = torch.load(run["heads"][method], map_location="cpu", weights_only=False)["state_dict"]["weight"].numpy()
            for c, norm in enumerate(measures.weight_norms(W)):
                rows.append(dict(cut=run["cut"], loss=loss_display(run["loss"]), method=METHOD_NAMES[method],
                                 class_index=c, norm=float(norm)))
    per_cut = pd.DataFrame(rows)
    frame = (per_cut.groupby(["loss", "method", "class_index"], sort=False)
             .agg(norm=("norm", "mean"), norm_sd=("norm", "std"), n_cuts=("cut", "nunique")).reset_index())
    plt, sns = pyplot()
    losses = list(dict.fromkeys(frame["loss"]))
    fig, axes = plt.subplots(1, len(losses), figsize=(3.6 * len(losses), 3.2), squeeze=False)
    for ax, loss in zip(axes[0], losses):
        sns.lineplot(data=frame[frame["loss"] == loss], x="class_index", y="norm", hue="method", style="method",
                     markers=True, ax=ax)
        ax.set_title(f"{title} {loss}".strip())
        ax.set_xlabel("class (0 = largest)")
        ax.set_ylabel("weight norm (L2)")
    return save(fig, out_png, frame, out_csv)


def tsne_panels(run: dict, methods: list[str], classes: list[int], names: list[str], out_png: str, out_csv: str, *,
                max_points_per_class: int, perplexity: float, seed: int, title: str = "") -> pd.DataFrame:
    """Fig. 6: t-SNE (scikit-learn) of the training embeddings of two classes, one panel per method,
    synthetic rows drawn distinctly.  At most ``max_points_per_class`` real and as many synthetic rows
    per class and panel (seeded subsample)."""
    from sklearn.manifold import TSNE

    rng = np.random.RandomState(seed)
    rows = []
    for method in methods:
        df, _ = emb.read(_train_path(run, method))
        keep = []
        for c in classes:
            for syn in (False, True):
                idx = np.flatnonzero((df["label"].to_numpy() == c) & (df["is_synthetic"].to_numpy() == syn))
                if len(idx) > max_points_per_class:
                    idx = np.sort(rng.choice(idx, max_points_per_class, replace=False))
                keep.append(idx)
        sub = df.iloc[np.concatenate(keep)]
        X = emb.features(sub)
        xy = TSNE(n_components=2, perplexity=min(perplexity, (len(X) - 1) / 3), random_state=seed,
                  init="pca").fit_transform(X)
        rows.append(pd.DataFrame({"method": METHOD_NAMES[method], "class_name": [names[c] for c in sub["label"]],
                                  "synthetic": sub["is_synthetic"].to_numpy(), "tsne_1": xy[:, 0], "tsne_2": xy[:, 1]}))
    frame = pd.concat(rows, ignore_index=True)
    plt, sns = pyplot()
    fig, axes = plt.subplots(1, len(methods), figsize=(3.2 * len(methods), 3.2), squeeze=False)
    for ax, method in zip(axes[0], methods):
        sub = frame[frame["method"] == METHOD_NAMES[method]]
        sns.scatterplot(data=sub, x="tsne_1", y="tsne_2", hue="class_name", style="synthetic",
                        markers={False: "o", True: "X"}, s=10, alpha=0.7, linewidth=0, ax=ax, legend=ax is axes[0][-1])
        ax.set_title(METHOD_NAMES[method])
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_xlabel(""), ax.set_ylabel("")
    fig.suptitle(title, y=1.04)
    return save(fig, out_png, frame, out_csv)


def head_curves(runs_by_dataset: dict[str, dict], samplers: list[str], epochs: int, head_training: dict,
                loss_options: dict, seed: int, out_png: str, out_csv: str, loss: str | None = None) -> pd.DataFrame:
    """Fig. 7: train and test BAC of the retrained head after every epoch, for each sampler (the
    pipeline's own head training, run for ``epochs`` epochs, with ``loss``; None: each run's own loss)."""
    from ...core.heads import fit_from_files

    rows = []
    for ds, run in runs_by_dataset.items():
        for sampler in samplers:
            _, hist, *_ = fit_from_files(run["oversampled"][sampler], run["test"], loss=loss or run["loss"],
                                         training={**head_training, "epochs": epochs}, loss_options=loss_options,
                                         seed=seed)
            for h in hist:
                for split in ("train", "test"):
                    rows.append(dict(dataset=ds, method=METHOD_NAMES[sampler], epoch=h["epoch"], split=split,
                                     bac=h[f"{split}_bac"]))
    frame = pd.DataFrame(rows)
    plt, sns = pyplot()
    dsets = list(dict.fromkeys(frame["dataset"]))
    fig, axes = plt.subplots(1, len(dsets), figsize=(4 * len(dsets), 3.2), squeeze=False)
    for ax, ds in zip(axes[0], dsets):
        sns.lineplot(data=frame[frame["dataset"] == ds], x="epoch", y="bac", hue="method", style="split", ax=ax)
        ax.set_title(ds)
        ax.set_ylabel("balanced accuracy")
    return save(fig, out_png, frame, out_csv)


def runtime_table(benchmarks: dict[str, dict[str, list[str]]], out_csv: str) -> pd.DataFrame:
    """Wall and CPU time of each pipeline, summed over its stages' Snakemake benchmark files.

    ``benchmarks``: {dataset: {pipeline: [tsv, ...]}} with one pipeline's stage files for all cuts; the
    table reports the mean per cut."""
    rows = []
    for ds, pipelines in benchmarks.items():
        for name, files in pipelines.items():
            b = pd.concat([pd.read_csv(f, sep="\t").assign(file=f) for f in files], ignore_index=True)
            n_cuts = len({_cut_of(f) for f in files})
            rows.append(dict(dataset=ds, pipeline=name, n_cuts=n_cuts, n_jobs=len(files),
                             wall_s_per_cut=b["s"].sum() / n_cuts, cpu_s_per_cut=b["cpu_time"].sum() / n_cuts,
                             max_rss_mb=b["max_rss"].max()))
    frame = pd.DataFrame(rows)
    # the machine this table was made on; with a cluster executor the jobs ran elsewhere
    frame["machine"] = f"{platform.machine()}, {os.cpu_count()} CPUs, {_cpu_model()}, {_accelerator()}"
    frame.to_csv(out_csv, index=False, float_format="%.3f")
    return frame


def _cut_of(path: str) -> str:
    import re

    m = re.search(r"_cut(\d+)_", os.path.basename(path))
    return m.group(1) if m else "?"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _accelerator() -> str:
    try:
        import torch

        return torch.cuda.get_device_name() if torch.cuda.is_available() else "(no GPU)"
    except Exception:  # pragma: no cover
        return ""


def resolve_classes(spec, class_names: list[str], counts) -> list[int]:
    """Class indices from names or indices; default the largest and the smallest training class."""
    if not spec:
        return [int(np.argmax(counts)), int(np.argmin(counts))]
    out = []
    for s in spec:
        if isinstance(s, (int, np.integer)) and 0 <= s < len(class_names):
            out.append(int(s))
        elif isinstance(s, str) and s in class_names:
            out.append(class_names.index(s))
        else:
            raise ValueError(f"measures.tsne.classes: {s!r} is not a class; classes: {', '.join(class_names)}")
    return out


def tsne_figure(run: dict, methods: list[str], tsne: dict, out_png: str, out_csv: str, *, seed: int,
                title: str = "") -> pd.DataFrame:
    """Fig. 6 from the config's ``measures.tsne`` settings."""
    train, meta = emb.read(run["train"])
    names = meta["class_names"]
    classes = resolve_classes(tsne.get("classes"), names, np.bincount(train["label"], minlength=len(names)))
    return tsne_panels(run, methods, classes, names, out_png, out_csv, max_points_per_class=tsne["max_points_per_class"],
                       perplexity=tsne["perplexity"], seed=seed,
                       title=f"{title}: {names[classes[0]]} vs {names[classes[1]]}".strip(": "))


def gan_samples(images_npz: str, indices_csv: str, generators: dict[str, str], out_png: str, out_csv: str, *,
                per_class: int, seed: int, title: str = "") -> pd.DataFrame:
    """``fig_gan_samples_<dataset>``: per class a row of ``per_class`` real training images of the cut,
    then a row per GAN of generated ones (``generators``: {gan: generator.pt}).  The CSV has per GAN
    and class: the mean and the spread (sd over images, averaged over pixels) of the generated pixels
    against the real ones, and the mean L2 distance (0..255 pixel units) of a generated image to its
    nearest real training image of the class (0: a copy; GAMO's convex combinations sit close)."""
    from ...sampling.gans import generate, load_generator
    from ...sampling.oversampling import cut_images

    data, x, y = cut_images(images_npz, indices_csv)
    C = data.num_classes
    rows_img, labels, stats = [], [], []
    rng = np.random.default_rng(seed)
    real = [x[rng.choice(np.flatnonzero(y == c), min(per_class, int((y == c).sum())), replace=False)]
            for c in range(C)]
    fake = {}
    for gan, path in generators.items():
        state = load_generator(path)
        gx, gy = generate(state, {c: per_class for c in range(C)}, seed=seed, images=x, labels=y)
        fake[gan] = [gx[gy == c] for c in range(C)]
        for c in range(C):
            ref = x[y == c].reshape(int((y == c).sum()), -1).astype(np.float32)
            g = fake[gan][c].reshape(len(fake[gan][c]), -1).astype(np.float32)
            nearest = np.sqrt(((g[:, None, :] - ref[None, :, :]) ** 2).sum(-1)).min(1)
            stats.append(dict(gan=gan, class_index=c, class_name=data.class_names[c], n_real=len(ref),
                              real_mean=float(ref.mean()), fake_mean=float(g.mean()),
                              real_spread=float(ref.std(0).mean()), fake_spread=float(g.std(0).mean()),
                              nearest_real_l2=float(nearest.mean())))
    for c in range(C):
        for name, imgs in [("real", real[c])] + [(gan, fake[gan][c]) for gan in generators]:
            rows_img.append(imgs)
            labels.append(f"{data.class_names[c]}: {name}")
    plt, _ = pyplot()
    n_rows, ch = len(rows_img), x.shape[3]
    fig, axes = plt.subplots(n_rows, per_class, figsize=(per_class * 0.7 + 2.2, n_rows * 0.7), squeeze=False)
    for r, (imgs, label) in enumerate(zip(rows_img, labels)):
        for j in range(per_class):
            ax = axes[r][j]
            ax.set_xticks([]), ax.set_yticks([])
            ax.grid(False)
            if j < len(imgs):
                img = imgs[j][..., 0] if ch == 1 else imgs[j]
                ax.imshow(img, cmap="gray" if ch == 1 else None, vmin=0, vmax=255)
            else:
                ax.axis("off")
        axes[r][0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
    fig.suptitle(title or "GAN samples next to real training images", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / (n_rows * 0.7)))  # keep the title clear of the first row
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    frame = pd.DataFrame(stats)
    frame.to_csv(out_csv, index=False, float_format="%.4f")
    return frame
