"""On-disk cache of model answers, so a rerun or a crash never regenerates them.

Key: ``sha256(model identity, probe-set hash, generation config, dtype)``. One
JSON file per key under ``<cache_dir>/responses/``, holding one slot per probe
(``null`` = not generated yet). It is rewritten atomically (temporary file +
rename) after every batch, so a killed run resumes where it stopped. Encoders
are not part of the key: re-encoding with another encoder needs no generation.
No API key or secret is ever written here.

Each file carries ``sha256``, the hash of its answers: a file whose answers were altered
(edited by hand, damaged on disk) or not ours is not trusted; its answers are regenerated
and the file rewritten, with a warning naming it. The checksum catches damage and edits,
not a deliberate forger (who can recompute it). Files of the first format (no checksum)
are still read, so upgrading never throws away generated answers.
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

__all__ = ["ResponseCache", "response_key"]

CACHE_FORMAT = "lineage-responses/2"  # /2 added the answers' sha256
LEGACY_FORMAT = "lineage-responses/1"

log = logging.getLogger("lineage")


def answers_digest(answers: Sequence[str | None]) -> str:
    """sha256 of the answer slots (order and gaps included)."""
    return hashlib.sha256(json.dumps(list(answers), ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


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
            if data.get("format") not in (CACHE_FORMAT, LEGACY_FORMAT) or len(answers) != n_probes:
                raise ValueError("shape")
            if any(a is not None and not isinstance(a, str) for a in answers):
                raise ValueError("not text")
            if data.get("format") == LEGACY_FORMAT:
                # written before answers carried a checksum: kept (hours of generation on large models),
                # and given their checksum the next time the slots are saved
                return list(answers)
            if data.get("sha256") != answers_digest(answers):
                log.warning("warning: cached answers in %s do not match their checksum (altered or damaged); "
                            "they are regenerated", p)
                return [None] * n_probes
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            # a foreign or damaged file is not trusted; it is regenerated and overwritten
            return [None] * n_probes
        return list(answers)

    def save(self, key: str, answers: Sequence[str | None], meta: dict) -> None:
        """Atomically write the current slots (complete or partial)."""
        payload = {**meta, "format": CACHE_FORMAT, "n_done": sum(a is not None for a in answers),
                   "sha256": answers_digest(answers), "answers": list(answers)}
        try:
            atomic_write_text(self.path(key), json.dumps(payload, ensure_ascii=False))
        except CacheError:
            raise
        except OSError as e:  # pragma: no cover - atomic_write_text maps OSError already
            raise CacheError(f"cannot write response cache {self.path(key)}: {e}") from None
