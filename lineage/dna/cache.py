"""On-disk cache of model answers, so a rerun or a crash never regenerates them.

Key: ``sha256(model identity, probe-set hash, generation config, dtype)``. One
JSON file per key under ``<cache_dir>/responses/``, holding one slot per probe
(``null`` = not generated yet). It is rewritten atomically (temporary file +
rename) after every batch, so a killed run resumes where it stopped. Encoders
are not part of the key: re-encoding with another encoder needs no generation.
No API key or secret is ever written here.

Each file carries ``seal``, an HMAC of its path below the cache root and of everything else
in it, under the cache's secret key (:mod:`lineage.seal`, which states the threat model). A
file whose seal does not verify (answers edited, the seal stripped or recomputed without the
key, an entry copied from another key, a file of an older format, damage on disk) is not
trusted: its answers are regenerated and the file rewritten, with a warning naming it. The
answers decide a DNA, so a cache file must never be an input: formats /1 (no checksum) and
/2 (a plain sha256 anyone can recompute) are regenerated too, once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Sequence

from lineage.dna.record import GenerationConfig
from lineage.io import atomic_write_text
from lineage.errors import CacheError
from lineage.seal import Seal

__all__ = ["ResponseCache", "response_key"]

CACHE_FORMAT = "lineage-responses/3"  # /2 added the answers' sha256, /3 replaced it by a keyed seal

log = logging.getLogger("lineage")


def _sealed_bytes(payload: dict) -> bytes:
    """The canonical bytes a seal covers: every field but the seal, keys sorted."""
    body = {k: v for k, v in payload.items() if k != "seal"}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8", "surrogatepass")


def response_key(model_identity: str, probe_hash: str, generation: GenerationConfig, dtype: str) -> str:
    """32 hex digits naming one (model, probes, generation settings, dtype) cell."""
    blob = json.dumps({"model": model_identity, "probes": probe_hash,
                       "generation": generation.model_dump(mode="json"), "dtype": dtype},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class ResponseCache:
    """Answers per probe slot, persisted after each batch.

    Parameters
    ----------
    root : path
        Cache directory (``Settings.cache_dir``); files go in ``root/responses``.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.seal = Seal(self.root)

    def path(self, key: str) -> Path:
        return self.root / "responses" / f"{key}.json"

    def load(self, key: str, n_probes: int) -> list[str | None]:
        """Slots for ``key``: a list of length ``n_probes`` (``None`` where not generated)."""
        p = self.path(key)
        if not p.is_file():
            return [None] * n_probes
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a cache entry")
            answers = data.get("answers")
            if data.get("format") != CACHE_FORMAT or "seal" not in data:
                why = f"of an older or unknown format ({str(data.get('format'))[:40]!r}), or unsealed"
            elif not self.seal.verify(p, data["seal"], _sealed_bytes(data)):
                why = "altered, copied from another entry, or sealed with another key"
            elif not isinstance(answers, list) or len(answers) != n_probes or \
                    any(a is not None and not isinstance(a, str) for a in answers):
                why = f"sealed for another probe set ({n_probes} answers expected)"
            else:
                return list(answers)
        except (OSError, ValueError, TypeError, RecursionError):
            why = "unreadable (damaged or not a cache entry)"
        log.warning("warning: cached answers in %s are not trusted (%s); they are regenerated", p, why)
        return [None] * n_probes

    def save(self, key: str, answers: Sequence[str | None], meta: dict) -> None:
        """Atomically write the current slots (complete or partial)."""
        payload = {**meta, "format": CACHE_FORMAT, "n_done": sum(a is not None for a in answers),
                   "answers": list(answers)}
        payload["seal"] = self.seal.sign(self.path(key), _sealed_bytes(payload))
        try:
            atomic_write_text(self.path(key), json.dumps(payload, ensure_ascii=False))
        except CacheError:
            raise
        except OSError as e:  # pragma: no cover - atomic_write_text maps OSError already
            raise CacheError(f"cannot write response cache {self.path(key)}: {e}") from None
