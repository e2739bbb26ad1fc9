"""Profile caches as ``.npz`` files: arrays plus a JSON ``meta`` record, written atomically."""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from lineage.errors import CacheError


def write_npz(path: Path, what: str, meta: dict, **arrays: np.ndarray) -> None:
    """Write ``arrays`` and ``meta`` to ``path`` via a temporary file and a rename (never half a file)."""
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(buf.getvalue())
        os.replace(tmp, path)
    except OSError as e:
        raise CacheError(f"cannot write the {what} cache in {path.parent}: {e.strerror}") from None


def read_npz(path: Path, fmt: str) -> tuple[dict, dict[str, np.ndarray]] | None:
    """``(meta, arrays)`` of a file written by :func:`write_npz` in format ``fmt``; None when it is
    absent, of another format or unreadable (the caller then rebuilds it)."""
    try:
        with np.load(path) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            if meta.get("format") != fmt:
                return None
            return meta, {k: z[k] for k in z.files if k != "meta"}
    except (OSError, ValueError, KeyError, EOFError):
        return None
