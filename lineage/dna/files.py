"""Reading and writing DNA files (``<model>.dna.json``), atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from lineage.dna.record import DNA, DNA_FORMAT, Provenance
from lineage.errors import CacheError, DNAFileError


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, then rename: never a half-written file."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise CacheError(f"cannot write in {path.parent}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise CacheError(f"cannot write {path}: {e.strerror}") from None


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
        vec = np.asarray(data["vector"], dtype=np.float32)
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
    if not np.all(np.isfinite(vec)):
        raise DNAFileError(f"{origin}: vector holds NaN or infinite values")
    return DNA(
        model_id=model_id,
        vector=vec,
        provenance=prov,
        n_empty=int(data.get("n_empty", 0)),
        degenerate=bool(data.get("degenerate", False)),
        meta=dict(data.get("meta") or {}),
    )


def save_dna(d: DNA, path: str | Path) -> Path:
    path = Path(path)
    atomic_write_text(path, json.dumps(dna_to_dict(d), indent=1))
    return path


def load_dna(path: str | Path, *, expected_dim: int | None = None) -> DNA:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DNAFileError(f"DNA file {path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DNAFileError(f"{path}: not valid JSON ({e})") from None
    return dna_from_dict(data, origin=str(path), expected_dim=expected_dim)


def dna_filename(model_id: str) -> str:
    """A safe file name for any model id (ids may hold slashes, quotes, unicode)."""
    import hashlib
    import re

    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("._")[:80] or "model"
    return f"{stem}-{hashlib.sha256(model_id.encode()).hexdigest()[:8]}.dna.json"
