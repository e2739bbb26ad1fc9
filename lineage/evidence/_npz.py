"""Profile caches as ``.npz`` files: arrays plus a JSON ``meta`` record and a ``seal``, written atomically.

The seal (:mod:`lineage.seal`, which states the threat model) covers the file's path below
the cache root (so its key: model content and settings), the metadata bytes and every
array's name, dtype, shape and bytes. A file that is absent, of another format, unsealed,
sealed with another key or for another path, or altered in any array is a miss: the caller
rebuilds the profile from the model. Every such file that exists is named in a warning.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from lineage.errors import CacheError, LineageError
from lineage.seal import Seal

log = logging.getLogger("lineage")
_warned: set[tuple[str, int, int]] = set()


def _parts(meta_bytes: bytes, arrays: dict[str, np.ndarray]) -> list[bytes]:
    """What a seal covers, in a fixed order (arrays by name)."""
    out = [meta_bytes]
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        out += [name.encode(), f"{a.dtype.str}{a.shape}".encode(), a.tobytes()]
    return out


def write_npz(path: Path, what: str, meta: dict, *, seal: Seal, **arrays: np.ndarray) -> None:
    """Write ``arrays`` and ``meta``, sealed, to ``path`` via a temporary file and a rename (never half a file)."""
    meta_bytes = json.dumps(meta).encode()
    tag = seal.sign(path, *_parts(meta_bytes, arrays))
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(meta_bytes, dtype=np.uint8),
             seal=np.frombuffer(tag.encode(), dtype=np.uint8), **arrays)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(buf.getvalue())
        os.replace(tmp, path)
    except OSError as e:
        raise CacheError(f"cannot write the {what} cache in {path.parent}: {e.strerror}") from None


def read_npz(path: Path, fmt: str, *, seal: Seal) -> tuple[dict, dict[str, np.ndarray]] | None:
    """``(meta, arrays)`` of a file written by :func:`write_npz` in format ``fmt`` and sealed by
    ``seal``'s key for this path; None when it is absent or not trusted (the caller then rebuilds it)."""
    if not path.is_file():
        return None
    try:
        # allow_pickle stays False: an object array in a planted file is refused, never unpickled
        with np.load(path, allow_pickle=False) as z:
            if "meta" not in z.files or "seal" not in z.files:
                why = "unsealed (older format or not ours)"
            else:
                meta_bytes = bytes(z["meta"])
                tag = bytes(z["seal"]).decode("ascii", "replace")
                arrays = {k: z[k] for k in z.files if k not in ("meta", "seal")}
                if not seal.verify(path, tag, *_parts(meta_bytes, arrays)):
                    why = "altered, copied from another entry, or sealed with another key"
                else:
                    meta = json.loads(meta_bytes.decode())
                    if isinstance(meta, dict) and meta.get("format") == fmt:
                        return meta, arrays
                    why = f"of another format ({str(meta.get('format') if isinstance(meta, dict) else meta)[:40]!r})"
    except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile):
        why = "unreadable (damaged or not a cache file)"
    try:
        st = path.stat()
        seen = (str(path), st.st_size, st.st_mtime_ns)
    except OSError:
        seen = (str(path), -1, -1)
    if seen not in _warned:  # once per file version: a rebuild reads the same entry again
        _warned.add(seen)
        log.warning("warning: cached profile %s is not trusted (%s); it is rebuilt", path, why)
    return None


def verified_or_rebuilt(key: str | None, load, rebuild, rebuilt_key):
    """A cached profile read back through its seal, or rebuilt from the model when the entry is
    missing or not trusted, and then used only when the rebuild's key is still ``key`` (the
    content the graph node was made from). The rebuilt entry is read back as stored, so the
    answer equals that of a cache hit to the bit. Shared by the weight and next-token caches.

    Parameters
    ----------
    key : str or None
        The node's cache key (hex); anything else is absent.
    load : callable () -> profile or None
        Reads and verifies the entry.
    rebuild : callable () -> profile, or None
        Recomputes the profile (writing the entry); None when the model is not on this machine.
    rebuilt_key : callable (profile) -> str
    """
    if not key or not all(c in "0123456789abcdef" for c in key):
        return None
    prof = load()
    if prof is None and rebuild is not None:
        try:
            rebuilt = rebuild()
        except LineageError:
            return None
        if rebuilt_key(rebuilt) != key:
            return None  # the model changed since the node was made: not this node's profile
        prof = load()
    return prof
