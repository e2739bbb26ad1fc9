import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist

from lineage.core.measure.distances import (
    condensed_and_neighbours,
    condensed_distances,
    condensed_index,
    nearest_neighbours,
    pair_distances,
    pairwise_distances,
)


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(57, 128)).astype(np.float32)


@pytest.mark.parametrize("block", [1, 7, 2048])
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_blockwise_matches_scipy(X, block, metric):
    want = cdist(X.astype(np.float64), X.astype(np.float64), metric)
    D = pairwise_distances(X, metric=metric, block_size=block)
    assert D.dtype == np.float32
    np.testing.assert_allclose(D, want, atol=2e-6)
    assert np.all(np.diag(D) == 0) and np.array_equal(D, D.T)
    d = condensed_distances(X, metric=metric, block_size=block)
    np.testing.assert_allclose(d, pdist(X.astype(np.float64), metric), atol=2e-6)


def test_rectangular_and_pairs(X):
    np.testing.assert_allclose(pairwise_distances(X[:5], X[5:], block_size=2), cdist(X[:5], X[5:]), atol=2e-6)
    i, j = np.array([0, 3, 10]), np.array([1, 40, 2])
    np.testing.assert_allclose(pair_distances(X, i, j), cdist(X, X)[i, j], atol=1e-5)
    d = condensed_distances(X)
    np.testing.assert_allclose(d[condensed_index(57, i, j)], cdist(X, X)[i, j], atol=1e-5)


def test_knn_exact(X):
    full = cdist(X, X)
    np.fill_diagonal(full, np.inf)
    idx, dist = nearest_neighbours(X, 5, block_size=8)
    want = np.argsort(full, axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(idx, want)
    np.testing.assert_allclose(dist, np.take_along_axis(full, want, 1), atol=2e-5)
    d, idx2, dist2 = condensed_and_neighbours(X, 5, block_size=8)
    np.testing.assert_array_equal(idx2, idx)
    # k larger than n - 1 is clipped
    assert nearest_neighbours(X[:4], 10)[0].shape == (4, 3)


def test_close_pairs_keep_precision():
    base = np.random.default_rng(1).normal(size=(1, 128)) * 10
    X = np.vstack([base, base + 1e-3]).astype(np.float32)
    d = pairwise_distances(X)[0, 1]
    assert d == pytest.approx(np.linalg.norm(X[0].astype(float) - X[1]), rel=1e-3)
