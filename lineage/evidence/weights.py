"""The weights channel's adapter: stream a model's matrices from disk into a
:class:`~lineage.core.channels.weights.WeightProfile`, and cache profiles by content.

Reads Hugging Face folders (``*.safetensors``), one tensor at a time, so memory stays
at one matrix. GGUF files and pickle checkpoints are not read (the channel is then
absent for that model): GGUF stores llama's query/key rows permuted and most tensors
quantised, which needs a name and layout map not written yet.

Cache: ``<cache_dir>/evidence/weights/<key>.npz`` where the key hashes the profile
format and the content fingerprints of the weight files, ``config.json`` and the
tokenizer's vocabulary; written atomically and sealed (:mod:`lineage.evidence._npz`): an
entry that is not this cache's own for this key is rebuilt from the weights, never read.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from lineage.core.channels.weights import (PROBE_STRINGS, SKETCH_RANK, SKETCH_ROWS, UNIT_LAYERS, WeightProfile,
                                           profile_from_matrices)
from lineage.errors import ModelLoadError
from lineage.evidence._npz import read_npz, verified_or_rebuilt, write_npz
from lineage.seal import Seal

__all__ = ["weight_profile", "weights_available", "cached_profile", "profile_summary", "exact_distance",
           "exact_refiner", "PROFILE_FORMAT"]

# 3: unit signatures for the matched (permutation-invariant) test; older entries are rebuilt, never misread
PROFILE_FORMAT = f"lineage-weights/3:{SKETCH_ROWS}x{SKETCH_RANK}:units{UNIT_LAYERS}x{len(PROBE_STRINGS)}:f16"


def weights_available(path: str | Path | None) -> bool:
    """True when ``path`` is a folder with safetensors weights, or a LoRA adapter folder (the
    channel applies)."""
    from lineage.loaders.adapter import is_adapter

    if path is not None and _is_gguf(Path(path)):
        return True
    return path is not None and Path(path).is_dir() and (is_adapter(path) or any(Path(path).glob("*.safetensors")))


def weights_sha256(path: str | Path) -> str | None:
    """SHA-256 of the model's weights when they are one file: a GGUF file, a folder with a
    single ``.safetensors`` file, or an adapter folder's ``adapter_model.safetensors`` (the
    adapter's own artefact). None for sharded folders: one hash would not name them."""
    from lineage.loaders.adapter import ADAPTER_WEIGHTS, is_adapter
    from lineage.loaders.base import file_sha256

    p = Path(path)
    if _is_gguf(p):
        return file_sha256(p)
    if is_adapter(p):
        return file_sha256(p / ADAPTER_WEIGHTS) if (p / ADAPTER_WEIGHTS).is_file() else None
    files = sorted(p.glob("*.safetensors")) if p.is_dir() else []
    return file_sha256(files[0]) if len(files) == 1 else None


def _is_gguf(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".gguf"


def _vocab_hash_of(tokenizer) -> str | None:
    """:func:`_vocab_hash` for a loaded fast tokenizer (a GGUF file's embedded one)."""
    try:
        return _hash_vocab(tokenizer.backend_tokenizer.to_str())
    except AttributeError:
        return None


def _hash_vocab(tokenizer_json: str) -> str | None:
    """Hash of a ``tokenizer.json`` text's vocabulary (tokens in id order), None when it has none."""
    try:
        vocab = json.loads(tokenizer_json).get("model", {}).get("vocab")
    except (ValueError, AttributeError):
        return None
    if not isinstance(vocab, dict):
        return None
    blob = json.dumps(sorted(vocab.items(), key=lambda kv: kv[1]), ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _probe_ids_json(tokenizer_json: str) -> dict[str, int] | None:
    """Token string -> id for the probe strings of the matched test, from a ``tokenizer.json``
    text (its model vocabulary), or None when it has none."""
    try:
        vocab = json.loads(tokenizer_json).get("model", {}).get("vocab")
    except (ValueError, AttributeError):
        return None
    if isinstance(vocab, list):  # unigram models list [piece, score] in id order
        vocab = {v[0]: i for i, v in enumerate(vocab) if isinstance(v, list) and v}
    if not isinstance(vocab, dict):
        return None
    return {s: int(vocab[s]) for s in PROBE_STRINGS if isinstance(vocab.get(s), int)}


def _probe_ids(folder: Path) -> dict[str, int] | None:
    tj = folder / "tokenizer.json"
    if not tj.is_file():
        return None
    try:
        return _probe_ids_json(tj.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return None


def _config_signature(cfg: dict) -> dict:
    pick = lambda *names: next((cfg[n] for n in names if n in cfg), None)  # noqa: E731
    return {
        "architecture": cfg.get("model_type"),
        "hidden_size": pick("hidden_size", "n_embd", "d_model"),
        "n_layers": pick("num_hidden_layers", "n_layer", "num_layers"),
        "intermediate_size": pick("intermediate_size", "n_inner"),
        "vocab_size": pick("vocab_size"),
    }


def _gguf_profile(path: Path, name: str) -> WeightProfile:
    """A GGUF file's profile: dequantised by transformers' GGUF loader into the Hugging Face
    layout (so its matrices share roles with folders of the same architecture), then
    sketched. Holds the whole model in float32 memory, unlike folders, which stream."""
    from lineage.loaders import load_local

    model, tok = load_local(path, name)
    mats = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    signature = {**_config_signature(model.config.to_dict()), "tokenizer": _vocab_hash_of(tok)}
    n_params = sum(int(v.size) for k, v in mats.items() if k != "lm_head.weight" or not model.config.tie_word_embeddings)
    del model
    try:
        probes = _probe_ids_json(tok.backend_tokenizer.to_str())
    except AttributeError:
        probes = None
    return profile_from_matrices(mats, signature, n_params=n_params, skip=("lm_head.weight",), probe_ids=probes)


def _model_files(folder: Path, name: str):
    """(weight files, adapter or None, folder holding config.json): an adapter folder reads as its
    base's weights plus the adapter's deltas."""
    from lineage.loaders.adapter import is_adapter, read_adapter

    if is_adapter(folder):
        info = read_adapter(folder, name)
        return sorted(info.base.glob("*.safetensors")), info, info.base
    return sorted(folder.glob("*.safetensors")), None, folder


def _vocab_hash(folder: Path) -> str | None:
    tj = folder / "tokenizer.json"
    if not tj.is_file():
        return None
    try:
        return _hash_vocab(tj.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return None


def _signature(folder: Path) -> dict:
    try:
        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cfg = {}
    return {**_config_signature(cfg if isinstance(cfg, dict) else {}), "tokenizer": _vocab_hash(folder)}


def _key(folder: Path, files: list[Path], adapter=None) -> str:
    from lineage.loaders.base import file_fingerprint

    h = hashlib.sha256(PROFILE_FORMAT.encode())
    for f in files:
        h.update(f"{f.name}:{file_fingerprint(f)};".encode())
    if adapter is not None:
        h.update(f"adapter:{file_fingerprint(adapter.weights)}:{adapter.scale!r};".encode())
    cfg = folder / "config.json"
    if cfg.is_file():
        h.update(cfg.read_bytes())
    h.update(str(_vocab_hash(folder)).encode())
    return h.hexdigest()[:32]


class _LazyMatrices:
    """name -> float32 array, read from safetensors files one tensor at a time."""

    def __init__(self, files: list[Path]):
        from safetensors import safe_open

        self._open = [safe_open(str(f), framework="pt") for f in files]
        self._where = {}
        for h in self._open:
            for name in h.keys():
                self._where[name] = h

    def __iter__(self):
        return iter(sorted(self._where))

    def __getitem__(self, name: str) -> np.ndarray:
        t = self._where[name].get_tensor(name)
        return t.float().numpy() if t.dtype.is_floating_point else t.numpy()

    def __contains__(self, name: str) -> bool:
        return name in self._where

    def n_params(self) -> int:
        return sum(int(np.prod(h.get_slice(n).get_shape())) for n, h in self._where.items())


class _Merged(_LazyMatrices):
    """A base's matrices with a LoRA adapter's deltas added (:mod:`lineage.loaders.adapter`)."""

    def __init__(self, files: list[Path], deltas: dict[str, np.ndarray]):
        super().__init__(files)
        self._deltas = deltas

    def __getitem__(self, name: str) -> np.ndarray:
        w = super().__getitem__(name)
        d = self._deltas.get(name)
        return w + d if d is not None and d.shape == w.shape else w


def _matrices(files: list[Path], adapter, name: str) -> _LazyMatrices:
    if adapter is None:
        return _LazyMatrices(files)
    from lineage.loaders.adapter import lora_deltas

    return _Merged(files, lora_deltas(adapter, name))


def _save(path: Path, prof: WeightProfile, seconds: float, seal: Seal) -> None:
    keys = list(prof.sketches)
    unit_layers = sorted(prof.units)
    meta = {"format": PROFILE_FORMAT, "signature": prof.signature, "stats": prof.stats, "seconds": seconds,
            "keys": [[r, l] for r, l in keys], "norms2": [prof.norms2[k] for k in keys],
            "shapes": [list(prof.shapes[k]) for k in keys],
            "unit_layers": unit_layers, "unit_parts": list(prof.unit_parts), "unit_probes": list(prof.unit_probes)}
    units = (np.stack([prof.units[i] for i in unit_layers]).astype(np.float16) if unit_layers
             else np.zeros((0, 0, 0, 0), dtype=np.float16))
    write_npz(path, "weight profile", meta, seal=seal,
              sketches=np.stack([prof.sketches[k] for k in keys]).astype(np.float32), units=units)


def load_profile(path: Path, seal: Seal) -> WeightProfile | None:
    """A cached profile, or None when absent, of another format, unreadable or not sealed by
    ``seal`` for this path (then it is rebuilt)."""
    got = read_npz(path, PROFILE_FORMAT, seal=seal)
    if got is None:
        return None
    meta, arrays = got
    sk = arrays["sketches"].astype(np.float64)
    keys = [(r, l) for r, l in meta["keys"]]
    units = arrays["units"]
    return WeightProfile(signature=meta["signature"], sketches=dict(zip(keys, sk)),
                         norms2=dict(zip(keys, meta["norms2"])), shapes={k: tuple(s) for k, s in zip(keys, meta["shapes"])},
                         stats=meta["stats"], units={int(i): units[x] for x, i in enumerate(meta["unit_layers"])},
                         unit_parts=tuple(meta["unit_parts"]), unit_probes=tuple(meta["unit_probes"]))


def weight_profile(path: str | Path, *, cache_dir: str | Path | None = None, model_id: str | None = None) -> WeightProfile:
    """The weight profile of a Hugging Face folder, a LoRA adapter folder or a GGUF file
    (cached when ``cache_dir`` is given).

    Raises
    ------
    ModelLoadError
        When the folder has no safetensors weights or a file is corrupt.
    """
    from lineage.loaders.base import check_safetensors

    folder = Path(path)
    name = model_id or folder.name
    if _is_gguf(folder):
        from lineage.loaders.base import file_fingerprint

        files, adapter, config_folder = [], None, None
        key = hashlib.sha256(f"{PROFILE_FORMAT}|gguf:{file_fingerprint(folder)}".encode()).hexdigest()[:32]
    else:
        files, adapter, config_folder = _model_files(folder, name)
        if not files:
            raise ModelLoadError(f"model {name!r}: no .safetensors weights in {config_folder}",
                                 hint="the weights channel reads safetensors folders only")
        for f in files:
            check_safetensors(f, name)
        key = _key(config_folder, files, adapter)
    cache_path = _cache_path(cache_dir, key) if cache_dir else None
    seal = Seal(cache_dir) if cache_dir else None
    if cache_path is not None and cache_path.is_file():
        prof = load_profile(cache_path, seal)
        if prof is not None:
            return prof
    t0 = time.perf_counter()
    if _is_gguf(folder):
        prof = _gguf_profile(folder, name)
    else:
        mats = _matrices(files, adapter, name)
        signature = _signature(config_folder)
        probes = _probe_ids(config_folder)
        if adapter is not None:
            signature["tokenizer"] = _vocab_hash(adapter.tokenizer_folder)
            probes = _probe_ids(adapter.tokenizer_folder)
        # a tied output head repeats the embedding: skip it so it is not counted twice
        prof = profile_from_matrices(mats, signature, n_params=mats.n_params(), skip=("lm_head.weight",),
                                     probe_ids=probes)
    prof.signature["profile_key"] = key
    if cache_path is not None:
        _save(cache_path, prof, time.perf_counter() - t0, seal)
    return prof


def _cache_path(cache_dir: str | Path, key: str) -> Path:
    return Path(cache_dir) / "evidence" / "weights" / f"{key}.npz"


def cached_profile(cache_dir: str | Path, key: str | None, path: str | Path | None = None) -> WeightProfile | None:
    """The profile stored under ``key`` (a graph node's ``weights_key``), or None when this
    machine's cache does not hold it (the weights channel is then absent for that model).

    An entry that is missing or not trusted (see the module docstring) is rebuilt from
    ``path`` (the node's ``weights_path``) when that is still on this machine, and used only
    when the rebuilt key is ``key``: the same content the node was made from. A tampered cache
    therefore costs a rebuild, never a different answer.
    """
    here = path is not None and Path(path).exists()
    return verified_or_rebuilt(
        key, lambda: load_profile(_cache_path(cache_dir, key), Seal(cache_dir)),
        (lambda: weight_profile(path, cache_dir=cache_dir)) if here else None,
        lambda p: p.signature.get("profile_key"))


def profile_summary(prof: WeightProfile) -> dict:
    """Scalar node properties describing a model's weights (for the graph and reports)."""
    s = prof.stats
    return {"weights_key": prof.signature.get("profile_key"), "weight_n_layers": prof.n_layers,
            "weight_kurtosis": s.get("kurtosis"), "weight_zero_fraction": s.get("zero_fraction"),
            "weight_distinct_per_group": s.get("distinct_per_group"), "quantized_bits": prof.quantized_bits,
            "tokenizer_hash": prof.signature.get("tokenizer")}


def exact_distance(path_a: str | Path, path_b: str | Path) -> float | None:
    """Exact relative weight distance ``||W_a - W_b|| / ||W_b||`` over the 2-D matrices the two
    folders share by name and shape (tied output heads skipped), streamed one tensor at a time.
    None when they share none."""
    (fa, ada, _), (fb, adb, _) = _model_files(Path(path_a), Path(path_a).name), _model_files(Path(path_b), Path(path_b).name)
    if not fa or not fb:
        return None
    A, B = _matrices(fa, ada, Path(path_a).name), _matrices(fb, adb, Path(path_b).name)
    diff2 = ref2 = 0.0
    for name in A:
        if name == "lm_head.weight" or name not in B:
            continue
        a = A[name]
        if a.ndim != 2:
            continue
        b = B[name]
        if a.shape != b.shape:
            continue
        diff2 += float(np.sum(np.square(a.astype(np.float64) - b)))
        ref2 += float(np.sum(np.square(b, dtype=np.float64)))
    return float(np.sqrt(diff2 / ref2)) if ref2 > 0 else None


def exact_refiner(paths):
    """``refine(parent_index, child_index)`` for :func:`lineage.core.infer.combine.infer_with_evidence`:
    the exact weight distance of two models of a population whose folders (``paths``, aligned with
    the population; None where unknown) are on this machine, else None."""

    def refine(p: int, c: int) -> float | None:
        if paths[p] and paths[c] and Path(paths[p]).is_dir() and Path(paths[c]).is_dir():
            return exact_distance(paths[c], paths[p])
        return None

    return refine
