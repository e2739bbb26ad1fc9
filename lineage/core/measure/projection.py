"""The one shared random projection of the LLM DNA method.

``R = np.random.RandomState(seed).randn(in_dim, out_dim).astype(float32)``, then
every column divided by its L2 norm. The same construction serves both the
per-answer row reduction (encoder dim -> 64, non-prefix encoders) and the final
projection (n_probes * 64 -> dna_dim). It is bit-identical to the reference
implementation (``llm-dna`` 1.0.x) and is *not* sklearn's GaussianRandomProjection.

Pure numpy: this module imports no torch and touches no files.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["projection_matrix", "project"]


def _check_dim(value: int, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@lru_cache(maxsize=8)
def _cached(in_dim: int, out_dim: int, seed: int) -> np.ndarray:
    m = np.random.RandomState(seed).randn(in_dim, out_dim).astype(np.float32)
    m = m / np.linalg.norm(m, axis=0)
    m.setflags(write=False)
    return m


def projection_matrix(in_dim: int, out_dim: int, seed: int = 42) -> np.ndarray:
    """The shared projection matrix, keyed by ``(in_dim, out_dim, seed)``.

    Parameters
    ----------
    in_dim, out_dim : int
        Shape of the matrix.
    seed : int, default 42
        Seed of ``numpy.random.RandomState`` (MT19937); the global RNG is untouched.

    Returns
    -------
    R : ndarray of shape (in_dim, out_dim), float32, read-only
        Gaussian entries with unit-L2-norm columns.
    """
    seed = int(seed)
    if not 0 <= seed <= 2**32 - 1:
        raise ValueError(f"seed must be in [0, 2**32 - 1], got {seed}")
    return _cached(_check_dim(in_dim, "in_dim"), _check_dim(out_dim, "out_dim"), seed)


def project(x: np.ndarray, out_dim: int, seed: int = 42) -> np.ndarray:
    """Right-multiply ``x`` by the shared matrix.

    Parameters
    ----------
    x : ndarray of shape (in_dim,) or (n_rows, in_dim)
    out_dim : int
    seed : int

    Returns
    -------
    ndarray of shape (out_dim,) or (n_rows, out_dim), float32
    """
    x = np.asarray(x, dtype=np.float32)
    return (x @ projection_matrix(x.shape[-1], out_dim, seed)).astype(np.float32, copy=False)
