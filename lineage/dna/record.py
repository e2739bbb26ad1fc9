"""The DNA record and its provenance (data types only; file I/O is in :mod:`lineage.dna.files`).

A DNA is comparable with another only when everything that shapes the vector
is equal: the ordered probe set, the generation settings, the dtype, the
encoder and its row reduction, the dimensions and the projection seed. That
set is :meth:`Provenance.comparability_key`. The tool version is recorded but
not part of the key (it does not change the vector unless one of the above
changes).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from lineage.errors import ProvenanceMismatch

DNA_FORMAT = "lineage-dna/1"


class GenerationConfig(BaseModel):
    """How every probe was answered. Greedy (temperature 0) is deterministic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_new_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    chat_template: bool = True

    @property
    def do_sample(self) -> bool:
        return self.temperature > 0


class Provenance(BaseModel):
    """Everything that shapes a DNA vector, plus the tool version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    probe_set: str
    probe_hash: str
    n_probes: int
    generation: GenerationConfig
    dtype: str
    encoder: str
    row_reduction: Literal["prefix", "projection", "none"]
    row_dim: int = 64
    dna_dim: int = 128
    projection_seed: int = 42
    tool_version: str = ""

    def comparability_key(self) -> str:
        d = self.model_dump(exclude={"tool_version"})
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def differences(self, other: "Provenance") -> list[str]:
        a, b = self.model_dump(exclude={"tool_version"}), other.model_dump(exclude={"tool_version"})
        return [k for k in a if a[k] != b[k]]


@dataclass(frozen=True)
class DNA:
    """One model's DNA.

    Attributes
    ----------
    model_id : str
    vector : ndarray of shape (dna_dim,), float32
    provenance : Provenance
    n_empty : int
        Probes the model answered with nothing (zero rows in the concatenation).
    degenerate : bool
        True when most answers were empty; such a DNA is not a valid fingerprint.
    """

    model_id: str
    vector: np.ndarray
    provenance: Provenance
    n_empty: int = 0
    degenerate: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_probes(self) -> int:
        return self.provenance.n_probes


def check_comparable(dnas: Sequence[DNA]) -> Provenance:
    """Return the shared provenance or raise :class:`ProvenanceMismatch` naming the odd one out."""
    if not dnas:
        raise ProvenanceMismatch("no DNAs given")
    ref = dnas[0]
    key = ref.provenance.comparability_key()
    for d in dnas[1:]:
        if d.provenance.comparability_key() != key:
            diff = ", ".join(ref.provenance.differences(d.provenance))
            raise ProvenanceMismatch(
                f"DNA of {d.model_id!r} was made with different settings than {ref.model_id!r} ({diff})"
            )
    return ref.provenance


def stack(dnas: Sequence[DNA]) -> tuple[list[str], np.ndarray]:
    """Ids and an ``(n_models, dna_dim)`` float32 matrix, after checking comparability."""
    check_comparable(dnas)
    return [d.model_id for d in dnas], np.stack([np.asarray(d.vector, dtype=np.float32) for d in dnas])
