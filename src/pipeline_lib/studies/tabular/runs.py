"""Stages of the tabular study ("How Data Augmentation Works with Imbalanced Data", §IV-A, and the tabular
analyses of "The Hidden Influence of Latent Feature Magnitude").

    fetch_stage       imbalanced-learn benchmark set -> data/tabular/raw/<set>.parquet
    split_stage       stratified 70:30 split (seed = run), StandardScaler fitted on train -> train/test Parquet
    augment_stage     real-space ROS / SMOTE / ADASYN / hard-label REMIX of the train split, and your own
                      samplers (``tabular.oversampling.custom``, :func:`custom_augment`)
    fit_sklearn_stage  SVM (RBF, Table III and the support-vector analyses), linear SVM (``svm_linear``,
                      the CE analysis only) or LG on base / CS / augmented data -> model.npz + test predictions
    train_nn_stage    the 4-layer MLP on the same data (REMIX per mini-batch); its epoch is selected on a
                      stratified validation split carved out of the train split BEFORE augmentation
                      (``tabular.nn.select_on``) -> model.pt + training log + test predictions
    export_stage      the Base MLP's penultimate layer of train and test rows -> embedding Parquet files that
                      the image pipeline's own oversampling / head stages (``resample_file``,
                      ``retrain_stage``; rule train_tabular_latent_heads) turn into EOS and DSM (SMOTE in
                      latent space)
    evaluate_stage    BAC and macro-F1 of every model and method of one run

Tables of rows (raw, split, augmented) are Parquet with columns ``sample_id`` (row of the data set as
fetched; for an augmented row the original row it is, copies (ROS) or is dominated by (REMIX), -1 for a
SMOTE / ADASYN interpolation), ``label`` (1 = minority), ``is_synthetic`` and ``x0 .. x<d-1>`` (float64);
their metadata are in ``pandas.read_parquet(path).attrs``.

Your own samplers (config ``tabular.oversampling.custom``, entries of
:mod:`pipeline_lib.sampling.custom_samplers`) are methods like SMOTE and ADASYN: ``split_augment_tabular``
writes their augmented training set (SVM and LG train on it), the NN augments its training rows with them.
In the rules' ``options`` a custom method's value is its record ``{"spec": <config entry>, "class",
"package", "version"}`` (:func:`custom_spec`), a built-in's its ``tabular.oversampling`` block.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ...core import embeddings as emb

CLASS_NAMES = ["majority", "minority"]
METHODS = ("base", "ros", "cs", "smote", "adasyn", "remix")  # real space (and cost-sensitive) methods
AUGMENTED = ("ros", "smote", "adasyn", "remix")               # the ones that make a new training set
LATENT = ("eos", "dsm")                                       # the NN's latent-space methods
LATENT_SAMPLER = {"eos": "eos", "dsm": "smote"}              # DSM = SMOTE on the embeddings (authors' README)
NN_AUGMENTED = ("ros", "smote", "adasyn")                     # the NN trains on their augmentation; REMIX mixes per batch
SKLEARN_MODELS = ("svm", "svm_linear", "lg")                  # svm_linear: the CE analysis's SVM (needs coef_)


def frame(sample_id, label, X, is_synthetic=None) -> pd.DataFrame:
    X = np.asarray(X, dtype=np.float64)
    df = pd.DataFrame({"sample_id": np.asarray(sample_id, np.int64), "label": np.asarray(label, np.int64),
                       "is_synthetic": np.zeros(len(X), bool) if is_synthetic is None else np.asarray(is_synthetic, bool)})
    return pd.concat([df, pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])], axis=1)


def read_table(path: str) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """(frame, X float64, metadata) of a raw / split / augmented table."""
    df, meta = emb.read(path)
    return df, df[[c for c in df.columns if c.startswith("x") and c[1:].isdigit()]].to_numpy(np.float64), meta


def fetch_stage(out: str, *, name: str, data_home: str | None, download: bool) -> None:
    from ...core.datasets import fetch_tabular

    X, y = fetch_tabular(name, data_home=data_home, download=download)
    emb.write_frame(out, frame(np.arange(len(y)), y, X), {"dataset": name, "source": "imblearn.fetch_datasets"})


def split_stage(raw: str, out_train: str, out_test: str, *, dataset: str, run: int, test_size: float) -> None:
    from ...core.datasets import stratified_split

    df, X, _ = read_table(raw)
    y = df["label"].to_numpy()
    tr, te, X_tr, X_te, scaler = stratified_split(X, y, seed=run, test_size=test_size)
    common = {"dataset": dataset, "run": int(run), "split_seed": int(run), "test_size": float(test_size),
              "scaler_mean": scaler.mean_.tolist(), "scaler_scale": scaler.scale_.tolist()}
    emb.write_frame(out_train, frame(tr, y[tr], X_tr), dict(common, split="train"))
    emb.write_frame(out_test, frame(te, y[te], X_te), dict(common, split="test"))


def custom_spec(options) -> dict | None:
    """The config entry of a custom method's ``options`` (its record, module docstring); None for a built-in's."""
    return options.get("spec") if isinstance(options, dict) else None


def copy_sources(X, y, X_res, y_res) -> tuple[np.ndarray, np.ndarray]:
    """``(source, is_synthetic)`` of a resampled set whose ``len(X)`` original rows come first: an original
    row is its own source; a new row equal to an original row (features and label) is a copy of it (its
    source, not synthetic, as ROS's copies); any other new row is synthetic (source -1)."""
    X, y, X_res, y_res = np.asarray(X), np.asarray(y), np.asarray(X_res), np.asarray(y_res)
    n = len(X)
    first = {}
    for i in range(n):
        first.setdefault((np.ascontiguousarray(X[i]).tobytes(), y[i].item()), i)
    source = np.r_[np.arange(n), [first.get((np.ascontiguousarray(X_res[j], X.dtype).tobytes(), y_res[j].item()), -1)
                                  for j in range(n, len(y_res))]].astype(np.int64)
    return source, np.r_[np.zeros(n, bool), source[n:] < 0]


def custom_augment(X, y, spec: dict, seed: int):
    """Your own sampler (a ``tabular.oversampling.custom`` entry, built by
    :func:`pipeline_lib.sampling.custom_samplers.build` with ``random_state=seed`` unless its params set one)
    on a tabular training set: ``(X_res, y_res, source, is_synthetic, sampler)``, the original rows first,
    unchanged and in order (:func:`pipeline_lib.sampling.custom_samplers.originals_first`: reordered where the
    sampler put them elsewhere; ValueError where it dropped one), new rows as :func:`copy_sources` reads them."""
    from ...sampling.custom_samplers import build, originals_first

    X, y = np.asarray(X), np.asarray(y)
    sampler = build(spec, seed)
    X_res, y_res = sampler.fit_resample(X, y)
    X_res, y_res = originals_first(X, y, np.asarray(X_res), np.asarray(y_res))
    source, syn = copy_sources(X, y, X_res, y_res)
    return X_res, y_res, source, syn, sampler


def augment_rows(X, y, sample_id, method: str, options: dict | None, seed: int):
    """``augment_table`` of rows that carry a ``sample_id``: ``(X_res, y_res, sample_id_res, is_synthetic)``,
    each output row with the id of the original it is, copies (ROS) or is dominated by (REMIX), -1 for an
    interpolation.  Shared by ``augment_stage`` and the NN's training set (:func:`nn_training_set`).  A
    custom method (``options`` its record) runs :func:`custom_augment`."""
    from ...sampling.oversampling import augment_table

    spec = custom_spec(options)
    if spec:
        X_res, y_res, source, syn, _ = custom_augment(X, y, spec, seed)
    else:
        X_res, y_res, source, syn = augment_table(X, y, method, seed, **(options or {}))
    return X_res, y_res, np.where(source >= 0, np.asarray(sample_id)[np.maximum(source, 0)], -1), syn


def custom_record(method: str, options: dict, sampler, seed: int, y, y_res) -> dict:
    """What an output of a custom method records of its sampler (:func:`pipeline_lib.sampling.oversampling.
    sampler_record`): its name, class, package, version, params (``get_params()``), seed and the class counts
    before and after."""
    from ...sampling.oversampling import sampler_record

    spec = custom_spec(options)
    params = dict(spec.get("params") or {})
    return sampler_record(method, sampler, params, params, seed, y, y_res, CLASS_NAMES, spec)


def augment_stage(train: str, out: str, *, method: str, options: dict, seed: int, log=print) -> None:
    """One method's augmented training set; a custom method's metadata add its :func:`custom_record`
    (``sampler_class``, ``sampler_package``, ``sampler_version``, ...) and ``method_options`` are its params."""
    df, X, meta = read_table(train)
    y, extra = df["label"].to_numpy(), {}
    spec = custom_spec(options)
    if spec:
        X_res, y_res, source, syn, sampler = custom_augment(X, y, spec, seed)
        ids = np.where(source >= 0, df["sample_id"].to_numpy()[np.maximum(source, 0)], -1)
        extra = custom_record(method, options, sampler, seed, y, y_res)
        options = dict(spec.get("params") or {})
    else:
        X_res, y_res, ids, syn = augment_rows(X, y, df["sample_id"].to_numpy(), method, options, seed)
    log(f"{method}: {len(df)} rows {np.bincount(df['label'], minlength=2).tolist()} -> {len(y_res)} rows "
        f"{np.bincount(y_res, minlength=2).tolist()}, {int(syn.sum())} synthetic")
    emb.write_frame(out, frame(ids, y_res, X_res, syn),
                    dict(meta, split="train", method=method, method_options=options, method_seed=int(seed),
                         n_original=int(len(df)), **extra))


def _predictions(path: str, test: pd.DataFrame, pred, score, **meta) -> None:
    out = pd.DataFrame({"sample_id": test["sample_id"].to_numpy(), "label": test["label"].to_numpy(),
                        "pred": np.asarray(pred, np.int64), "score": np.asarray(score, np.float64)})
    emb.write_frame(path, out, dict(meta, class_names=CLASS_NAMES))


def make_sklearn_model(model: str, method: str, settings: dict, seed: int):
    """SVC or LogisticRegression from the config block; ``class_weight="balanced"`` for CS.  ``svm`` is
    the SVC of ``tabular.svm`` as set (default RBF, the paper's scikit-learn defaults); ``svm_linear`` the
    same settings with ``kernel="linear"`` (for the CE analysis, which needs ``coef_``)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    cw = "balanced" if method == "cs" else None
    if model in ("svm", "svm_linear"):
        kw = dict(settings, kernel="linear") if model == "svm_linear" else dict(settings)
        return SVC(**kw, class_weight=cw, random_state=seed)
    if model == "lg":
        return LogisticRegression(**settings, class_weight=cw, random_state=seed)
    raise ValueError(f"unknown sklearn model {model!r}; allowed: {', '.join(SKLEARN_MODELS)}")


def fit_sklearn_stage(train: str, test: str, out_model: str, out_predictions: str, *, model: str, method: str,
                      settings: dict, seed: int, log=print) -> None:
    """Fit an SVM or LG; write what the analyses need (weights, support vectors with the identity of
    their training rows, convergence) to ``model.npz`` and the test predictions to Parquet.  A model
    that did not converge is reported in the log and recorded (``converged = False``), not silenced."""
    from sklearn.exceptions import ConvergenceWarning

    df, X, meta = read_table(train)
    te, X_te, test_meta = read_table(test)
    y = df["label"].to_numpy()
    est = make_sklearn_model(model, method, settings, seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est.fit(X, y)
    not_converged = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    n_iter = np.atleast_1d(getattr(est, "n_iter_", -1)).astype(np.int64)
    if model == "lg" and (n_iter >= est.max_iter).any():
        not_converged.append(f"lbfgs stopped at max_iter={est.max_iter}")
    for msg in not_converged:
        log(f"WARNING: {model}/{method} did not converge: {msg.splitlines()[0]}")
    kernel = getattr(est, "kernel", "")  # "" for LG
    linear = model == "lg" or kernel == "linear"
    arrays = {
        "kernel": np.array(kernel),
        "coef": est.coef_ if linear else np.zeros((0, X.shape[1])),
        "intercept": np.atleast_1d(est.intercept_),
        "converged": np.array(not not_converged),
        "n_iter": n_iter,
        "train_sample_id": df["sample_id"].to_numpy(),
        "train_label": y,
        "train_is_synthetic": df["is_synthetic"].to_numpy(),
        "n_original": np.array(meta.get("n_original", len(df))),
    }
    if model in ("svm", "svm_linear"):
        arrays.update(support=est.support_.astype(np.int64), dual_coef=est.dual_coef_[0],
                      n_support=est.n_support_.astype(np.int64))
    np.savez_compressed(out_model, **arrays)
    score = est.decision_function(X_te)
    _predictions(out_predictions, te, est.predict(X_te), score, dataset=test_meta["dataset"], run=test_meta["run"],
                 model=model, method=method, converged=not not_converged, kernel=kernel)
    log(f"{model}/{method}{f' ({kernel} kernel)' if kernel else ''}: {len(y)} training rows, "
        f"converged={not not_converged}, n_iter={n_iter.tolist()}")


def validation_split(y, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(fit_rows, validation_rows)``: a stratified split (sklearn ``train_test_split``,
    ``random_state=seed``) of the positions ``0..len(y)-1``, each part in ascending order."""
    from sklearn.model_selection import train_test_split

    fit, val = train_test_split(np.arange(len(y)), test_size=fraction, stratify=np.asarray(y), random_state=seed)
    return np.sort(fit), np.sort(val)


def nn_training_set(df: pd.DataFrame, X: np.ndarray, *, method: str, options: dict | None, select_on: str,
                    validation_fraction: float, seed: int) -> dict:
    """The NN's training and validation rows of one run's train split (``df`` / ``X`` as read by
    :func:`read_table`).  With ``select_on="validation"`` a stratified ``validation_fraction`` of the
    split is held out first (:func:`validation_split`, seeded by the run's seed); ROS / SMOTE / ADASYN and
    your own samplers then augment only the remaining rows (:func:`augment_rows`, the options and seed of
    :func:`augment_stage`), so no validation row, nor a copy or an interpolation of one, is trained on.
    Base / CS / REMIX (which mixes per mini-batch) train on the remaining rows.  With ``"final"`` nothing
    is held out and the training set is exactly :func:`augment_stage`'s file (or the split).

    Returns ``X``, ``y``, ``sample_id`` (as in augmented files: -1 for an interpolation) and
    ``is_synthetic`` of the training rows, and ``X_val``, ``y_val``, ``val_sample_id``."""
    y, ids = df["label"].to_numpy(), df["sample_id"].to_numpy()
    if select_on == "validation":
        fit, val = validation_split(y, validation_fraction, seed)
    elif select_on == "final":
        fit, val = np.arange(len(y)), np.zeros(0, np.int64)
    else:
        raise ValueError(f"select_on {select_on!r} not allowed; allowed: validation, final")
    out = {"X": X[fit], "y": y[fit], "sample_id": ids[fit], "is_synthetic": np.zeros(len(fit), bool),
           "X_val": X[val], "y_val": y[val], "val_sample_id": ids[val]}
    if method in NN_AUGMENTED or custom_spec(options):
        X_res, y_res, ids, syn = augment_rows(out["X"], out["y"], out["sample_id"], method, options, seed)
        out.update(X=X_res, y=y_res, sample_id=ids, is_synthetic=syn)
    return out


def train_nn_stage(train: str, test: str, out_model: str, out_predictions: str, out_history: str, *, method: str,
                   settings: dict, options: dict | None, remix_alpha: float, seed: int, log=print) -> None:
    """Train the MLP on one run's train split ``train`` with the method's data and loss: ROS / SMOTE /
    ADASYN on their augmentation (``options``: the method's ``tabular.oversampling`` block), your own
    samplers on theirs (``options``: the method's record, module docstring), CS with a class-weighted
    cross-entropy, REMIX with per-batch ReMix; the epoch is selected as ``settings["select_on"]`` says, on
    the validation rows of :func:`nn_training_set` (never the test set).  The model file's metadata and the
    training log (``val_bac`` per epoch, ``selected``) record the selected epoch and its validation BAC; a
    custom method's model file also its ``sampler_class``, ``sampler_package`` and ``sampler_version``."""
    import torch

    from ...core.mlp import save_mlp
    from ...core.mlp import MLPConfig, selection, train_mlp

    df, X, _ = read_table(train)
    te, X_te, test_meta = read_table(test)
    cfg = MLPConfig(**settings, seed=seed, class_weight="balanced" if method == "cs" else None,
                    remix_alpha=remix_alpha if method == "remix" else None)
    data = nn_training_set(df, X, method=method, options=options, select_on=cfg.select_on,
                           validation_fraction=cfg.validation_fraction, seed=seed)
    if cfg.select_on == "validation":
        log(f"{method}: {len(df)} train-split rows -> {len(data['y_val'])} validation rows "
            f"{np.bincount(data['y_val'], minlength=2).tolist()} held out; {len(data['y'])} training rows "
            f"{np.bincount(data['y'], minlength=2).tolist()}, {int(data['is_synthetic'].sum())} synthetic")
    model, history = train_mlp(data["X"], data["y"], cfg, X_val=data["X_val"], y_val=data["y_val"], log=log)
    chosen = selection(history)
    record = dict(chosen, select_on=cfg.select_on, epochs=cfg.epochs,
                  validation_fraction=cfg.validation_fraction if cfg.select_on == "validation" else 0.0,
                  n_training_rows=int(len(data["y"])), n_validation_rows=int(len(data["y_val"])))
    sampler = {f"sampler_{k}": options[k] for k in ("class", "package", "version")} if custom_spec(options) else {}
    save_mlp(out_model, model, method=method, dataset=test_meta["dataset"], run=test_meta["run"],
             class_names=CLASS_NAMES, **record, validation_sample_id=data["val_sample_id"].tolist(), **sampler)
    with torch.no_grad():
        logits = model(torch.as_tensor(np.array(X_te, np.float32)))  # a copy: Parquet-backed arrays are read-only
    _predictions(out_predictions, te, logits.argmax(1).numpy(), (logits[:, 1] - logits[:, 0]).numpy(),
                 dataset=test_meta["dataset"], run=test_meta["run"], model="nn", method=method, **record)
    pd.DataFrame(history).to_csv(out_history, index=False)


# Rows per forward pass of the tabular MLP's export: kept at 1024, not the image default (64): a tabular batch
# is a few hundred KiB, so it never meets the page-fault cost, and a matrix product's last bits depend on its
# row count (at 64, coil_2000's test features differ in the last bits; 45 of the demo's 50 splits are equal).
TABULAR_EXTRACT_BATCH = 1024


def export_stage(model_pt: str, train: str, test: str, out_train: str, out_test: str) -> None:
    """Phase 2a for the tabular NN: the Base MLP's d/2-dimensional penultimate layer of the (imbalanced)
    train split and of the test split, in the image pipeline's embedding format."""
    import torch

    from ...core.mlp import load_mlp

    model, meta = load_mlp(model_pt)
    common = {"dataset": meta["dataset"], "run": int(meta["run"]), "cut": None, "loss": "ce", "arch": "mlp",
              "backbone_sha256": emb.file_sha256(model_pt), "class_names": CLASS_NAMES}
    for split, path, out in (("train", train, out_train), ("test", test, out_test)):
        df, X, _ = read_table(path)
        feats, pred = emb.extract(model, torch.as_tensor(X, dtype=torch.float32), batch_size=TABULAR_EXTRACT_BATCH)
        emb.write(out, emb.make_frame(df["sample_id"], df["label"], pred, feats), dict(common, split=split))


def evaluate_stage(predictions: dict[str, str], out_csv: str, *, dataset: str, run: int) -> pd.DataFrame:
    """Tidy metrics (dataset, run, model, method, metric, value, converged, kernel) of one run;
    ``predictions`` maps ``"<model>/<method>"`` to a file with ``label`` and ``pred`` columns
    (``converged`` and ``kernel`` come from its metadata: False for an SVM / LG fit that did not converge;
    the SVM's kernel, empty for the other models)."""
    from ...core.metrics import compute, tidy

    frames = []
    for key, path in predictions.items():
        model, method = key.split("/")
        df = pd.read_parquet(path, columns=["label", "pred"])
        frames.append(tidy(compute(df["label"].to_numpy(), df["pred"].to_numpy(), 2), dataset=dataset, run=int(run),
                           model=model, method=method).assign(converged=bool(df.attrs.get("converged", True)),
                                                              kernel=str(df.attrs.get("kernel", ""))))
    out = pd.concat(frames, ignore_index=True)
    out.to_csv(out_csv, index=False)
    return out
