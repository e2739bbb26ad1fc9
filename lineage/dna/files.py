"""Reading and writing DNA files (``<model>.dna.json``), atomically.

A DNA file is checked before anything uses it: at most :data:`MAX_DNA_FILE_BYTES`, UTF-8
JSON, nesting within the manifest limit, and a vector of finite values no larger than
:data:`MAX_DNA_MAGNITUDE` in magnitude (see :func:`check_dna_vector`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from lineage.dna.record import DNA, DNA_FORMAT, Provenance
from lineage.errors import DNAFileError
from lineage.io import atomic_write_text  # noqa: F401 (re-exported)

#: Largest |value| accepted in a DNA vector. Real DNAs are projections of unit-norm
#: embeddings (|x| of order 1); beyond 1e6 squared distances summed over the dimensions
#: overflow float32 or swamp every other pair, and one such model poisons the whole graph.
MAX_DNA_MAGNITUDE = 1e6
#: Largest DNA file read (bytes): a 100,000-dimensional DNA with its metadata fits.
MAX_DNA_FILE_BYTES = 16 * 2**20


def check_dna_vector(vec, origin: str = "<dna>") -> np.ndarray:
    """``vec`` as a 1-d float32 array, or :class:`DNAFileError` when it holds NaN, infinities
    or values beyond :data:`MAX_DNA_MAGNITUDE` (call it wherever a DNA enters the graph)."""
    with np.errstate(over="ignore", invalid="ignore"):
        v = np.asarray(vec, dtype=np.float64)
    if v.ndim != 1:
        raise DNAFileError(f"{origin}: the DNA vector must be one list of numbers, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise DNAFileError(f"{origin}: vector holds NaN or infinite values")
    big = np.abs(v) > MAX_DNA_MAGNITUDE
    if big.any():
        i = int(np.argmax(big))
        raise DNAFileError(f"{origin}: vector value {v[i]:.3g} at index {i} is beyond the accepted magnitude "
                           f"{MAX_DNA_MAGNITUDE:g}; distances to it would overflow or lose meaning")
    return v.astype(np.float32)


def dna_to_dict(d: DNA) -> dict:
    return {
        "format": DNA_FORMAT,
        "model_id": d.model_id,
        "vector": [float(x) for x in np.asarray(d.vector, dtype=np.float32)],
        "provenance": d.provenance.model_dump(mode="json"),
        "n_empty": d.n_empty,
        "degenerate": d.degenerate,
        "meta": d.meta,
    }


def dna_from_dict(data: dict, *, origin: str = "<dna>", expected_dim: int | None = None) -> DNA:
    if not isinstance(data, dict) or data.get("format") != DNA_FORMAT:
        raise DNAFileError(f"{origin}: not a lineage DNA file (expected format {DNA_FORMAT!r})")
    try:
        prov = Provenance.model_validate(data["provenance"])
        vec = check_dna_vector(data["vector"], origin)
        model_id = str(data["model_id"])
    except (KeyError, ValidationError, TypeError, ValueError) as e:
        raise DNAFileError(f"{origin}: malformed DNA file ({type(e).__name__}: {str(e).splitlines()[0]})") from None
    if vec.ndim != 1 or vec.shape[0] != prov.dna_dim:
        raise DNAFileError(f"{origin}: vector has {vec.shape} values but provenance says dna_dim={prov.dna_dim}")
    if expected_dim is not None and prov.dna_dim != expected_dim:
        raise DNAFileError(
            f"{origin}: DNA of dimension {prov.dna_dim}, this graph uses {expected_dim}",
            hint="re-extract with the graph's --dna-dim, or use a separate database",
        )
    if not isinstance(data.get("meta") or {}, dict):
        raise DNAFileError(f"{origin}: malformed DNA file (meta must be a mapping)")
    try:
        n_empty = int(data.get("n_empty", 0))
    except (TypeError, ValueError):
        raise DNAFileError(f"{origin}: malformed DNA file (n_empty must be an integer)") from None
    return DNA(
        model_id=model_id,
        vector=vec,
        provenance=prov,
        n_empty=n_empty,
        degenerate=bool(data.get("degenerate", False)),
        meta=dict(data.get("meta") or {}),
    )


def save_dna(d: DNA, path: str | Path) -> Path:
    path = Path(path)
    atomic_write_text(path, json.dumps(dna_to_dict(d), indent=1))
    return path


def load_dna(path: str | Path, *, expected_dim: int | None = None) -> DNA:
    from lineage.io import check_depth, read_text_file

    path = Path(path)
    text = read_text_file(path, "DNA file", max_bytes=MAX_DNA_FILE_BYTES, error=DNAFileError)
    try:
        data = json.loads(text)
        check_depth(data)
    except json.JSONDecodeError as e:
        raise DNAFileError(f"{path}: not valid JSON ({e})") from None
    except (RecursionError, ValueError):
        raise DNAFileError(f"{path}: not a lineage DNA file (nested too deeply)") from None
    return dna_from_dict(data, origin=str(path), expected_dim=expected_dim)


def expand_dna_paths(paths) -> list[Path]:
    """DNA files from a mix of files and folders: a folder stands for every ``*.dna.json`` in it
    (sorted, not recursive). A folder holding none is refused, naming it."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.glob("*.dna.json"))
            if not found:
                raise DNAFileError(f"folder {p} holds no .dna.json files",
                                   hint="pass DNA files, or the folder `lineage extract --out` wrote")
            out.extend(found)
        else:
            out.append(p)
    return out


def dna_filename(model_id: str) -> str:
    """A safe file name for any model id (ids may hold slashes, quotes, unicode)."""
    import hashlib
    import re

    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("._")[:80] or "model"
    return f"{stem}-{hashlib.sha256(model_id.encode()).hexdigest()[:8]}.dna.json"
