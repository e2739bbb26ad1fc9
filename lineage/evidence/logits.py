"""The next-token channel's adapter: teacher-forced top-k distributions of a local model on the
shipped text, cached by the weights' content (see :mod:`lineage.core.logits`).

Runs Hugging Face folders with safetensors weights, LoRA adapter folders (merged into their base)
and GGUF files (dequantised) on CPU in float32 (the distributions,
not speed, matter here: about 1,300 tokens, seconds for a 135M model). Never runs remote
code and never unpickles. Endpoints that return logprobs are not read yet.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import numpy as np

from lineage.core.logits import LogitsProfile, top1_correct
from lineage.errors import ModelLoadError
from lineage.evidence._npz import read_npz, write_npz

__all__ = ["logits_profile", "cached_logits", "LOGITS_FORMAT", "TOP_K"]

TOP_K = 16
MAX_TOKENS = 96
LOGITS_FORMAT = f"lineage-logits/1:k{TOP_K}:t{MAX_TOKENS}"


def _text() -> list[str]:
    raw = resources.files("lineage").joinpath("data/logits_text.txt").read_text(encoding="utf-8")
    return [line.strip() for line in raw.splitlines() if line.strip()]


def _key(path: Path, adapter=None) -> str:
    """Format, text, and the content of what the model is made of: a GGUF file, or the
    weights and small files of a folder (an adapter's and its base's)."""
    from lineage.loaders.base import file_fingerprint

    h = hashlib.sha256(LOGITS_FORMAT.encode())
    h.update(hashlib.sha256("\n".join(_text()).encode()).digest())
    if path.is_file():  # a GGUF file holds everything
        h.update(f"gguf:{file_fingerprint(path)}".encode())
        return h.hexdigest()[:32]
    for d in ([path] if adapter is None else [adapter.base, adapter.folder]):
        for f in sorted(d.glob("*.safetensors")):
            h.update(f"{f.name}:{file_fingerprint(f)};".encode())
        for name in ("config.json", "adapter_config.json", "tokenizer.json", "tokenizer_config.json"):
            if (d / name).is_file():
                h.update((d / name).read_bytes())
    return h.hexdigest()[:32]


def _save(path: Path, prof: LogitsProfile) -> None:
    meta = {"format": LOGITS_FORMAT, "tokenizer": prof.tokenizer, "top1_text": prof.top1_text}
    write_npz(path, "next-token profile", meta, ids=prof.topk_ids.astype(np.int32),
              logp=prof.topk_logp.astype(np.float32), segment=prof.segment.astype(np.int32),
              char_end=prof.char_end.astype(np.int32))


def _load(path: Path) -> LogitsProfile | None:
    got = read_npz(path, LOGITS_FORMAT)
    if got is None:
        return None
    meta, z = got
    prof = LogitsProfile(tokenizer=meta["tokenizer"], topk_ids=z["ids"], topk_logp=z["logp"], segment=z["segment"],
                         char_end=z["char_end"], top1_text=meta["top1_text"])
    prof.top1_correct = top1_correct(prof.top1_text, prof.segment, prof.char_end, _text())
    return prof


def logits_profile(path: str | Path, *, cache_dir: str | Path | None = None, model_id: str | None = None) -> LogitsProfile:
    """The model's next-token profile on the shipped text (cached when ``cache_dir`` is given)."""
    from lineage.loaders import load_local
    from lineage.loaders.adapter import is_adapter, read_adapter

    folder = Path(path)
    name = model_id or folder.name
    gguf = folder.is_file() and folder.suffix.lower() == ".gguf"
    adapter = read_adapter(folder, name) if is_adapter(folder) else None
    weights_folder = adapter.base if adapter else folder
    if not gguf and not any(weights_folder.glob("*.safetensors")):
        raise ModelLoadError(f"model {name!r}: no .safetensors weights in {weights_folder}",
                             hint="the logits channel runs safetensors folders, LoRA adapter folders and GGUF files")
    key = _key(folder, adapter)
    cache_path = _cache_path(cache_dir, key) if cache_dir else None
    if cache_path is not None and cache_path.is_file():
        prof = _load(cache_path)
        if prof is not None:
            prof.key = key
            return prof
    import torch

    model, tok = load_local(folder, name)
    ids_all, logp_all, seg_all, end_all, top1, stream = [], [], [], [], [], []
    with torch.no_grad():
        for s, para in enumerate(_text()):
            enc = tok(para, add_special_tokens=False, return_offsets_mapping=True)
            ids = enc["input_ids"][:MAX_TOKENS]
            offs = enc["offset_mapping"][: len(ids)]
            if len(ids) < 2:
                continue
            stream.extend(ids + [-1])
            logits = model(torch.tensor([ids])).logits[0, :-1].float()
            logp = torch.log_softmax(logits, dim=-1)
            top = torch.topk(logp, TOP_K, dim=-1)
            ids_all.append(top.indices.numpy())
            logp_all.append(top.values.numpy())
            seg_all.append(np.full(len(ids) - 1, s))
            end_all.append(np.array([offs[i][1] for i in range(len(ids) - 1)]))
            top1.extend(tok.convert_ids_to_tokens(top.indices[:, 0].tolist()))
    del model
    prof = LogitsProfile(tokenizer=hashlib.sha256(json.dumps(stream).encode()).hexdigest()[:16],
                         topk_ids=np.concatenate(ids_all), topk_logp=np.concatenate(logp_all),
                         segment=np.concatenate(seg_all), char_end=np.concatenate(end_all),
                         top1_text=[t or "" for t in top1])
    prof.top1_correct = top1_correct(prof.top1_text, prof.segment, prof.char_end, _text())
    prof.key = key
    if cache_path is not None:
        _save(cache_path, prof)
    return prof


def _cache_path(cache_dir: str | Path, key: str) -> Path:
    return Path(cache_dir) / "evidence" / "logits" / f"{key}.npz"


def cached_logits(cache_dir: str | Path, key: str | None) -> LogitsProfile | None:
    """The profile stored under ``key`` (a node's ``logits_key``), or None when not cached here."""
    if not key or not all(c in "0123456789abcdef" for c in key):
        return None
    path = _cache_path(cache_dir, key)
    return _load(path) if path.is_file() else None
