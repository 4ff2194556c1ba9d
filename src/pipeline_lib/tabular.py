"""Stages of the tabular study ("How Data Augmentation Works with Imbalanced Data", §IV-A, and the tabular
analyses of "The Hidden Influence of Latent Feature Magnitude").

    fetch_stage       imbalanced-learn benchmark set -> data/tabular/raw/<set>.parquet
    split_stage       stratified 70:30 split (seed = run), StandardScaler fitted on train -> train/test Parquet
    augment_stage     real-space ROS / SMOTE / ADASYN / hard-label REMIX of the train split
    fit_sklearn_stage  SVM or LG on base / CS / augmented data -> model.npz + test predictions
    train_nn_stage    the 4-layer MLP on the same data (REMIX per mini-batch) -> model.pt + test predictions
    export_stage      the Base MLP's penultimate layer of train and test rows -> embedding Parquet files that
                      the image pipeline's own oversample_embeddings / retrain_head stages turn into EOS and
                      DSM (SMOTE in latent space)
    evaluate_stage    BAC and macro-F1 of every model and method of one run

Tables of rows (raw, split, augmented) are Parquet with columns ``sample_id`` (row of the data set as
fetched; for an augmented row the original row it is, copies (ROS) or is dominated by (REMIX), -1 for a
SMOTE / ADASYN interpolation), ``label`` (1 = minority), ``is_synthetic`` and ``x0 .. x<d-1>`` (float64);
their metadata are in ``pandas.read_parquet(path).attrs``.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from . import embeddings as emb

CLASS_NAMES = ["majority", "minority"]
METHODS = ("base", "ros", "cs", "smote", "adasyn", "remix")  # real space (and cost-sensitive) methods
AUGMENTED = ("ros", "smote", "adasyn", "remix")               # the ones that make a new training set
LATENT = ("eos", "dsm")                                       # the NN's latent-space methods
LATENT_SAMPLER = {"eos": "eos", "dsm": "smote"}              # DSM = SMOTE on the embeddings (authors' README)


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
    from .datasets import fetch_tabular

    X, y = fetch_tabular(name, data_home=data_home, download=download)
    emb.write_frame(out, frame(np.arange(len(y)), y, X), {"dataset": name, "source": "imblearn.fetch_datasets"})


def split_stage(raw: str, out_train: str, out_test: str, *, dataset: str, run: int, test_size: float) -> None:
    from .datasets import stratified_split

    df, X, _ = read_table(raw)
    y = df["label"].to_numpy()
    tr, te, X_tr, X_te, scaler = stratified_split(X, y, seed=run, test_size=test_size)
    common = {"dataset": dataset, "run": int(run), "split_seed": int(run), "test_size": float(test_size),
              "scaler_mean": scaler.mean_.tolist(), "scaler_scale": scaler.scale_.tolist()}
    emb.write_frame(out_train, frame(tr, y[tr], X_tr), dict(common, split="train"))
    emb.write_frame(out_test, frame(te, y[te], X_te), dict(common, split="test"))


def augment_stage(train: str, out: str, *, method: str, options: dict, seed: int, log=print) -> None:
    from .oversampling import augment_table

    df, X, meta = read_table(train)
    X_res, y_res, source, syn = augment_table(X, df["label"].to_numpy(), method, seed, **options)
    ids = np.where(source >= 0, df["sample_id"].to_numpy()[np.maximum(source, 0)], -1)
    log(f"{method}: {len(df)} rows {np.bincount(df['label'], minlength=2).tolist()} -> {len(y_res)} rows "
        f"{np.bincount(y_res, minlength=2).tolist()}, {int(syn.sum())} synthetic")
    emb.write_frame(out, frame(ids, y_res, X_res, syn),
                    dict(meta, split="train", method=method, method_options=options, method_seed=int(seed),
                         n_original=int(len(df))))


def _predictions(path: str, test: pd.DataFrame, pred, score, **meta) -> None:
    out = pd.DataFrame({"sample_id": test["sample_id"].to_numpy(), "label": test["label"].to_numpy(),
                        "pred": np.asarray(pred, np.int64), "score": np.asarray(score, np.float64)})
    emb.write_frame(path, out, dict(meta, class_names=CLASS_NAMES))


def make_sklearn_model(model: str, method: str, settings: dict, seed: int):
    """SVC or LogisticRegression from the config block; ``class_weight="balanced"`` for CS."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    cw = "balanced" if method == "cs" else None
    if model == "svm":
        return SVC(**settings, class_weight=cw, random_state=seed)
    if model == "lg":
        return LogisticRegression(**settings, class_weight=cw, random_state=seed)
    raise ValueError(f"unknown linear model {model!r}; allowed: svm, lg")


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
    linear = model == "lg" or est.kernel == "linear"
    arrays = {
        "coef": est.coef_ if linear else np.zeros((0, X.shape[1])),
        "intercept": np.atleast_1d(est.intercept_),
        "converged": np.array(not not_converged),
        "n_iter": n_iter,
        "train_sample_id": df["sample_id"].to_numpy(),
        "train_label": y,
        "train_is_synthetic": df["is_synthetic"].to_numpy(),
        "n_original": np.array(meta.get("n_original", len(df))),
    }
    if model == "svm":
        arrays.update(support=est.support_.astype(np.int64), dual_coef=est.dual_coef_[0],
                      n_support=est.n_support_.astype(np.int64))
    np.savez_compressed(out_model, **arrays)
    score = est.decision_function(X_te)
    _predictions(out_predictions, te, est.predict(X_te), score, dataset=test_meta["dataset"], run=test_meta["run"],
                 model=model, method=method, converged=not not_converged)
    log(f"{model}/{method}: {len(y)} training rows, converged={not not_converged}, n_iter={n_iter.tolist()}")


def train_nn_stage(train: str, test: str, out_model: str, out_predictions: str, out_history: str, *, method: str,
                   settings: dict, remix_alpha: float, seed: int, log=print) -> None:
    """Train the MLP with the method's data and loss: base / ROS / SMOTE / ADASYN on their training set,
    CS with a class-weighted cross-entropy, REMIX on the original split with per-batch ReMix."""
    import torch

    from .models import save_mlp
    from .training import MLPConfig, train_mlp

    df, X, _ = read_table(train)
    te, X_te, test_meta = read_table(test)
    cfg = MLPConfig(**settings, seed=seed, class_weight="balanced" if method == "cs" else None,
                    remix_alpha=remix_alpha if method == "remix" else None)
    model, history = train_mlp(X, df["label"].to_numpy(), cfg, log=log)
    save_mlp(out_model, model, method=method, dataset=test_meta["dataset"], run=test_meta["run"],
             class_names=CLASS_NAMES)
    with torch.no_grad():
        logits = model(torch.as_tensor(X_te, dtype=torch.float32))
    _predictions(out_predictions, te, logits.argmax(1).numpy(), (logits[:, 1] - logits[:, 0]).numpy(),
                 dataset=test_meta["dataset"], run=test_meta["run"], model="nn", method=method)
    pd.DataFrame(history).to_csv(out_history, index=False)


def export_stage(model_pt: str, train: str, test: str, out_train: str, out_test: str) -> None:
    """Phase 2a for the tabular NN: the Base MLP's d/2-dimensional penultimate layer of the (imbalanced)
    train split and of the test split, in the image pipeline's embedding format."""
    import torch

    from .models import load_mlp

    model, meta = load_mlp(model_pt)
    common = {"dataset": meta["dataset"], "run": int(meta["run"]), "cut": None, "loss": "ce", "arch": "mlp",
              "backbone_sha256": emb.file_sha256(model_pt), "class_names": CLASS_NAMES}
    for split, path, out in (("train", train, out_train), ("test", test, out_test)):
        df, X, _ = read_table(path)
        feats, pred = emb.extract(model, torch.as_tensor(X, dtype=torch.float32))
        emb.write(out, emb.make_frame(df["sample_id"], df["label"], pred, feats), dict(common, split=split))


def evaluate_stage(predictions: dict[str, str], out_csv: str, *, dataset: str, run: int) -> pd.DataFrame:
    """Tidy metrics (dataset, run, model, method, metric, value, converged) of one run; ``predictions``
    maps ``"<model>/<method>"`` to a file with ``label`` and ``pred`` columns (``converged`` comes from
    its metadata: False for an SVM / LG fit that did not converge)."""
    from .metrics import compute, tidy

    frames = []
    for key, path in predictions.items():
        model, method = key.split("/")
        df = pd.read_parquet(path, columns=["label", "pred"])
        frames.append(tidy(compute(df["label"].to_numpy(), df["pred"].to_numpy(), 2), dataset=dataset, run=int(run),
                           model=model, method=method).assign(converged=bool(df.attrs.get("converged", True))))
    out = pd.concat(frames, ignore_index=True)
    out.to_csv(out_csv, index=False)
    return out
