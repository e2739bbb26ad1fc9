"""Scores for inferred lineage against a known truth (pure functions).

Conventions (as in MoTHer / Model Atlas): a directed parent edge counts only if
both the parent and the direction are right; the undirected score also accepts
the reversed edge. A child with several true parents (a merge) is right if the
inferred parent is any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Collection, Mapping, Sequence

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class ParentAccuracy:
    """Parent recovery over the children whose true parent is in the population.

    Attributes
    ----------
    directed : float
        Share of those children whose inferred parent is a true parent.
    undirected : float
        Share whose true edge was inferred in either direction.
    precision : float
        Share of inferred parent edges that are true (directed).
    root_accuracy : float
        Share of models with no true parent in the population that got none.
    n_children, n_inferred, n_roots : int
    """

    directed: float
    undirected: float
    precision: float
    root_accuracy: float
    n_children: int
    n_inferred: int
    n_roots: int


def _ratio(a: float, b: float) -> float:
    return float(a) / b if b else float("nan")


def parent_accuracy(inferred: Mapping[str, str | None], true_parents: Mapping[str, Sequence[str]]) -> ParentAccuracy:
    """Score inferred parents (``child -> parent or None``) against true parents.

    Only models that are keys of ``inferred`` count; true parents outside them are ignored.
    """
    pop = set(inferred)
    truth = {c: [p for p in true_parents.get(c, ()) if p in pop] for c in pop}
    children = [c for c in pop if truth[c]]
    roots = [c for c in pop if not truth[c]]
    directed = sum(inferred[c] in truth[c] for c in children)
    undirected = sum(inferred[c] in truth[c] or any(inferred.get(p) == c for p in truth[c]) for c in children)
    made = [c for c in pop if inferred[c] is not None]
    correct = sum(inferred[c] in truth[c] for c in made)
    return ParentAccuracy(
        directed=_ratio(directed, len(children)),
        undirected=_ratio(undirected, len(children)),
        precision=_ratio(correct, len(made)),
        root_accuracy=_ratio(sum(inferred[c] is None for c in roots), len(roots)),
        n_children=len(children),
        n_inferred=len(made),
        n_roots=len(roots),
    )


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U; ties count half). NaN with one class only."""
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = stats.rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@dataclass(frozen=True)
class BinaryScores:
    """Detection scores of a binary decision.

    ``fpr`` is the realised false-positive rate (false positives / negatives).
    """

    precision: float
    recall: float
    f1: float
    auc: float
    fpr: float
    n_pos: int
    n_neg: int
    n_fp: int  # false positives: ``fpr`` is n_fp / n_neg


def binomial_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson (exact) interval for a rate of ``k`` events in ``n`` trials; (nan, nan) when n is 0.

    The realised false-positive rate of a test is such a rate: with a few dozen unrelated
    pairs, 0 false positives is compatible with a 5% rate, and the interval says so.
    """
    if n <= 0:
        return float("nan"), float("nan")
    a = (1.0 - level) / 2
    lo = float(stats.beta.ppf(a, k, n - k + 1)) if k > 0 else 0.0
    hi = float(stats.beta.ppf(1 - a, k + 1, n - k)) if k < n else 1.0
    return lo, hi


def binary_scores(y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None = None) -> BinaryScores:
    """Precision, recall, F1, realised FPR and (with ``scores``, higher = positive) AUC."""
    y = np.asarray(y_true).astype(bool)
    p = np.asarray(y_pred).astype(bool)
    tp, fp = int((y & p).sum()), int((~y & p).sum())
    fn = int((y & ~p).sum())
    prec, rec = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else float("nan")
    return BinaryScores(
        precision=prec, recall=rec, f1=f1,
        auc=roc_auc(y, scores) if scores is not None else float("nan"),
        fpr=_ratio(fp, int((~y).sum())), n_pos=int(y.sum()), n_neg=int((~y).sum()), n_fp=fp,
    )


def set_scores(predicted: Collection, actual: Collection) -> tuple[float, float, float]:
    """Precision, recall and F1 of a predicted set against the actual set (NaN where undefined)."""
    pred, act = set(predicted), set(actual)
    tp = len(pred & act)
    prec, rec = _ratio(tp, len(pred)), _ratio(tp, len(act))
    f1 = 2 * tp / (len(pred) + len(act)) if (len(pred) + len(act)) else float("nan")
    return prec, rec, f1


def group_folds(groups: Sequence, n_splits: int, random_state: int = 0) -> list[np.ndarray]:
    """Split item indices into ``n_splits`` folds that never share a group (seeded).

    Parameters
    ----------
    groups : sequence, length n_items
        Group label of each item (the model itself for a by-model split, its
        family for a by-family split).

    Returns
    -------
    list of ndarray of int
        Test indices of each fold; folds are disjoint and cover all items.
    """
    labels = sorted(set(groups), key=str)
    n_splits = max(2, min(n_splits, len(labels)))
    rng = np.random.default_rng(random_state)
    order = rng.permutation(len(labels))
    fold_of = {labels[g]: k % n_splits for k, g in enumerate(order)}
    assign = np.array([fold_of[g] for g in groups])
    return [np.flatnonzero(assign == k) for k in range(n_splits)]
