"""The protocol every model-source adapter implements, and shared helpers.

A source answers probes. It must give its cache identity *without* loading the
model (so a cache hit never loads it), load lazily, and report each finished
batch through a callback so the caller can persist progress.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence, runtime_checkable

from lineage.dna.record import GenerationConfig
from lineage.errors import ModelLoadError

__all__ = ["ModelSource", "BatchCallback", "GenerationStats", "file_fingerprint", "check_safetensors"]

# on_batch(probe indices, answers, generated token counts)
BatchCallback = Callable[[Sequence[int], Sequence[str], Sequence[int]], None]


@dataclass
class GenerationStats:
    n_tokens: int = 0
    seconds: float = 0.0
    batch_size: int | None = None


@runtime_checkable
class ModelSource(Protocol):
    model_id: str
    kind: str

    def identity(self) -> str:
        """Stable identity of the weights/endpoint for the response cache; never loads the model."""

    def resolved_dtype(self) -> str:
        """The dtype answers are generated in (``float32``, ``bfloat16``, ... or ``endpoint``)."""

    def load(self) -> None:
        """Load weights/tokenizer (idempotent); raise ModelLoadError with a one-line message."""

    def generate(self, prompts: Sequence[str], indices: Sequence[int], gen: GenerationConfig,
                 on_batch: BatchCallback) -> GenerationStats:
        """Answer ``prompts`` (whose probe slots are ``indices``), calling ``on_batch`` per batch."""

    def close(self) -> None:
        """Free the model."""


_FULL_HASH_LIMIT = 1 << 30  # 1 GiB: hash everything below, sample above
_CHUNK = 1 << 20
_memo: dict[tuple[str, int, int], str] = {}
_sha_memo: dict[tuple[str, int, int], str] = {}


def file_fingerprint(path: Path) -> str:
    """Content fingerprint of a weight file.

    Files up to 1 GiB are hashed completely (sha256, ~1 s/GB). Larger files hash
    their size, mtime and 18 sampled 1 MiB chunks (first, last, 16 evenly spaced):
    fast, and a copy (new mtime) only costs a regeneration, never a wrong cache hit
    from an edit of equal size unless it also preserves mtime and misses every chunk.
    """
    st = path.stat()
    memo_key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if memo_key in _memo:
        return _memo[memo_key]
    h = hashlib.sha256(f"{st.st_size};".encode())
    with open(path, "rb") as f:
        if st.st_size <= _FULL_HASH_LIMIT:
            plain = hashlib.sha256()  # the same read gives file_sha256's answer
            while chunk := f.read(8 * _CHUNK):
                h.update(chunk)
                plain.update(chunk)
            _sha_memo[memo_key] = plain.hexdigest()
        else:
            h.update(f"mtime={st.st_mtime_ns};".encode())
            for k in range(18):
                f.seek(min(st.st_size - _CHUNK, k * (st.st_size - _CHUNK) // 17))
                h.update(f.read(_CHUNK))
    out = h.hexdigest()
    _memo[memo_key] = out
    return out


def file_sha256(path: Path) -> str:
    """Plain SHA-256 of a whole file (what a bill of materials calls the file's hash; unlike
    :func:`file_fingerprint` it reads every byte of large files too). Files up to 1 GiB that
    were fingerprinted are not read again."""
    st = path.stat()
    memo_key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if memo_key not in _sha_memo:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(8 * _CHUNK):
                h.update(chunk)
        _sha_memo[memo_key] = h.hexdigest()
    return _sha_memo[memo_key]


def check_safetensors(path: Path, model_id: str) -> None:
    """Refuse a truncated or corrupt .safetensors file before anything loads it."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            if n <= 0 or n > size - 8 or n > 100_000_000:
                raise ValueError("bad header length")
            header = json.loads(f.read(n))
        end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    except (struct.error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ModelLoadError(f"model {model_id!r}: {path.name} is not a valid safetensors file (corrupt header)",
                             hint="re-download or re-save the weights") from None
    if 8 + n + end != size:
        raise ModelLoadError(
            f"model {model_id!r}: {path.name} is truncated or corrupt ({size} bytes, header expects {8 + n + end})",
            hint="re-download or re-save the weights") from None


def hash_small_files(folder: Path, names: Sequence[str]) -> str:
    h = hashlib.sha256()
    for name in names:
        p = folder / name
        if p.is_file():
            h.update(name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def env_secret(var: str | None) -> str | None:
    """Read an API key from the environment variable the manifest names (never stored anywhere)."""
    return os.environ.get(var) if var else None
