"""Decisions that stay calibrated whatever the population's size.

A parent is not a pair chosen in advance: it is a model's *best* candidate among the
``N - 1`` others. Under the null of no relatives the best of ``N - 1`` single-pair
p-values sits near ``1 / N``, so a per-pair test at ``fpr`` passes almost always once
``N`` is in the hundreds (measured: 1,000 unrelated random DNAs got 790 inferred parents
at fpr 0.01). Each model's candidates are therefore judged as one family of ``N - 1``
hypotheses with Holm's step-down correction (Holm 1979; the correction Nikolic et al.
2025 apply over candidate parents in model provenance testing):

    adjusted p of the r-th smallest p-value = max over j <= r of min(1, (m - j + 1) p_(j))

with ``m = N - 1``. Holm controls the family-wise error at ``fpr`` under any dependence
between the p-values (distances from one model to the others are dependent), so:

* a model gets a false parent with probability at most ``fpr`` (its parent must pass in
  the *child's* family), whatever ``N`` is;
* a pair is reported as related when it passes in either model's family, so the false
  relations reported per model are at most about ``fpr`` as well.

The per-pair p-values that enter the correction come from the null's robust normal
fit (:meth:`lineage.core.channels.relatedness.NullDistribution.tail_p_value`), not its
empirical part: Holm needs them down to ``fpr / N``, far below what a null sample
resolves, and without known families the null sample holds the population's related
pairs too, which fill the empirical lower tail (20 or more of them beside a close pair
made a 6-sigma distance read as p = 0.008 in a simulated 100-model population). The robust fit
(median, 1.4826 MAD) is not moved by a minority of related pairs. On populations of
independent random DNAs it is conservative (``benchmarks/bench_calibration.py``).

Only the candidates a model actually examined need their p-values: every model left
out (not a near neighbour) has a larger p-value, and Holm's adjusted value of rank ``r``
depends only on ranks ``1..r``.

Hubs. A point near the population's centre (a mean DNA, an average of many models, a
degenerate model) is close to everyone, so it would be everyone's best candidate
(hubness, Radovanovic et al. 2010). Geometry cannot tell it from a common ancestor whose
children drifted apart in independent directions: both sit at about the same distance
from each. What differs is the candidate's own view: a real parent is *unusually* close
to its child among all the models it is compared with (its other distances reach
unrelated families), while a hub is about as close to everyone. So an edge resting on
behaviour alone must also pass a *local* test from the parent's side: the distance is
compared with the candidate's own distances to the population (a robust normal fitted
to a seeded sample, the null of mutual proximity and local scaling; Schnitzer et al.
2012), at ``fpr`` after a Bonferroni correction over the candidate's ``N - 1`` possible
children (:func:`local_p_values`: a parent's nearest child is a selection too). Both tests must pass (an intersection-union
test: the larger p-value counts). Weight evidence is not subject to it: weights do not
have hubs of this kind (a centroid of weights is no model's ancestor by the weights'
test, which compares each pair against independent initialisation).
"""

from __future__ import annotations

import hashlib
from typing import Literal, Sequence

import numpy as np

from lineage.core.measure.distances import Metric, cross_distances, cross_distances_bounded


Correction = Literal["holm", "none"]

#: Models in the local test's reference sample (the candidate's distances to them give its own null).
REFERENCE_SIZE = 2000


def sample_key(model_id: str) -> int:
    """A model's place in the reference sample's order: the first 60 bits of SHA-256 of its id.

    The reference sample is chosen by id, not by a seeded draw over positions, so that it
    is the same set of models however the population is ordered or split: a full analysis
    and a placement onto the stored graph (which reads the sample back with one indexed
    query, ``ORDER BY sample_key LIMIT``) compare every candidate with the same models, and
    adding a model changes the sample only when its own key is among the smallest.
    """
    return int(hashlib.sha256(model_id.encode("utf-8")).hexdigest()[:15], 16)


def reference_sample(ids: Sequence[str], size: int = REFERENCE_SIZE) -> np.ndarray:
    """Positions of the reference sample in ``ids``: the ``size + 1`` smallest :func:`sample_key`
    (one more than ``size`` so that a candidate in the sample still has ``size`` others), sorted;
    every position when the population is that small."""
    n = len(ids)
    if n <= size + 1:
        return np.arange(n)
    keys = np.fromiter((sample_key(m) for m in ids), dtype=np.int64, count=n)
    return np.sort(np.argpartition(keys, size)[:size + 1])


def holm_adjust(p: np.ndarray, m: int) -> np.ndarray:
    """Holm-adjusted p-values of each row's candidates, as a family of ``m`` hypotheses.

    Parameters
    ----------
    p : ndarray of shape (n_rows, k)
        Per-pair p-values of the ``k`` candidates a row examined (any order; NaN counts
        as 1). The hypotheses a row did not examine are assumed to have larger p-values.
    m : int
        Family size (the number of candidates there are, e.g. ``N - 1``); at least ``k``.

    Returns
    -------
    ndarray of shape (n_rows, k)
        Adjusted p-values in the input's order; ``<= alpha`` rejects at family-wise level alpha.
    """
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"p must have shape (n_rows, k), got {p.shape}")
    k = p.shape[1]
    m = max(int(m), k)
    clean = np.where(np.isnan(p), 1.0, p)
    order = np.argsort(clean, axis=1, kind="stable")
    ps = np.take_along_axis(clean, order, axis=1)
    adj = np.minimum(1.0, (m - np.arange(k))[None, :] * ps)
    adj = np.maximum.accumulate(adj, axis=1)
    out = np.empty_like(adj)
    np.put_along_axis(out, order, adj, axis=1)
    return out


def holm_by_member(pairs: Sequence[tuple[int, int]], p: Sequence[float], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Holm-adjusted p-value of each pair in each member's family (``m = n - 1``).

    Parameters
    ----------
    pairs : sequence of (a, b)
        The pairs examined (each once).
    p : sequence of float
        Their per-pair p-values.
    n : int
        Population size.

    Returns
    -------
    adj_a, adj_b : ndarray of shape (n_pairs,)
        The pair's adjusted p-value in ``a``'s family and in ``b``'s.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    p = np.asarray(p, dtype=np.float64)
    adj = np.ones((pairs.shape[0], 2))
    if pairs.shape[0] == 0:
        return adj[:, 0], adj[:, 1]
    ends = np.concatenate([pairs[:, 0], pairs[:, 1]])
    pos = np.concatenate([np.arange(pairs.shape[0])] * 2)
    side = np.repeat([0, 1], pairs.shape[0])
    pp = np.concatenate([p, p])
    order = np.lexsort((np.where(np.isnan(pp), 1.0, pp), ends))
    ends, pos, side, pp = ends[order], pos[order], side[order], np.where(np.isnan(pp[order]), 1.0, pp[order])
    starts = np.flatnonzero(np.r_[True, ends[1:] != ends[:-1]])
    rank = np.arange(ends.size) - np.repeat(starts, np.diff(np.r_[starts, ends.size]))
    raw = np.minimum(1.0, (max(n - 1, 1) - rank) * pp)
    # running maximum within each member's block
    run = raw.copy()
    for s, e in zip(starts.tolist(), np.r_[starts[1:], ends.size].tolist()):
        run[s:e] = np.maximum.accumulate(raw[s:e])
    adj[pos, side] = run
    return adj[:, 0], adj[:, 1]


def _row_nanmedian(a: np.ndarray) -> np.ndarray:
    """``np.nanmedian(a, axis=1)``, the same values, vectorised over the rows without NaN
    (``nanmedian`` walks wide rows one by one in Python)."""
    out = np.empty(a.shape[0])
    nan = np.isnan(a).any(axis=1)
    if (~nan).any():
        out[~nan] = np.median(a[~nan], axis=1)
    for r in np.flatnonzero(nan).tolist():
        row = a[r][~np.isnan(a[r])]
        out[r] = np.median(row) if row.size else np.nan
    return out


def local_p_values(X: np.ndarray, parents: np.ndarray, d: np.ndarray, *, metric: Metric = "euclidean",
                   max_sample: int = REFERENCE_SIZE, random_state: int = 0,
                   sample: np.ndarray | None = None) -> np.ndarray:
    """P-value of each distance ``d[i]`` under candidate ``parents[i]``'s own distances to the
    population: ``Phi((d - median_p) / scale_p)`` with the median and 1.4826 MAD of its
    distances to a sample of other models: ``sample`` (positions in ``X``; the analyses pass
    :func:`reference_sample`, chosen by id) or else a seeded draw of at most ``max_sample``.

    Parameters
    ----------
    X : ndarray of shape (n_models, n_dims)
    parents : ndarray of shape (n_edges,), int
        The candidate parent of each edge.
    d : ndarray of shape (n_edges,)
        The edge's distance.

    Returns
    -------
    ndarray of shape (n_edges,), float64 in (0, 1]
    """
    from scipy import stats

    parents = np.asarray(parents, dtype=np.int64)
    d = np.asarray(d, dtype=np.float64)
    n = X.shape[0]
    out = np.ones(parents.shape[0])
    if parents.size == 0 or n < 3:
        return out
    if sample is None:
        rng = np.random.default_rng(random_state)
        sample = np.arange(n) if n <= max_sample + 1 else np.sort(rng.choice(n, max_sample + 1, replace=False))
    sample = np.asarray(sample, dtype=np.int64)
    uniq, inv = np.unique(parents, return_inverse=True)
    loc = np.empty(uniq.size)
    scale = np.empty(uniq.size)
    for block in range(0, uniq.size, 256):
        us = uniq[block:block + 256]
        dist = cross_distances(X, us, sample, metric=metric)
        dist[np.equal.outer(us, sample)] = np.nan  # a model's distance to itself is no sample
        med = _row_nanmedian(dist)
        mad = _row_nanmedian(np.abs(dist - med[:, None]))
        loc[block:block + us.size] = med
        scale[block:block + us.size] = np.maximum(1.4826 * mad, 1e-12 * np.maximum(med, 1e-12))
    z = (d - loc[inv]) / scale[inv]
    return np.clip(stats.norm.cdf(z), np.finfo(float).tiny, 1.0)


def _reference(n: int, sample, max_sample: int, random_state: int) -> np.ndarray:
    if sample is None:
        rng = np.random.default_rng(random_state)
        sample = np.arange(n) if n <= max_sample + 1 else np.sort(rng.choice(n, max_sample + 1, replace=False))
    return np.asarray(sample, dtype=np.int64)


def local_test(X: np.ndarray, parents: np.ndarray, d: np.ndarray, factor, alpha: float, *,
               metric: Metric = "euclidean", max_sample: int = REFERENCE_SIZE, random_state: int = 0,
               sample: np.ndarray | None = None, block: int = 1024) -> np.ndarray:
    """Whether each edge passes the local test: ``not min(1, factor * p) > alpha`` with ``p`` the
    p-value of :func:`local_p_values` (``factor``: the correction, 1 for a named hypothesis,
    ``N - 1`` for a chosen one). The decision is exactly the one ``local_p_values`` gives, at a
    fraction of its cost.

    Each candidate's median and MAD come from distances computed by one matrix product
    (:func:`~lineage.core.measure.distances.cross_distances_bounded`), which differ from the exact
    ones by at most a bound ``e`` per candidate. A median moves by at most ``e`` when every value
    moves by at most ``e``, a MAD by at most ``2e`` (order statistics are 1-Lipschitz in the largest
    change), so each edge's z-score lies in an interval; where the whole interval lands on one
    side of ``alpha`` (with a relative margin of 1e-9 for the rounding of the normal CDF), that is
    the decision. Only the candidates with an edge inside its interval get the exact distances
    (:func:`local_p_values`): in practice none, as an edge would have to sit within about 1e-6 of
    its threshold in z. ``tests/unit/test_local_test.py`` checks the decisions against
    ``local_p_values`` on random populations and on edges placed at the threshold.

    Parameters
    ----------
    X, parents, d, metric, max_sample, random_state, sample
        As for :func:`local_p_values`.
    factor : float or ndarray of shape (n_edges,)
        The multiplier of each edge's p-value before it is compared with ``alpha``.
    alpha : float

    Returns
    -------
    ndarray of shape (n_edges,), bool
    """
    from scipy import stats

    parents = np.asarray(parents, dtype=np.int64)
    d = np.asarray(d, dtype=np.float64)
    factor = np.broadcast_to(np.asarray(factor, dtype=np.float64), parents.shape)
    n = X.shape[0]

    def exact(sel):
        lp = local_p_values(X, parents[sel], d[sel], metric=metric, sample=sample_)
        return ~(np.minimum(1.0, factor[sel] * lp) > alpha)

    sample_ = _reference(n, sample, max_sample, random_state)
    if parents.size == 0 or n < 3:
        return exact(np.arange(parents.size))
    uniq, inv = np.unique(parents, return_inverse=True)
    loc = np.empty(uniq.size)
    mad = np.empty(uniq.size)
    err = np.empty(uniq.size)
    for b in range(0, uniq.size, block):
        us = uniq[b:b + block]
        dist, e = cross_distances_bounded(X, us, sample_, metric=metric)
        dist[np.equal.outer(us, sample_)] = np.nan  # a model's distance to itself is no sample
        med = _row_nanmedian(dist)
        loc[b:b + us.size] = med
        mad[b:b + us.size] = _row_nanmedian(np.abs(dist - med[:, None]))
        err[b:b + us.size] = e
    tiny = 1e-12
    loc_lo, loc_hi = loc - err, loc + err
    s_lo = np.maximum(1.4826 * np.maximum(mad - 2 * err, 0.0), tiny * np.maximum(loc_lo, tiny))
    s_hi = np.maximum(1.4826 * (mad + 2 * err), tiny * np.maximum(loc_hi, tiny))
    num_lo, num_hi = d - loc_hi[inv], d - loc_lo[inv]
    sl, sh = s_lo[inv], s_hi[inv]
    with np.errstate(all="ignore"):
        z_lo = np.where(num_lo >= 0, num_lo / sh, num_lo / sl)
        z_hi = np.where(num_hi >= 0, num_hi / sl, num_hi / sh)
        floor = np.finfo(float).tiny
        v_lo = np.minimum(1.0, factor * np.clip(stats.norm.cdf(z_lo), floor, 1.0))
        v_hi = np.minimum(1.0, factor * np.clip(stats.norm.cdf(z_hi), floor, 1.0))
    out = np.zeros(parents.size, dtype=bool)
    sure_pass = v_hi <= alpha * (1 - 1e-9)
    sure_fail = v_lo > alpha * (1 + 1e-9)
    out[sure_pass] = True
    unsure = np.flatnonzero(~(sure_pass | sure_fail))  # NaN lands here too
    if unsure.size:
        out[unsure] = exact(unsure)
    return out
