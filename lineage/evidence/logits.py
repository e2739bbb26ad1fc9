"""The next-token channel's adapter: teacher-forced top-k distributions of a model on the
shipped text, cached (see :mod:`lineage.core.channels.logits`).

Local models (:func:`logits_profile`): Hugging Face folders with safetensors weights, LoRA
adapter folders (merged into their base) and GGUF files (dequantised), run on CPU in float32
(the distributions, not speed, matter here: about 1,300 tokens, seconds for a 135M model).
Never runs remote code and never unpickles. Cached by the weights' content; cache entries are sealed (:mod:`lineage.evidence._npz`), and
one that is not this cache's own for its key is recomputed, never read.

Endpoints (:func:`endpoint_logits_profile`): an OpenAI-compatible server that answers legacy
``/completions`` with ``echo`` and ``logprobs`` (as vLLM's OpenAI-compatible server does) gives, for
every token of each paragraph, its top-k next tokens as *strings* with their log-probabilities
and the character the token starts at; the position that predicts token ``i`` reads the
paragraph up to ``text_offset[i]``, which is what a local profile's ``char_end`` is. The
generated token after the paragraph is ignored, and at most :data:`MAX_TOKENS` tokens are read
per paragraph, as locally. ``k`` is :data:`TOP_K`, or 5 where the server allows no more (OpenAI).
Cached by the endpoint's identity (URL and served model name) and the text, never by the API
key; a server that swaps the model behind the same name keeps its old profile until the cache
is cleared, as the DNA's response cache does.

Token ids. A local profile holds its tokenizer's ids; an endpoint gives only strings. The
core compares top-k distributions by id (Jensen-Shannon mode) whenever two profiles' tokenizer
keys are equal, so ids from two id spaces must never meet there. An endpoint profile's key is
``"endpoint:"`` plus the hash of its token-*string* stream, which cannot equal a local key (16
hex digits), and its ids are a 63-bit hash of each token's string: two endpoints serving the
same tokenizer have the same key and comparable ids (Jensen-Shannon mode between them), and an
endpoint against a local model, even the same one, is compared in the top-1 text mode, aligned
by character boundaries. Where a server returns fewer than ``k`` distinct strings (byte pieces
decode alike), the row is padded with id ``-1`` and log-probability ``-inf`` (probability 0).
A top-1 string that is not text (a byte fragment decoded as U+FFFD or spelled ``bytes:...`` as
OpenAI does, or a control character other than a newline) is kept as ``""``, unknown: a local
profile spells such a token in its tokenizer's byte alphabet (``Ą`` for byte 4), and the two
spellings cannot be matched, so the top-1 text mode skips the position.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from lineage.core.channels.logits import LogitsProfile, top1_correct
from lineage.errors import ModelLoadError
from lineage.evidence._npz import read_npz, verified_or_rebuilt, write_npz
from lineage.seal import Seal

__all__ = ["logits_profile", "endpoint_logits_profile", "cached_logits", "LOGITS_FORMAT", "TOP_K",
           "ENDPOINT_TOKENIZER"]

TOP_K = 16
MAX_TOKENS = 96
LOGITS_FORMAT = f"lineage-logits/1:k{TOP_K}:t{MAX_TOKENS}"
ENDPOINT_TOKENIZER = "endpoint:"  # prefix of an endpoint profile's tokenizer key (its ids are string hashes)


@lru_cache(maxsize=1)
def _text() -> tuple[str, ...]:
    """The shipped text's paragraphs (read once per process: every cached profile is checked against it)."""
    raw = resources.files("lineage").joinpath("data/logits_text.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in raw.splitlines() if line.strip())


def _key_hash():
    """A hash seeded with what every profile's key depends on: the format and the text."""
    h = hashlib.sha256(LOGITS_FORMAT.encode())
    h.update(hashlib.sha256("\n".join(_text()).encode()).digest())
    return h


def _key(path: Path, adapter=None) -> str:
    """Format, text, and the content of what the model is made of: a GGUF file, or the
    weights and small files of a folder (an adapter's and its base's)."""
    from lineage.loaders.base import file_fingerprint

    h = _key_hash()
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


def _save(path: Path, prof: LogitsProfile, seal: Seal) -> None:
    meta = {"format": LOGITS_FORMAT, "tokenizer": prof.tokenizer, "top1_text": prof.top1_text}
    wide = prof.tokenizer.startswith(ENDPOINT_TOKENIZER)  # string-hash ids need 64 bits
    write_npz(path, "next-token profile", meta, seal=seal, ids=prof.topk_ids.astype(np.int64 if wide else np.int32),
              logp=prof.topk_logp.astype(np.float32), segment=prof.segment.astype(np.int32),
              char_end=prof.char_end.astype(np.int32))


def _from_cache(cache_dir, key: str) -> tuple[Path | None, LogitsProfile | None]:
    """(where the profile under ``key`` is cached, the profile when it is there and readable)."""
    cache_path = _cache_path(cache_dir, key) if cache_dir else None
    if cache_path is not None and cache_path.is_file():
        prof = _load(cache_path, Seal(cache_dir))
        if prof is not None:
            prof.key = key
            return cache_path, prof
    return cache_path, None


def _load(path: Path, seal: Seal) -> LogitsProfile | None:
    got = read_npz(path, LOGITS_FORMAT, seal=seal)
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
    cache_path, prof = _from_cache(cache_dir, key)
    if prof is not None:
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
        _save(cache_path, prof, Seal(cache_dir))
    return prof


def _endpoint_key(source) -> str:
    """Format, text, and the endpoint's identity (URL and served model name; never the API key)."""
    h = _key_hash()
    h.update(f"endpoint:{source.identity()}|{source.endpoint_model}".encode())
    return h.hexdigest()[:32]


def _string_id(token: str) -> int:
    """A token string's id in the endpoint id space: 63 bits of its hash (never negative)."""
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big") >> 1


def _top_row(top, k: int) -> list[tuple[float, str]]:
    """The ``k`` most likely ``(logprob, token)`` of one ``top_logprobs`` entry (ties by text)."""
    if not isinstance(top, dict):
        return []
    row = [(float(v), str(t)) for t, v in top.items() if isinstance(v, (int, float)) and v == v and v != float("inf")]
    return sorted(row, key=lambda x: (-x[0], x[1]))[:k]


def _top1_text(token: str) -> str:
    """``token`` when it is text to compare, else ``""`` (see the module docstring)."""
    if token.startswith("bytes:") or any(ch == "\ufffd" or (ch < " " and ch != "\n") or ch == "\x7f" for ch in token):
        return ""
    return token


def _endpoint_profile(k: int, answers: list[dict], paragraphs: list[str], model_id: str) -> LogitsProfile:
    """A profile from each paragraph's echoed ``choices[0].logprobs`` (see the module docstring)."""
    ids_all, logp_all, seg_all, end_all, top1, stream = [], [], [], [], [], []
    for s, (para, lp) in enumerate(zip(paragraphs, answers)):
        tokens, tops, offsets = lp["tokens"], lp["top_logprobs"], lp["text_offset"]
        # token i is predicted from the paragraph's first offsets[i] characters; offset 0 (a BOS the
        # server adds, or the first token) has no prefix, and offsets past the paragraph are generated
        pos = [i for i in range(1, len(offsets)) if 0 < offsets[i] < len(para)][:MAX_TOKENS - 1]
        if not pos:
            continue
        stream.extend([str(t) for t in tokens[:pos[-1] + 1]] + [None])
        for i in pos:
            row = _top_row(tops[i], k)
            if not row:
                continue
            pad = k - len(row)
            ids_all.append([_string_id(t) for _, t in row] + [-1] * pad)
            logp_all.append([v for v, _ in row] + [-np.inf] * pad)
            seg_all.append(s)
            end_all.append(offsets[i])
            top1.append(_top1_text(row[0][1]))
    if not ids_all:
        from lineage.loaders.endpoint import LogprobsUnavailable

        raise LogprobsUnavailable(f"model {model_id!r}: the endpoint returned no top logprobs for the text")
    prof = LogitsProfile(tokenizer=ENDPOINT_TOKENIZER + hashlib.sha256(json.dumps(stream).encode()).hexdigest()[:16],
                         topk_ids=np.asarray(ids_all, dtype=np.int64), topk_logp=np.asarray(logp_all, dtype=np.float32),
                         segment=np.asarray(seg_all, dtype=np.int64), char_end=np.asarray(end_all, dtype=np.int64),
                         top1_text=top1)
    prof.top1_correct = top1_correct(prof.top1_text, prof.segment, prof.char_end, paragraphs)
    return prof


def endpoint_logits_profile(source, *, cache_dir: str | Path | None = None) -> LogitsProfile:
    """The next-token profile of a model behind an OpenAI-compatible endpoint (cached when
    ``cache_dir`` is given; a cached profile sends no request).

    Parameters
    ----------
    source : lineage.loaders.endpoint.EndpointSource

    Raises
    ------
    lineage.loaders.endpoint.LogprobsUnavailable
        The server does not return the prompt's log-probabilities (the channel is absent).
    GenerationError
        The server is down or refuses the API key.
    """
    key = _endpoint_key(source)
    cache_path, prof = _from_cache(cache_dir, key)
    if prof is not None:
        return prof
    paragraphs = _text()
    try:
        k, answers = source.echo_logprobs(paragraphs, TOP_K)
    finally:
        source.close()
    prof = _endpoint_profile(k, answers, paragraphs, source.model_id)
    prof.key = key
    if cache_path is not None:
        _save(cache_path, prof, Seal(cache_dir))
    return prof


def _cache_path(cache_dir: str | Path, key: str) -> Path:
    return Path(cache_dir) / "evidence" / "logits" / f"{key}.npz"


def cached_logits(cache_dir: str | Path, key: str | None, path: str | Path | None = None) -> LogitsProfile | None:
    """The profile stored under ``key`` (a node's ``logits_key``), or None when not cached here.

    As :func:`lineage.evidence.weights.cached_profile`: an entry missing or not trusted is
    recomputed from ``path`` (the node's local model, when still on this machine) and used only
    when its key is still ``key``. Endpoint profiles have no path and are then absent.
    """
    here = path is not None and Path(path).exists()
    prof = verified_or_rebuilt(
        key, lambda: _load(_cache_path(cache_dir, key), Seal(cache_dir)),
        (lambda: logits_profile(path, cache_dir=cache_dir)) if here else None, lambda p: p.key)
    if prof is not None:
        prof.key = key
    return prof
