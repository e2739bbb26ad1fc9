"""On-disk cache of model answers, so a rerun or a crash never regenerates them.

Key: ``sha256(model identity, probe-set hash, generation config, dtype)``. One
JSON file per key under ``<cache_dir>/responses/``, holding one slot per probe
(``null`` = not generated yet). It is rewritten atomically (temporary file +
rename) after every batch, so a killed run resumes where it stopped. Encoders
are not part of the key: re-encoding with another encoder needs no generation.
No API key or secret is ever written here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

from lineage.dna.record import GenerationConfig
from lineage.dna.files import atomic_write_text
from lineage.errors import CacheError

__all__ = ["ResponseCache", "response_key"]

CACHE_FORMAT = "lineage-responses/1"


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

    def path(self, key: str) -> Path:
        return self.root / "responses" / f"{key}.json"

    def load(self, key: str, n_probes: int) -> list[str | None]:
        """Slots for ``key``: a list of length ``n_probes`` (``None`` where not generated)."""
        p = self.path(key)
        if not p.is_file():
            return [None] * n_probes
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            answers = data["answers"]
            if data.get("format") != CACHE_FORMAT or len(answers) != n_probes:
                raise ValueError("shape")
        except (OSError, ValueError, KeyError, TypeError):
            # a foreign or damaged file is not trusted; it is regenerated and overwritten
            return [None] * n_probes
        return [a if isinstance(a, str) else None for a in answers]

    def save(self, key: str, answers: Sequence[str | None], meta: dict) -> None:
        """Atomically write the current slots (complete or partial)."""
        payload = {"format": CACHE_FORMAT, **meta, "n_done": sum(a is not None for a in answers),
                   "answers": list(answers)}
        try:
            atomic_write_text(self.path(key), json.dumps(payload, ensure_ascii=False))
        except CacheError:
            raise
        except OSError as e:  # pragma: no cover - atomic_write_text maps OSError already
            raise CacheError(f"cannot write response cache {self.path(key)}: {e}") from None
