"""Precomputed DNA files (``dna:`` manifest entries): no model, no generation."""

from __future__ import annotations

from pathlib import Path

from lineage.dna.record import DNA
from lineage.dna.files import load_dna

__all__ = ["load_precomputed"]


def load_precomputed(path: str | Path, *, model_id: str | None = None, expected_dim: int | None = None) -> DNA:
    """Read a DNA file; ``model_id`` (the manifest id) replaces the stored id when given."""
    d = load_dna(path, expected_dim=expected_dim)
    if model_id is not None and model_id != d.model_id:
        d = DNA(model_id=model_id, vector=d.vector, provenance=d.provenance, n_empty=d.n_empty,
                degenerate=d.degenerate, meta={**d.meta, "stored_model_id": d.model_id})
    return d
