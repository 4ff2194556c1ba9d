"""Latent-space (and real-space) oversamplers: imbalanced-learn samplers and their factory.

All oversamplers here except :class:`Remix` follow the imbalanced-learn ``fit_resample`` contract and,
with the default ``sampling_strategy="auto"``, oversample every non-majority class up to the majority
count (class ``c`` receives ``n_max - n_c`` new rows).  The returned ``(X_res, y_res)`` always holds the
ORIGINAL rows first, in their original order, followed by the synthetic rows grouped by class in
ascending class order.  Every random choice is driven by ``random_state``; the same integer seed gives
byte-identical output.  Input must be dense (float32 / float64 arrays, lists or DataFrames); sparse input
is rejected (declared in the estimator tags, as imbalanced-learn's SMOTEN does).

Samplers
--------
``EOS`` (variant ``"paper"``, the default)
    Expansive Over-Sampling of Dablain, Krawczyk & Chawla, "Efficient
    Augmentation for Imbalanced Deep Learning".  The K nearest neighbours
    (Euclidean) of each row of a class to oversample are searched among ALL
    rows of ALL classes, the row itself excluded.  Candidate bases of class
    ``c`` are its members that have at least one neighbour of another class
    ("enemy") among their K neighbours.  Each synthetic sample draws a base
    uniformly with replacement from the candidate bases, a partner uniformly
    among that base's enemies in its K-NN list, and one scalar
    ``r ~ U[0, 1)`` shared by all features; the new point is
    ``base + r * (partner - base)`` and is labelled ``c``.  New points
    therefore lie on segments that reach from the class towards (and up to)
    its nearest enemies, which expands the class region into the border zone.

``EOS(variant="authors")``
    Reproduces an off-by-one present in the authors' public ``EOS.py``.
    There the enemy-probability vector ``p`` is built over the neighbour
    ranks 1..K (the neighbour list WITHOUT the point itself): ``p[j]`` is
    ``1 / n_enemies`` if the (j+1)-th nearest neighbour is an enemy and 0
    otherwise.  A slot ``ni`` in ``{0, ..., K-1}`` is drawn with ``p``, but
    the partner is then read from the self-INCLUSIVE neighbour list
    ``[self, nn_1, ..., nn_K]`` at position ``ni``.  The partner actually
    used is thus the point one rank closer than the sampled enemy:
    ``ni == 0`` (the sampled enemy is the 1st neighbour) gives the base
    itself, i.e. the synthetic row is an exact duplicate of the base;
    ``ni >= 1`` gives neighbour ``nn_ni``, which is often a same-class point.
    Here the self-inclusive list is modelled exactly as ``[base] +`` the
    self-excluding list (the authors' list came from a ``K+1`` query whose
    first entry is the point itself whenever it has no exact duplicate).
    Bases, slots and gaps are drawn exactly as in the paper variant and from
    the same random stream, so with the same ``random_state`` both variants
    pick the same bases, slots and ``r``; they differ only in the partner
    lookup.  The off-by-one applies to the K-NN list only: a class handled by
    the nearest-enemy fallback (below) is interpolated towards its members'
    nearest enemies in both variants.

``EOS(direction="away")``
    The printed pseudo-code of the paper (Algorithm 1) reads ``B + R * (B - N)``: the new point moves
    from the base AWAY from its enemy, into the class's own side, while the text (§III-C, "adds a
    portion of this difference to the base example") and Fig. 2 put it between base and enemy.  The
    text is the default (``direction="toward"``), the pseudo-code this option; all draws are the same,
    only the sign of the step differs.

``EOS(max_gap=g)``
    ``r ~ U[0, g)`` instead of ``U[0, 1)`` (``g`` in (0, 1]): ``g = 0.5`` keeps every synthetic point in
    the half of the segment nearer its base (the variant study, ``reports/eos_variants``).  The same
    uniform draw scaled by ``g``, so the bases and partners match those of ``g = 1``.

``BalancedSVM``
    The "Balanced SVM" of Farquad & Bose as described in the EOS paper:
    SMOTE (imbalanced-learn) to full balance, then the labels of the
    SYNTHETIC rows only are replaced by the predictions of an ``sklearn``
    ``SVC`` fitted on the original rows.  After relabelling the class counts
    are in general no longer exactly balanced.

``Remix``
    Hard-label REMIX (Bellinger et al.) for models fitted once on a fixed data set
    (the tabular study's SVM / LG); see the class docstring.  Not an over-sampler
    in the imbalanced-learn sense (its output has ``passes * n`` mixed rows,
    balanced in expectation), so it is a plain ``BaseSampler`` with
    ``_sampling_type = "bypass"``, like imbalanced-learn's ``FunctionSampler``.

``make_sampler`` builds any of ``SAMPLERS`` by name ("none" is an identity
sampler; "ros", "smote" and "bsmote" are imbalanced-learn's
RandomOverSampler, SMOTE and BorderlineSMOTE).

Behaviour when EOS cannot sample a class
----------------------------------------
If a class that needs new samples has no candidate base (none of its members
has another-class point among its K nearest neighbours; possible for a small,
well-separated class), ``EOS`` by default (``fallback="nearest_enemy"``) warns
and pairs every member with its single nearest other-class point;
``fallback="raise"`` raises a one-line ``ValueError`` naming the class and K.
The authors' script would crash on an empty candidate list.

``sample_indices_``
-------------------
imbalanced-learn's ``sample_indices_`` gives, for every output row, the input row it is.  EOS and
BalancedSVM do not set it (like SMOTE): their synthetic rows are interpolations with no single source
row; EOS records ``base_indices_`` / ``partner_indices_`` instead.  ``Remix`` sets it (each row's
dominant partner) and declares it in its tags.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from imblearn.base import BaseSampler
from imblearn.over_sampling import (
    SMOTE,
    BorderlineSMOTE,
    RandomOverSampler,
)
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_target_type
from sklearn.neighbors import NearestNeighbors
from sklearn.svm import SVC
from sklearn.utils._param_validation import Interval, StrOptions

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    from sklearn_compat.utils.validation import validate_data

__all__ = [
    "EOS",
    "BalancedSVM",
    "Identity",
    "Remix",
    "SAMPLERS",
    "make_sampler",
]

SAMPLERS = ("none", "ros", "smote", "bsmote", "balsvm", "eos")

_EOS_VARIANTS = ("paper", "authors")


def _make_rng(random_state) -> np.random.Generator:
    """One numpy Generator from an int / None / RandomState seed."""
    if random_state is None or isinstance(random_state, (numbers.Integral, np.integer)):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, np.random.Generator):
        return random_state
    raise ValueError(f"random_state must be None, an int or a RandomState; got {random_state!r}")


def _py_scalar(value):
    return value.item() if isinstance(value, np.generic) else value


def _neighbours_excluding_self(X: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """K nearest neighbours (indices into X) of ``X[rows]``, self excluded.

    Equivalent to ``NearestNeighbors(k).fit(X).kneighbors()`` restricted to
    ``rows``: query ``k + 1`` neighbours, drop the entry equal to the query's
    own index, or the last entry if the point itself is not among them (which
    happens only with more than ``k`` exact duplicates).
    """
    nn = NearestNeighbors(n_neighbors=k + 1).fit(X)
    ind = nn.kneighbors(X[rows], return_distance=False)
    drop = ind == rows[:, None]
    drop[~drop.any(axis=1), -1] = True
    return ind[~drop].reshape(len(rows), k)


class _DenseFloatMixin:
    """Input check shared by the samplers below: dense, float32/float64 (sparse input is refused, and
    the estimator tags say so)."""

    def _check_X_y(self, X, y, accept_sparse=None):
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        X, y = validate_data(
            self,
            X=X,
            y=y,
            reset=True,
            accept_sparse=False,
            dtype=[np.float64, np.float32],
        )
        return X, y, binarize_y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


class EOS(_DenseFloatMixin, BaseOverSampler):
    """Expansive Over-Sampling (Dablain, Krawczyk & Chawla).

    See the module docstring for the algorithm and for the exact meaning of
    ``variant="authors"``.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        As in imbalanced-learn; "auto" balances every class to the majority.
    k_neighbors : int, default=10
        K, the number of nearest neighbours (over all classes, self excluded)
        in which enemies are searched.
    variant : {"paper", "authors"}, default="paper"
        "paper": partner = a uniformly drawn enemy among the K neighbours.
        "authors": the off-by-one of the authors' code (partner = the point
        one rank closer than the drawn enemy; the base itself for rank 1).
    direction : {"toward", "away"}, default="toward"
        "toward": ``base + r * (partner - base)`` (the paper's text); "away": ``base + r * (base -
        partner)`` (its printed pseudo-code).
    max_gap : float in (0, 1], default=1.0
        ``r`` is drawn from ``U[0, max_gap)``.
    random_state : int, RandomState instance or None, default=None
        Seed of the single ``numpy.random.Generator`` used for all draws.
    fallback : {"nearest_enemy", "raise"}, default="nearest_enemy"
        What to do for a class none of whose members has an enemy among its K
        neighbours (possible for small, well-separated classes, where the
        authors' code would crash): "nearest_enemy" uses every member as a
        base paired with its single nearest other-class point (with a
        warning; in both variants); "raise" raises ValueError.

    Attributes
    ----------
    base_indices_ : ndarray of int, shape (n_synthetic,)
        Index into the input X of the base of each synthetic row (output order).
    partner_indices_ : ndarray of int, shape (n_synthetic,)
        Index into X of the partner actually used (may equal the base for the
        authors variant).
    gaps_ : ndarray of float, shape (n_synthetic,)
        The interpolation coefficient ``r`` in [0, max_gap) of each synthetic row.
    n_synthetic_per_class_ : dict
        Number of synthetic rows generated for every class of y (0 for those
        not oversampled).

    There is no ``sample_indices_`` (as for SMOTE): a synthetic row has no single source row; the
    originals are the first ``n_samples`` output rows, and ``base_indices_`` / ``partner_indices_``
    say where each synthetic row comes from.

    Raises
    ------
    ValueError
        On a bad parameter (imbalanced-learn's parameter validation), if
        ``k_neighbors >= n_samples``, or (``fallback="raise"``) if a class
        that needs samples has no member with an enemy among its K neighbours.
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "k_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
        "variant": [StrOptions(set(_EOS_VARIANTS))],
        "direction": [StrOptions({"toward", "away"})],
        "max_gap": [Interval(numbers.Real, 0, 1, closed="right")],
        "random_state": ["random_state"],
        "fallback": [StrOptions({"nearest_enemy", "raise"})],
    }

    def __init__(
        self,
        sampling_strategy="auto",
        k_neighbors=10,
        variant="paper",
        direction="toward",
        max_gap=1.0,
        random_state=None,
        fallback="nearest_enemy",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.k_neighbors = k_neighbors
        self.variant = variant
        self.direction = direction
        self.max_gap = max_gap
        self.fallback = fallback
        self.random_state = random_state

    def _fit_resample(self, X, y):
        # fit_resample validated the parameters (_parameter_constraints); this guards only a
        # direct call with validation switched off (sklearn.set_config(skip_parameter_validation)).
        if self.variant not in _EOS_VARIANTS:
            raise ValueError(
                f"EOS variant must be one of {', '.join(map(repr, _EOS_VARIANTS))}; "
                f"got {self.variant!r}"
            )
        k = int(self.k_neighbors)
        n = X.shape[0]
        rng = _make_rng(self.random_state)

        targets = {
            c: int(n_new) for c, n_new in self.sampling_strategy_.items() if n_new > 0
        }
        self.n_synthetic_per_class_ = {
            _py_scalar(c): int(targets.get(c, 0)) for c in np.unique(y)
        }
        empty = np.empty(0, dtype=np.intp)
        if not targets:
            self.base_indices_, self.partner_indices_ = empty, empty.copy()
            self.gaps_ = np.empty(0, dtype=X.dtype)
            return X.copy(), y.copy()
        if k >= n:
            raise ValueError(
                f"EOS: k_neighbors={k} must be smaller than the number of samples ({n})"
            )

        classes = sorted(targets)
        # Only rows of classes that need samples are queried.
        query_rows = np.flatnonzero(np.isin(y, classes))
        nbrs = _neighbours_excluding_self(X, query_rows, k)  # (m, k), indices into X
        y_query = y[query_rows]

        bases, partners, gaps, labels = [], [], [], []
        for c in classes:
            n_new = targets[c]
            pos = np.flatnonzero(y_query == c)
            nb = nbrs[pos]
            enemy = y[nb] != c  # (n_c, k)
            n_enemy = enemy.sum(axis=1)
            cand = n_enemy > 0
            knn_list = True  # partners come from the K-NN list (where the authors' off-by-one applies)
            if cand.any():
                cand_rows = query_rows[pos[cand]]
                cand_nb = nb[cand]
                cand_enemy = enemy[cand]
                cand_count = n_enemy[cand]
            elif self.fallback == "nearest_enemy":
                # No member has an enemy among its K neighbours (a class far from all others):
                # every member becomes a base, paired with its single nearest other-class point.
                warnings.warn(
                    f"EOS: class {_py_scalar(c)!r} has no member with an other-class point among "
                    f"its k_neighbors={k} nearest neighbours; using each member's nearest enemy"
                )
                cand_rows = query_rows[pos]
                others = np.flatnonzero(y != c)
                nn_enemy = NearestNeighbors(n_neighbors=1).fit(X[others])
                cand_nb = others[nn_enemy.kneighbors(X[cand_rows], return_distance=False)]
                cand_enemy = np.ones((len(cand_rows), 1), dtype=bool)
                cand_count = np.ones(len(cand_rows), dtype=int)
                knn_list = False
            else:
                raise ValueError(
                    f"EOS: class {_py_scalar(c)!r} has no member with an other-class "
                    f"point among its k_neighbors={k} nearest neighbours; increase "
                    "k_neighbors, set fallback='nearest_enemy' or use another sampler"
                )

            pick = rng.integers(0, len(cand_rows), size=n_new)
            # j-th enemy (0-based, in rank order) of the picked base, uniformly.
            j = rng.integers(0, cand_count[pick])
            # Slot of that enemy in the self-excluding list: number of slots
            # whose running enemy count is still <= j.
            slot = (np.cumsum(cand_enemy[pick], axis=1) <= j[:, None]).sum(axis=1)
            r = rng.random(n_new, dtype=X.dtype)
            if self.max_gap != 1:
                r = (r * X.dtype.type(self.max_gap)).astype(X.dtype, copy=False)

            base = cand_rows[pick]
            if self.variant == "paper" or not knn_list:
                partner = cand_nb[pick, slot]
            else:  # "authors": read the slot from [self, nn_1, ..., nn_K]
                partner = np.where(slot == 0, base, cand_nb[pick, slot - 1])
            bases.append(base)
            partners.append(partner)
            gaps.append(r)
            labels.append(np.full(n_new, c, dtype=y.dtype))

        base = np.concatenate(bases).astype(np.intp, copy=False)
        partner = np.concatenate(partners).astype(np.intp, copy=False)
        r = np.concatenate(gaps)
        X_base = X[base]
        step = X[partner] - X_base if self.direction == "toward" else X_base - X[partner]
        X_new = X_base + r[:, None] * step

        self.base_indices_ = base
        self.partner_indices_ = partner
        self.gaps_ = r
        X_res = np.concatenate([X, X_new.astype(X.dtype, copy=False)], axis=0)
        y_res = np.concatenate([y, np.concatenate(labels)])
        return X_res, y_res


class BalancedSVM(_DenseFloatMixin, BaseOverSampler):
    """Balanced SVM (Farquad & Bose) as described in the EOS paper.

    SMOTE (imbalanced-learn, ``k_neighbors``) oversamples to full balance;
    then only the SYNTHETIC rows are relabelled with the predictions of an
    ``SVC(kernel=kernel, C=C)`` fitted on the original rows.  Original rows
    and labels are returned unchanged and first.  Because of the relabelling
    the class counts of the output are in general no longer exactly balanced
    (nor those asked for by ``sampling_strategy``).

    Attributes
    ----------
    svc_ : fitted ``sklearn.svm.SVC``
    smote_labels_ : ndarray, labels SMOTE gave the synthetic rows (before relabelling)
    n_relabelled_ : int, number of synthetic rows whose label was changed

    No ``sample_indices_``: the synthetic rows are SMOTE interpolations (as for SMOTE).
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "k_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
        "kernel": [StrOptions({"linear", "poly", "rbf", "sigmoid"}), callable],
        "C": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        sampling_strategy="auto",
        k_neighbors=5,
        kernel="rbf",
        C=1.0,
        random_state=None,
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.k_neighbors = k_neighbors
        self.kernel = kernel
        self.C = C
        self.random_state = random_state

    def _fit_resample(self, X, y):
        n = X.shape[0]
        counts = {c: int(np.sum(y == c)) for c in np.unique(y)}
        # Desired totals, in ascending class order, so SMOTE emits the
        # synthetic rows grouped by class in ascending order.
        target = {
            c: counts[c] + int(self.sampling_strategy_.get(c, 0)) for c in sorted(counts)
        }
        smote = SMOTE(
            sampling_strategy=target,
            k_neighbors=self.k_neighbors,
            random_state=self.random_state,
        )
        X_res, y_res = smote.fit_resample(X, y)
        X_res = np.asarray(X_res)
        y_res = np.array(y_res, copy=True)
        self.svc_ = SVC(kernel=self.kernel, C=self.C, random_state=self.random_state)
        self.svc_.fit(X, y)
        self.smote_labels_ = y_res[n:].copy()
        if len(y_res) > n:
            y_res[n:] = self.svc_.predict(X_res[n:])
        self.n_relabelled_ = int(np.sum(y_res[n:] != self.smote_labels_))
        return X_res, y_res


class Remix(_DenseFloatMixin, BaseSampler):
    """REMIX of Bellinger et al. with hard labels, for models trained once on a fixed data set (SVM, LG).

    ReMix proper (what the tabular NN uses, :func:`pipeline_lib.core.mlp.train_mlp`) acts on every
    mini-batch of every epoch: balance the batch by random oversampling of each class present to the
    batch's largest class count and random subsampling back to the batch size, then mixup with one
    ``lam ~ Beta(alpha, alpha)`` per batch and a random partner permutation, mixing inputs and one-hot
    labels.  A scikit-learn SVM or logistic regression needs one data set with hard labels, so this
    variant runs ``passes`` epochs of exactly that batch procedure over the shuffled training set (the
    same balancing and lambda code as the NN, :func:`pipeline_lib.core.remix.remix_batch`) and keeps every
    mixed row with the label of its dominant partner (``lam >= 0.5``: the batch row, else its partner),
    i.e. the mixed one-hot label rounded.  The result has ``passes * len(X)`` rows, all of them mixtures,
    and is class-balanced in expectation; there are no "original rows first".

    An imbalanced-learn sampler with ``_sampling_type = "bypass"`` (as ``FunctionSampler``): there is
    no ``sampling_strategy`` parameter, the class counts of the output are set by the per-batch
    balancing, not by a target.

    Parameters
    ----------
    alpha : float > 0, default=0.1
        The mixup ``Beta(alpha, alpha)``.
    batch_size : int >= 2, default=64
    passes : int >= 1, default=1
        Epochs over the data; the output has ``passes * n_samples`` rows.
    random_state : int, RandomState instance or None, default=None

    Attributes (after ``fit_resample``)
    -----------------------------------
    sample_indices_ : position in ``X`` of each output row's dominant partner.
    is_synthetic_ : False only for rows that equal their dominant partner exactly
        (``lam`` of exactly 0 or 1, or a row mixed with itself)."""

    _sampling_type = "bypass"
    _parameter_constraints: dict = {
        "alpha": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "passes": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, alpha=0.1, batch_size=64, passes=1, random_state=None):
        super().__init__()
        self.alpha = alpha
        self.batch_size = batch_size
        self.passes = passes
        self.random_state = random_state

    def _fit_resample(self, X, y):
        import torch

        from ..core.remix import remix_batch

        # class codes 0..C-1 in sorted label order: the same draws as the raw integer labels (the
        # balancing only sees which rows share a class), and any label type works
        codes = np.unique(y, return_inverse=True)[1].reshape(-1)
        labels = torch.as_tensor(codes.astype(np.int64))
        seed = _make_rng(self.random_state).integers(0, 2**62)
        batch = int(self.batch_size)
        rows, sources, synthetic = [], [], []
        for p in range(int(self.passes)):
            gen = torch.Generator().manual_seed(int(seed) + p)
            perm = torch.randperm(len(y), generator=gen)
            for i in range(0, len(y), batch):
                idx, lam, mate = remix_batch(perm[i:i + batch], labels, float(self.alpha), gen)
                a, b = idx.numpy(), mate.numpy()
                rows.append(lam * X[a] + (1 - lam) * X[b])
                sources.append(a if lam >= 0.5 else b)
                synthetic.append(np.full(len(a), 0.0 < lam < 1.0) & (a != b))
        self.sample_indices_ = np.concatenate(sources).astype(np.int64)
        self.is_synthetic_ = np.concatenate(synthetic)
        return np.concatenate(rows).astype(X.dtype, copy=False), y[self.sample_indices_]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.sampler_tags.sample_indices = True
        return tags


class Identity:
    """No-op sampler: ``fit_resample`` returns ``X, y`` unchanged."""

    def fit_resample(self, X, y):
        return X, y

    def __repr__(self):
        return "Identity()"


def make_sampler(name: str, random_state, **options):
    """Build the sampler called ``name`` (one of ``SAMPLERS``).

    ``options`` are passed through as keyword arguments.  Defaults:
    "smote" k_neighbors=5; "bsmote" kind="borderline-1", k_neighbors=5,
    m_neighbors=10; "eos" k_neighbors=10, variant="paper".  "none" takes no
    options.
    """
    if name == "none":
        return Identity(**options)
    if name == "ros":
        return RandomOverSampler(random_state=random_state, **options)
    if name == "smote":
        opts = {"k_neighbors": 5, **options}
        return SMOTE(random_state=random_state, **opts)
    if name == "bsmote":
        opts = {"kind": "borderline-1", "k_neighbors": 5, "m_neighbors": 10, **options}
        return BorderlineSMOTE(random_state=random_state, **opts)
    if name == "balsvm":
        return BalancedSVM(random_state=random_state, **options)
    if name == "eos":
        opts = {"k_neighbors": 10, "variant": "paper", **options}
        return EOS(random_state=random_state, **opts)
    raise ValueError(f"unknown sampler {name!r}; allowed: {', '.join(SAMPLERS)}")
