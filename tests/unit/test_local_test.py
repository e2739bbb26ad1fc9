"""The local test's fast decision (selection.local_test) is the decision of the exact p-values
(selection.local_p_values) edge for edge: a placement and a full analysis must keep deciding
exactly as before (issue 23). The fast path's distances come with an error bound
(distances.cross_distances_bounded); edges inside the bound are decided exactly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lineage.core.infer import selection
from lineage.core.infer.selection import local_p_values, local_test, reference_sample
from lineage.core.measure.distances import cross_distances, cross_distances_bounded


def _population(seed: int, n: int = 600, dims: int = 128):
    rng = np.random.default_rng(seed)
    bases = rng.normal(size=(n // 20, dims)) * rng.uniform(0.2, 3.0, size=(n // 20, 1))
    X = bases[rng.integers(0, len(bases), n)] + 0.3 * rng.normal(size=(n, dims))
    return X.astype(np.float32)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_the_bound_holds(metric):
    X = _population(1)
    rows, cols = np.arange(0, 600, 7), np.sort(np.random.default_rng(2).choice(600, 201, replace=False))
    D, err = cross_distances_bounded(X, rows, cols, metric=metric)
    exact = cross_distances(X, rows, cols, metric=metric)
    assert (np.abs(D - exact) <= err[:, None]).all()
    assert err.max() < 1e-5 * max(1.0, float(exact.max()))  # small enough to decide almost every edge


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_decisions_equal_the_exact_p_values(metric, seed):
    X = _population(seed)
    rng = np.random.default_rng(seed + 10)
    n = X.shape[0]
    parents = rng.integers(0, n, 3000)
    children = rng.integers(0, n, 3000)
    d = cross_distances(X, np.arange(n), np.arange(n), metric=metric)[parents, children]
    sample = reference_sample([f"m{i}" for i in range(n)], size=250)
    factor = np.where(rng.random(3000) < 0.2, 1.0, float(n - 1))
    for alpha in (0.01, 0.05, 0.5):
        want = ~(np.minimum(1.0, factor * local_p_values(X, parents, d, metric=metric, sample=sample)) > alpha)
        got = local_test(X, parents, d, factor, alpha, metric=metric, sample=sample, block=64)
        assert np.array_equal(got, want)
        assert 0 < want.sum() < want.size or alpha == 0.5


def test_edges_at_the_threshold_are_decided_exactly(monkeypatch):
    """Distances put on the threshold itself (to the last bits) fall inside the bound: they
    take the exact path, and the decision is still the exact one."""
    X = _population(5, n=400).astype(np.float64)
    n = X.shape[0]
    sample = np.arange(0, n, 2)
    parents = np.repeat(np.arange(40), 5)
    ex = cross_distances(X, np.arange(40), sample)
    ex[np.equal.outer(np.arange(40), sample)] = np.nan
    med = np.nanmedian(ex, axis=1)
    scale = np.maximum(1.4826 * np.nanmedian(np.abs(ex - med[:, None]), axis=1), 1e-12)
    factor = np.full(parents.size, float(n - 1))
    z = stats.norm.ppf(0.01 / factor)
    nudge = np.tile([-2e-15, -1e-16, 0.0, 1e-16, 2e-15], 40)
    d = (med[parents] + z * scale[parents]) * (1 + nudge)
    calls = []
    real = selection.local_p_values
    monkeypatch.setattr(selection, "local_p_values", lambda *a, **k: calls.append(1) or real(*a, **k))
    got = local_test(X, parents, d, factor, 0.01, sample=sample)
    want = ~(np.minimum(1.0, factor * real(X, parents, d, sample=sample)) > 0.01)
    assert np.array_equal(got, want)
    assert calls  # the exact path ran for the edges on the threshold
    assert 0 < want.sum() < want.size


def test_far_edges_never_take_the_exact_path(monkeypatch):
    X = _population(7)
    n = X.shape[0]
    rng = np.random.default_rng(8)
    parents = rng.integers(0, n, 500)
    d = np.where(rng.random(500) < 0.5, 1e-3, 1e3)  # far below or far above every candidate's median
    want = ~(np.minimum(1.0, (n - 1) * local_p_values(X, parents, d, sample=np.arange(0, n, 3))) > 0.01)
    calls = []
    monkeypatch.setattr(selection, "local_p_values", lambda *a, **k: calls.append(1) or None)
    got = local_test(X, parents, d, float(n - 1), 0.01, sample=np.arange(0, n, 3))
    assert not calls
    assert np.array_equal(got, want) and want[d > 1].sum() == 0 and want.sum() > 0
