"""GGUF files through transformers' GGUF loader (dequantized to the chosen dtype)."""

from __future__ import annotations

from pathlib import Path

from lineage.errors import ModelLoadError

from .base import file_fingerprint
from .hf import HFSource

__all__ = ["GGUFSource"]


class GGUFSource(HFSource):
    """A single ``.gguf`` file; its tokenizer and chat template come from the file."""

    kind = "gguf"

    def __init__(self, model_id: str, *, path: Path, **kw):
        path = Path(path).expanduser()
        if not path.is_file():
            raise ModelLoadError(f"model {model_id!r}: GGUF file {path} does not exist")
        with open(path, "rb") as f:
            if f.read(4) != b"GGUF":
                raise ModelLoadError(f"model {model_id!r}: {path.name} is not a GGUF file (bad magic)",
                                     hint="re-download the file")
        kw.pop("allow_pickle", None)
        super().__init__(model_id, hub_id=None, gguf_file=path.name, **kw)
        self.gguf_path = path

    def identity(self) -> str:
        return f"gguf:{file_fingerprint(self.gguf_path)}"

    def _from_pretrained_args(self) -> tuple[str, dict]:
        return str(self.gguf_path.parent), {"gguf_file": self.gguf_path.name,
                                             "trust_remote_code": self.trust_remote_code}

    def load(self) -> None:
        self._use_safetensors = None  # GGUF is not pickle; do not ask for safetensors
        super().load()
