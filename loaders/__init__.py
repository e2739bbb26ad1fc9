"""Model-source adapters (installed as ``lineage.loaders``).

One module per source kind, all implementing :class:`~lineage.loaders.base.ModelSource`:
``hf`` (local folder or hub id), ``gguf``, ``endpoint`` (OpenAI-compatible HTTP),
``precomputed`` (DNA files). :func:`open_source` picks one for a manifest entry.
Heavy libraries (torch, transformers, httpx) load only when a model loads.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["open_source", "load_local"]


def open_source(entry, *, device: str = "auto", dtype: str = "auto", batch_size: str | int = "auto",
                threads: str | int = "auto"):
    """A :class:`ModelSource` for a ``ManifestEntry`` (its ``path``, ``hub_id`` or ``endpoint``)."""
    from lineage.errors import ModelLoadError

    kind = entry.source_kind
    if kind == "endpoint":
        from .endpoint import EndpointSource

        from lineage.dna.devices import resolve_device, resolve_dtype

        # the server's dtype is not observable: record the configured one so endpoint DNAs compare with local ones
        return EndpointSource(entry.id, endpoint=entry.endpoint, endpoint_model=entry.endpoint_model,
                              api_key_env=entry.api_key_env, dtype=resolve_dtype(dtype, resolve_device(device)))
    common = dict(device=device, dtype=dtype, batch_size=batch_size, trust_remote_code=entry.trust_remote_code,
                  threads=threads)
    if kind == "gguf":
        from .gguf import GGUFSource

        return GGUFSource(entry.id, path=Path(entry.path), **common)
    from .hf import HFSource

    if kind == "hub":
        return HFSource(entry.id, hub_id=entry.hub_id, allow_pickle=entry.allow_pickle, **common)
    if kind == "folder":
        return HFSource(entry.id, path=Path(entry.path), allow_pickle=entry.allow_pickle, **common)
    raise ModelLoadError(f"model {entry.id!r}: a precomputed DNA entry has no model to run")


def load_local(path: str | Path, model_id: str, *, dtype: str = "float32"):
    """``(model, tokenizer)`` of a local Hugging Face folder, LoRA adapter folder (merged into
    its base) or GGUF file (dequantised), on CPU, loaded exactly as the DNA's sources load
    them. For the evidence channels, which read a model outside any generation run."""
    from .gguf import GGUFSource
    from .hf import HFSource

    p = Path(path)
    gguf = p.is_file() and p.suffix.lower() == ".gguf"
    src = (GGUFSource if gguf else HFSource)(model_id, path=p, device="cpu", dtype=dtype)
    src.load()
    return src.model, src.tokenizer
