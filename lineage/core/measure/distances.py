"""DNA distances, computed blockwise.

Euclidean distance is the paper's metric; cosine distance (``1 - cos``) is an
option. Every function works on row blocks so that peak memory stays at
``O(block_size * n)`` beyond the output: 50,000 models need 10 GB only when the
caller asks for the full matrix (Neighbor-Joining does; k-nearest neighbours and
sampled null distances do not).

Blocks are computed in float64 (the ``|x|^2 + |y|^2 - 2 x.y`` expansion loses
precision in float32 for close pairs) and stored as float32.
"""

from __future__ import annotations

from typing import Iterator, Literal

import numpy as np

Metric = Literal["euclidean", "cosine"]
METRICS = ("euclidean", "cosine")


def _prepare(X: np.ndarray, metric: str) -> np.ndarray:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_models, n_dims), got shape {X.shape}")
    if metric == "cosine":
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        X = X / np.where(norms > 0, norms, 1.0)
    return X


def _block(A: np.ndarray, a2: np.ndarray, B: np.ndarray, b2: np.ndarray, metric: str) -> np.ndarray:
    """Distances between the rows of two prepared blocks, float64."""
    G = A @ B.T
    if metric == "cosine":
        np.subtract(1.0, G, out=G)
        return np.clip(G, 0.0, 2.0, out=G)
    # in place: no n x block temporaries beyond G itself
    G *= -2.0
    G += a2[:, None]
    G += b2[None, :]
    np.maximum(G, 0.0, out=G)
    return np.sqrt(G, out=G)


def iter_distance_blocks(
    X: np.ndarray, *, metric: Metric = "euclidean", block_size: int = 2048
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield ``(start, stop, block)`` with ``block`` the float64 distances of rows ``start:stop`` to all rows.

    Parameters
    ----------
    X : ndarray of shape (n_models, n_dims)
    metric : {"euclidean", "cosine"}
    block_size : int
        Rows per block; a block holds ``block_size * n_models`` float64 values.
    """
    P = _prepare(X, metric)
    sq = np.einsum("ij,ij->i", P, P)
    n = P.shape[0]
    for s in range(0, n, block_size):
        e = min(n, s + block_size)
        B = _block(P[s:e], sq[s:e], P, sq, metric)
        # exact zeros on the diagonal (the expansion leaves rounding noise)
        B[np.arange(e - s), np.arange(s, e)] = 0.0
        yield s, e, B


def pairwise_distances(
    X: np.ndarray, Y: np.ndarray | None = None, *, metric: Metric = "euclidean", block_size: int = 2048
) -> np.ndarray:
    """Full distance matrix, float32.

    Parameters
    ----------
    X : ndarray of shape (n_a, n_dims)
    Y : ndarray of shape (n_b, n_dims), optional
        Defaults to ``X`` (then the diagonal is exactly 0 and the matrix symmetric).
    metric : {"euclidean", "cosine"}
    block_size : int

    Returns
    -------
    D : ndarray of shape (n_a, n_b), float32
    """
    if Y is None:
        n = np.asarray(X).shape[0]
        D = np.empty((n, n), dtype=np.float32)
        for s, e, B in iter_distance_blocks(X, metric=metric, block_size=block_size):
            D[s:e] = B
        # symmetrise exactly (float rounding differs between the two triangles)
        iu = np.triu_indices(n, 1)
        D[(iu[1], iu[0])] = D[iu]
        return D
    A, Bm = _prepare(X, metric), _prepare(Y, metric)
    a2, b2 = np.einsum("ij,ij->i", A, A), np.einsum("ij,ij->i", Bm, Bm)
    out = np.empty((A.shape[0], Bm.shape[0]), dtype=np.float32)
    for s in range(0, A.shape[0], block_size):
        e = min(A.shape[0], s + block_size)
        out[s:e] = _block(A[s:e], a2[s:e], Bm, b2, metric)
    return out


def condensed_distances(X: np.ndarray, *, metric: Metric = "euclidean", block_size: int = 2048) -> np.ndarray:
    """Upper-triangle distances in scipy's condensed order, float32.

    Half the memory of the square matrix (20,000 models: 0.8 GB); this is what the
    tree builders consume.

    Parameters
    ----------
    X : ndarray of shape (n_models, n_dims)

    Returns
    -------
    d : ndarray of shape (n_models * (n_models - 1) // 2,), float32
    """
    return condensed_and_neighbours(X, 0, metric=metric, block_size=block_size)[0]


def _knn_block(B: np.ndarray, s: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(B.shape[0])
    B[rows, rows + s] = np.inf  # exclude self
    n = B.shape[1]
    part = np.argpartition(B, k - 1, axis=1)[:, :k] if k < n - 1 else np.argsort(B, axis=1)[:, :k]
    pd = B[rows[:, None], part]
    order = np.lexsort((part, pd))  # distance, then index: deterministic ties
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(pd, order, axis=1)


def condensed_and_neighbours(
    X: np.ndarray, k: int = 10, *, metric: Metric = "euclidean", block_size: int = 2048
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Condensed distances and exact k nearest neighbours in one blockwise pass.

    Parameters
    ----------
    X : ndarray of shape (n_models, n_dims)
    k : int
        Neighbours per model (clipped to ``n_models - 1``); 0 for none.

    Returns
    -------
    d : ndarray of shape (n_models * (n_models - 1) // 2,), float32
    indices : ndarray of shape (n_models, k), int64
        Sorted by increasing distance; ties broken by index.
    distances : ndarray of shape (n_models, k), float32
    """
    n = np.asarray(X).shape[0]
    k = max(0, min(k, n - 1))
    out = np.empty(n * (n - 1) // 2, dtype=np.float32)
    idx = np.empty((n, k), dtype=np.int64)
    dist = np.empty((n, k), dtype=np.float32)
    for s, e, B in iter_distance_blocks(X, metric=metric, block_size=block_size):
        for i in range(s, e):
            # row i of the condensed matrix holds d(i, i+1..n-1)
            start = i * n - i * (i + 1) // 2
            out[start : start + n - i - 1] = B[i - s, i + 1 :]
        if k:
            idx[s:e], dist[s:e] = _knn_block(B, s, k)
    return out, idx, dist


def condensed_index(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Positions of pairs ``(i, j)``, ``i != j``, in a condensed vector of ``n`` items."""
    i, j = np.minimum(i, j), np.maximum(i, j)
    return i * n - i * (i + 1) // 2 + (j - i - 1)


def nearest_neighbours(
    X: np.ndarray, k: int = 10, *, metric: Metric = "euclidean", block_size: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours of every row (itself excluded), blockwise.

    Parameters
    ----------
    X : ndarray of shape (n_models, n_dims)
    k : int
        Clipped to ``n_models - 1``.

    Returns
    -------
    indices : ndarray of shape (n_models, k), int64
        Sorted by increasing distance; ties broken by index.
    distances : ndarray of shape (n_models, k), float32
    """
    n = np.asarray(X).shape[0]
    k = max(0, min(k, n - 1))
    idx = np.empty((n, k), dtype=np.int64)
    dist = np.empty((n, k), dtype=np.float32)
    if k == 0:
        return idx, dist
    for s, e, B in iter_distance_blocks(X, metric=metric, block_size=block_size):
        idx[s:e], dist[s:e] = _knn_block(B, s, k)
    return idx, dist


def cross_distances(X: np.ndarray, rows: np.ndarray, cols: np.ndarray, *, metric: Metric = "euclidean",
                    max_cells: int = 1 << 22) -> np.ndarray:
    """Distances of every ``(rows[a], cols[b])`` pair, float64, shape ``(len(rows), len(cols))``:
    bit for bit what :func:`pair_distances` gives for the same pairs, without gathering both
    sides of every pair (the columns are gathered once; a block of rows is broadcast against
    them, at most ``max_cells`` pair-dimensions at a time)."""
    P = _prepare(X, metric)
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    out = np.empty((rows.size, cols.size), dtype=np.float64)
    if rows.size == 0 or cols.size == 0:
        return out
    if metric == "cosine":  # einsum's summation order is its own: the pairwise path, row by row
        for a in range(rows.size):
            out[a] = pair_distances(X, np.full(cols.size, rows[a]), cols, metric=metric)
        return out
    C = P[cols]
    step = max(1, max_cells // (cols.size * P.shape[1]))
    for s in range(0, rows.size, step):
        diff = P[rows[s:s + step]][:, None, :] - C[None, :, :]
        # what np.linalg.norm(a - b, axis=1) computes for real vectors: sqrt of the sum of squares
        out[s:s + step] = np.sqrt(np.add.reduce(diff * diff, axis=-1))
    return out


def cross_distances_bounded(X: np.ndarray, rows: np.ndarray, cols: np.ndarray, *,
                            metric: Metric = "euclidean") -> tuple[np.ndarray, np.ndarray]:
    """Distances of every ``(rows[a], cols[b])`` pair by one matrix product, with a bound on how far
    each row may be from :func:`cross_distances` (which gathers the differences: exact, and slow).

    Returns ``(D, err)``: ``D`` of shape ``(len(rows), len(cols))`` float64, and ``err`` of shape
    ``(len(rows),)`` with ``|D[a, b] - cross_distances(...)[a, b]| <= err[a]`` for every ``b``.

    The bound is the classical one for floating-point sums (Higham, *Accuracy and Stability of
    Numerical Algorithms*, 3.1): a sum of ``n`` products carries an absolute error of at most
    ``gamma_n`` times the sum of their absolute values, ``gamma_n = n u / (1 - n u)`` and ``u`` the
    unit roundoff, whatever the order of summation (BLAS may block and fuse). Euclidean: the
    product path computes ``|a|^2 + |b|^2 - 2 a.b`` (error at most ``gamma_{n+3} (|a|^2 + |b|^2 +
    2 |a||b|)``), then the square root, and ``|sqrt(x) - sqrt(y)| <= sqrt(|x - y|)``; the exact
    path's own error, relative, is at most ``gamma_{n+3}`` of the distance. Cosine: both paths take
    ``1 - a.b`` of the same unit vectors, each dot product within ``gamma_n``. The bound used here
    is twice those, so rounding in the bound itself cannot matter.
    """
    P = _prepare(X, metric)
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    n_dims = P.shape[1]
    u = np.finfo(np.float64).eps / 2
    gamma = 2.0 * (n_dims + 3) * u / (1.0 - (n_dims + 3) * u)
    if rows.size == 0 or cols.size == 0:
        return np.empty((rows.size, cols.size)), np.zeros(rows.size)
    A, C = P[rows], P[cols]
    if metric == "cosine":
        D = _block(A, None, C, None, metric)
        return D, np.full(rows.size, 2.0 * gamma * (1.0 + gamma))
    a2, c2 = np.einsum("ij,ij->i", A, A), np.einsum("ij,ij->i", C, C)
    D = _block(A, a2, C, c2, metric)
    c2max = float(c2.max())
    err_sq = gamma * (a2 + c2max + 2.0 * np.sqrt(a2 * c2max))  # of |a|^2 + |b|^2 - 2 a.b, each row
    dmax = D.max(axis=1)
    err = np.sqrt(err_sq) + gamma * (dmax + np.sqrt(err_sq))
    return D, err * (1.0 + 4 * u) + np.finfo(np.float64).tiny


def pair_distances(X: np.ndarray, i: np.ndarray, j: np.ndarray, *, metric: Metric = "euclidean") -> np.ndarray:
    """Distances of the given row pairs only, float64, shape ``(len(i),)``."""
    P = _prepare(X, metric)
    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    out = np.empty(i.shape[0], dtype=np.float64)
    for s in range(0, i.shape[0], 16384):  # bounded temporaries
        a, b = P[i[s : s + 16384]], P[j[s : s + 16384]]
        if metric == "cosine":
            out[s : s + 16384] = np.clip(1.0 - np.einsum("ij,ij->i", a, b), 0.0, 2.0)
        else:
            out[s : s + 16384] = np.linalg.norm(a - b, axis=1)
    return out
