"""Reading and writing DNA files (``<model>.dna.json``), atomically.

A DNA file is checked before anything uses it: at most :data:`MAX_DNA_FILE_BYTES`, UTF-8
JSON, nesting within the manifest limit, a vector of JSON numbers (``true``/``false`` are not
numbers, although Python would read them as 1 and 0), finite, no larger than
:data:`MAX_DNA_MAGNITUDE` in magnitude, not constant and not vanishingly small (see
:func:`check_dna_vector`).

Why refuse constant vectors: an all-zero (or all-equal) DNA carries no behaviour, yet it sits
near the centre of any population of projected DNAs, the place closest to every family at
once, and was inferred as the parent of every valid model in the issue that found it (#21).
No extraction produces one (a model that answers nothing fails as degenerate instead), so such
a file is a mistake or a forgery, never a measurement.
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
#: Smallest root-mean-square value accepted: extracted DNAs are projections of unit-norm
#: embeddings (RMS of order 0.1 to 10); below 1e-6 a vector is a zero vector with noise.
MIN_DNA_RMS = 1e-6
#: Largest DNA file read (bytes): a 100,000-dimensional DNA with its metadata fits.
MAX_DNA_FILE_BYTES = 16 * 2**20


def check_dna_vector(vec, origin: str = "<dna>") -> np.ndarray:
    """``vec`` as a 1-d float32 array, or :class:`DNAFileError` when it holds NaN, infinities
    or values beyond :data:`MAX_DNA_MAGNITUDE`, is constant (all zero, all equal) or has an RMS
    below :data:`MIN_DNA_RMS` (call it wherever a DNA enters the graph)."""
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
    if v.size and np.all(v == v[0]):
        raise DNAFileError(f"{origin}: every value of the vector is {v[0]:g}; a constant vector carries no "
                           "behaviour and would sit at the centre of the population",
                           hint="re-create the DNA file with `lineage extract`")
    rms = float(np.sqrt(np.mean(np.square(v)))) if v.size else 0.0
    if rms < MIN_DNA_RMS:
        raise DNAFileError(f"{origin}: the vector is vanishingly small (RMS {rms:.3g}, below {MIN_DNA_RMS:g}); "
                           "it is not an extracted DNA", hint="re-create the DNA file with `lineage extract`")
    return v.astype(np.float32)


def _check_json_numbers(raw, origin: str) -> None:
    """The vector as written in the file: a flat list of JSON numbers. ``true``/``false`` are
    refused here because ``numpy`` would read them as 1.0 and 0.0 without a word."""
    if not isinstance(raw, list):
        raise DNAFileError(f"{origin}: the DNA vector must be a list of numbers, not {type(raw).__name__}")
    for i, x in enumerate(raw):
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            what = "a JSON boolean" if isinstance(x, bool) else f"a {type(x).__name__}"
            raise DNAFileError(f"{origin}: vector value at index {i} is {what}, not a number",
                               hint="a DNA vector is a list of numbers; re-create the file with `lineage extract`")


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
        _check_json_numbers(data["vector"], origin)
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
