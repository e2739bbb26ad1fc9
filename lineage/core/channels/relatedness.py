"""Is a pair of models related? A score and a p-value with a controlled error rate.

The null hypothesis for a pair is "these two models are unrelated". Its
distribution is the distribution of DNA distances between unrelated models,
which we estimate from the population itself:

* when families are known, from pairs whose two models belong to *different*
  families (both known);
* otherwise from all pairs. Related pairs are a small minority of all pairs
  in any sizeable population (a model has a handful of relatives among n), and
  they sit in the *lower* tail, which makes the estimated null's lower tail
  heavier: the test then calls fewer pairs related than it could (conservative),
  it does not call more.

Pairs are sampled (seeded) when there are more than ``max_pairs``.

A small distance is evidence of relatedness, so the p-value of a distance ``d``
is ``P(D_null <= d)``:

* ``"empirical"``: ``(1 + #{null <= d}) / (1 + N)``, valid for a pair
  exchangeable with the null sample;
* ``"normal"``: a normal fitted robustly (median, 1.4826 * MAD) to the null
  sample, used in the tail; robust to a minority of related pairs;
* ``"auto"`` (default): empirical where at least 20 null distances lie at or
  below ``d``, else the normal tail (the empirical p-value cannot go below
  ``1 / (N + 1)`` and is noisy with few points). 

"Related at 1% false positives" is ``p_value <= 0.01``; the matching distance
threshold is :meth:`NullDistribution.threshold`.

The robust z-score ``(median - d) / scale`` is the relatedness *score*
(higher = more related; 0 = a typical unrelated pair).

:class:`PairClassifier` is the paper's alternative: an RBF-SVM with
standardised features ``[|a-b|, a-b]`` and balanced class weights. It needs
labelled pairs and scikit-learn (imported lazily). Train and test it on
group-disjoint splits (by model or by family), never on pair rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
from scipy import stats

from lineage.core.measure.distances import Metric, pair_distances

NullMethod = Literal["auto", "empirical", "normal"]
_MIN_TAIL = 20


@dataclass(frozen=True)
class NullDistribution:
    """The fitted distribution of distances between unrelated models.

    Attributes
    ----------
    sample : ndarray of shape (n_pairs,), float64, sorted
        Null distances the empirical p-values are read from.
    location, scale : float
        Median and 1.4826 * MAD of ``sample``.
    source : str
        ``"between-family"`` or ``"all-pairs"``.
    method : {"auto", "empirical", "normal"}
    metric : str
    """

    sample: np.ndarray
    location: float
    scale: float
    source: str
    method: NullMethod = "auto"
    metric: str = "euclidean"

    @property
    def n_pairs(self) -> int:
        return int(self.sample.shape[0])

    def p_value(self, d) -> np.ndarray:
        """``P(D_null <= d)`` for distances ``d`` (any shape); float64 in (0, 1]."""
        d = np.asarray(d, dtype=np.float64)
        z = stats.norm.cdf((d - self.location) / self.scale)
        if self.method == "normal":
            return np.clip(z, np.finfo(float).tiny, 1.0)
        count = np.searchsorted(self.sample, d, side="right")
        emp = (1.0 + count) / (1.0 + self.n_pairs)
        if self.method == "empirical":
            return np.minimum(emp, 1.0)
        # auto: the normal tail where the empirical count is too small to trust,
        # never above the empirical value's floor there (keeps the two continuous enough)
        tail = np.clip(z, np.finfo(float).tiny, 1.0)
        return np.where(count >= _MIN_TAIL, np.minimum(emp, 1.0), np.minimum(tail, emp))

    def tail_p_value(self, d) -> np.ndarray:
        """``P(D_null <= d)`` from the robust normal fit alone: the p-values that selection-aware
        decisions correct (:mod:`lineage.core.infer.selection`), which must reach far beyond the
        null sample's resolution and must not be moved by related pairs in the sample."""
        d = np.asarray(d, dtype=np.float64)
        return np.clip(stats.norm.cdf((d - self.location) / self.scale), np.finfo(float).tiny, 1.0)

    def score(self, d) -> np.ndarray:
        """Robust z-score ``(location - d) / scale``: higher means more related."""
        return (self.location - np.asarray(d, dtype=np.float64)) / self.scale

    def threshold(self, fpr: float) -> float:
        """The largest distance called related at false-positive rate ``fpr``."""
        if not 0 < fpr < 1:
            raise ValueError(f"fpr must be in (0, 1), got {fpr}")
        grid = np.concatenate(
            [self.sample, [self.location + self.scale * stats.norm.ppf(max(fpr, 1e-300))]]
        )
        grid.sort()
        ok = grid[self.p_value(grid) <= fpr]
        return float(ok[-1]) if ok.size else float(self.location + self.scale * stats.norm.ppf(fpr))

    def summary(self) -> dict:
        """Plain numbers for reports and the graph."""
        q = np.quantile(self.sample, [0.001, 0.01, 0.05, 0.5]) if self.n_pairs else [np.nan] * 4
        return {
            "source": self.source,
            "method": self.method,
            "metric": self.metric,
            "n_pairs": self.n_pairs,
            "location": self.location,
            "scale": self.scale,
            "q001": float(q[0]),
            "q01": float(q[1]),
            "q05": float(q[2]),
            "median": float(q[3]),
        }


def _sample_pairs(n: int, max_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    total = n * (n - 1) // 2
    if total <= max_pairs:
        i, j = np.triu_indices(n, 1)
        return i.astype(np.int64), j.astype(np.int64)
    i = rng.integers(0, n, size=max_pairs)
    j = rng.integers(0, n - 1, size=max_pairs)
    j = np.where(j >= i, j + 1, j)  # uniform over ordered pairs i != j
    return i, j


def fit_null(
    X: np.ndarray,
    *,
    families: Sequence[str | None] | None = None,
    exclude_pairs: set[tuple[int, int]] | None = None,
    metric: Metric = "euclidean",
    method: NullMethod = "auto",
    max_pairs: int = 50_000,
    min_pairs: int = 30,
    random_state: int = 0,
) -> NullDistribution:
    """Estimate the distribution of distances between unrelated models.

    Parameters
    ----------
    X : ndarray of shape (n_models, n_dims)
    families : sequence of str or None, length n_models, optional
        When at least ``min_pairs`` pairs join two different known families, only
        those pairs are used.
    exclude_pairs : set of (i, j), optional
        Index pairs known to be related (e.g. declared parents), left out.
    metric : {"euclidean", "cosine"}
    method : {"auto", "empirical", "normal"}
    max_pairs : int
        Pairs sampled (seeded) when the population has more.
    random_state : int

    Returns
    -------
    NullDistribution
    """
    X = np.asarray(X)
    n = X.shape[0]
    if n < 3:
        raise ValueError(f"need at least 3 models to estimate the null distribution, got {n}")
    i, j, source = null_pairs(n, families=families, exclude_pairs=exclude_pairs, max_pairs=max_pairs,
                              min_pairs=min_pairs, random_state=random_state)
    if i.size < 2:
        raise ValueError("too few unrelated pairs to estimate the null distribution")
    return null_from_sample(pair_distances(X, i, j, metric=metric), source=source, method=method, metric=metric)


def null_from_sample(d, *, source: str, method: NullMethod = "auto", metric: str = "euclidean") -> NullDistribution:
    """The null fitted to distances ``d`` of pairs taken as unrelated (median and 1.4826 * MAD)."""
    d = np.sort(np.asarray(d, dtype=np.float64))
    loc = float(np.median(d))
    scale = float(1.4826 * np.median(np.abs(d - loc)))
    if not scale > 0:
        scale = float(np.std(d)) or 1e-12
    return NullDistribution(sample=d, location=loc, scale=scale, source=source, method=method, metric=metric)


def null_pairs(n: int, *, families: Sequence[str | None] | None = None,
               exclude_pairs: set[tuple[int, int]] | None = None, max_pairs: int = 50_000, min_pairs: int = 30,
               random_state: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """The index pairs a null is fitted to, chosen as :func:`fit_null` chooses them:
    (sampled) pairs of two different known families when there are ``min_pairs`` of
    them, else all pairs; ``exclude_pairs`` (known relations) left out."""
    rng = np.random.default_rng(random_state)
    i, j = _sample_pairs(n, max_pairs, rng)
    keep = np.ones(i.shape[0], dtype=bool)
    if exclude_pairs:
        ex = {(min(a, b), max(a, b)) for a, b in exclude_pairs}
        keep &= np.array([(min(a, b), max(a, b)) not in ex for a, b in zip(i.tolist(), j.tolist())], dtype=bool)
    source = "all-pairs"
    if families is not None:
        codes = {f: c for c, f in enumerate(sorted({f for f in families if f}))}
        fam = np.array([codes.get(f, -1) if f else -1 for f in families])
        between = keep & (fam[i] >= 0) & (fam[j] >= 0) & (fam[i] != fam[j])
        if between.sum() >= min_pairs:
            keep, source = between, "between-family"
    return i[keep], j[keep], source


def pair_features(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """The paper's pair features ``[|a-b|, a-b]``, shape ``(n_pairs, 2 * n_dims)``."""
    diff = np.asarray(A, dtype=np.float64) - np.asarray(B, dtype=np.float64)
    return np.hstack([np.abs(diff), diff])


class PairClassifier:
    """The paper's relation classifier: StandardScaler + RBF-SVM on ``[|a-b|, a-b]``.

    Parameters
    ----------
    C : float
    gamma : "scale" or float
    random_state : int

    Notes
    -----
    Needs scikit-learn. The ``a-b`` half depends on pair order, so ``fit`` adds
    each pair in both orders and the decision averages both orders. The score is
    the SVM's decision value (no Platt scaling: it is only ranked and
    thresholded at 0, the SVM's own boundary).
    """

    def __init__(self, C: float = 1.0, gamma: str | float = "scale", random_state: int = 0):
        self.C = C
        self.gamma = gamma
        self.random_state = random_state

    def fit(self, A: np.ndarray, B: np.ndarray, y: np.ndarray) -> "PairClassifier":
        """Fit on pairs ``(A[i], B[i])`` labelled ``y[i]`` (1 related, 0 not); arrays ``(n_pairs, n_dims)``."""
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC

        y = np.asarray(y).astype(int)
        if len(np.unique(y)) < 2:
            raise ValueError("PairClassifier needs both related and unrelated training pairs")
        F = np.vstack([pair_features(A, B), pair_features(B, A)])
        self.model_ = make_pipeline(
            StandardScaler(),
            SVC(C=self.C, gamma=self.gamma, kernel="rbf", class_weight="balanced", random_state=self.random_state),
        ).fit(F, np.concatenate([y, y]))
        return self

    def decision_function(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """Signed score of each pair being related (> 0: related), shape ``(n_pairs,)``."""
        s1 = self.model_.decision_function(pair_features(A, B))
        s2 = self.model_.decision_function(pair_features(B, A))
        return (s1 + s2) / 2.0

    def predict(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """1 for pairs called related, else 0."""
        return (self.decision_function(A, B) > 0).astype(int)
