"""From per-answer embeddings to a DNA vector (pure numpy, no I/O).

The order, as in the paper and the reference implementation ``llm-dna`` 1.0.x:

1. raw encoder rows ``E`` (n_probes, enc_dim); empty answers are zero rows in
   their own slot;
2. row reduction to ``row_dim``: the Matryoshka prefix ``E[:, :row_dim]`` for
   prefix-trained encoders (Qwen3-Embedding), otherwise ``E @ R(enc_dim, row_dim, seed)``
   (a shared random projection); nothing when ``enc_dim == row_dim``;
3. optional per-row L2 normalisation (zero rows stay zero);
4. row-major flattening (concatenation in probe order, never a mean);
5. ``dna = x @ R(n_probes * row_dim, dna_dim, seed)``; no scaler, no final norm.
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np

from lineage.core.measure.projection import projection_matrix

RowReduction = Literal["prefix", "projection", "none"]

__all__ = ["empty_mask", "reduce_rows", "concat_rows", "dna_from_embeddings", "is_degenerate", "RowReduction"]


def empty_mask(answers: Sequence[str]) -> np.ndarray:
    """Boolean mask of shape (n_answers,): True where the answer is empty or whitespace."""
    return np.array([not (a or "").strip() for a in answers], dtype=bool)


def reduce_rows(embeddings: np.ndarray, *, mode: RowReduction, row_dim: int = 64, seed: int = 42,
                normalize: bool = True) -> np.ndarray:
    """Reduce every answer embedding to ``row_dim`` values, then L2-normalise rows if asked.

    Parameters
    ----------
    embeddings : ndarray of shape (n_probes, enc_dim)
        Raw encoder output; all-zero rows mark empty answers.
    mode : {'prefix', 'projection', 'none'}
    row_dim : int
    seed : int
        Seed of the shared row projection (``mode='projection'``).
    normalize : bool
        Per-row L2 normalisation after the reduction.

    Returns
    -------
    ndarray of shape (n_probes, row_dim), float32
    """
    e = np.asarray(embeddings, dtype=np.float32)
    if e.ndim != 2 or 0 in e.shape:
        raise ValueError(f"embeddings must be a non-empty 2-d matrix, got shape {e.shape}")
    if not np.all(np.isfinite(e)):
        raise ValueError("embeddings hold NaN or infinite values")
    if mode == "none" or e.shape[1] == row_dim:
        rows = e.copy()
    elif mode == "prefix":
        rows = e[:, :row_dim].copy()
        if rows.shape[1] < row_dim:
            rows = np.pad(rows, ((0, 0), (0, row_dim - rows.shape[1])))
    elif mode == "projection":
        rows = e @ projection_matrix(e.shape[1], row_dim, seed)
    else:
        raise ValueError(f"unknown row reduction {mode!r}")
    if normalize:
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        rows = rows / norms
    return rows.astype(np.float32, copy=False)


def concat_rows(rows: np.ndarray) -> np.ndarray:
    """Row-major flattening: ndarray (n_probes, row_dim) -> (n_probes * row_dim,)."""
    return np.ascontiguousarray(rows, dtype=np.float32).reshape(-1)


def dna_from_embeddings(embeddings: np.ndarray, *, mode: RowReduction, row_dim: int = 64,
                        dna_dim: int = 128, seed: int = 42, normalize: bool = True) -> np.ndarray:
    """The DNA of one model from its raw answer embeddings.

    Parameters
    ----------
    embeddings : ndarray of shape (n_probes, enc_dim)
    mode, row_dim, seed, normalize
        See :func:`reduce_rows`.
    dna_dim : int

    Returns
    -------
    dna : ndarray of shape (dna_dim,), float32
    """
    x = concat_rows(reduce_rows(embeddings, mode=mode, row_dim=row_dim, seed=seed, normalize=normalize))
    dna = (x.reshape(1, -1) @ projection_matrix(x.shape[0], dna_dim, seed)).reshape(-1)
    return dna.astype(np.float32, copy=False)


def is_degenerate(n_empty: int, n_probes: int, threshold: float = 0.5) -> bool:
    """True when more than ``threshold`` of the answers are empty."""
    return n_probes > 0 and n_empty / n_probes > threshold
