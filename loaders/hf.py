"""Hugging Face causal LMs from a local folder or a hub id: batched generation.

Batching: prompts are tokenized, sorted by length, left-padded with an
attention mask (pad token = EOS, or UNK, when the tokenizer has none). Greedy
by default; sampling is seeded per batch. The chat template is applied when
the tokenizer has one and ``GenerationConfig.chat_template`` is on. Answers are
the new tokens decoded with special tokens stripped, then whitespace-stripped.
Batch size ``"auto"`` is sized from free memory and halves on out-of-memory.

On CUDA (the GPU engine; every knob below also runs on CPU, which is how the tests
exercise the CUDA path's logic with the same numerics):

* bfloat16 weights (float16 on GPUs without bf16), the model and the sentence
  encoder on the same device;
* prompts sorted by token length before batching (``sort_by_length``), so a batch
  holds prompts of similar length and left padding is minimal; answers are handed
  back per probe slot, so the order of the result never depends on the sorting;
* batch size from free GPU memory after the weights are loaded (KV cache for the
  longest prompt plus ``max_new_tokens``, prefill activations, fp32 logits);
* ``kv_cache="static"``: a pre-allocated static KV cache (transformers'
  ``cache_implementation="static"``); on CUDA transformers then compiles the decode
  step with ``torch.compile`` (fewer kernel launches, no per-step allocation). Off by
  default: compilation costs tens of seconds per batch shape, which only pays off
  for long answers, and its speed has not been measured on a GPU yet;
* one host transfer per batch (the new tokens), none per token beyond the
  end-of-sequence check transformers' ``generate`` does.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Sequence

from lineage.dna.devices import resolve_device, resolve_dtype  # noqa: F401  (re-exported)
from lineage.dna.record import GenerationConfig
from lineage.errors import GenerationError, ModelLoadError, UnsafeModelError

from .base import BatchCallback, GenerationStats, check_safetensors, file_fingerprint, hash_small_files

__all__ = ["HFSource", "resolve_device", "resolve_dtype"]

_SMALL_FILES = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json", "chat_template.jinja", "chat_template.json", "vocab.json",
                "merges.txt", "tokenizer.model", "added_tokens.json"]
_TOKENIZER_FILES = ["tokenizer.json", "tokenizer.model", "vocab.json", "spiece.model", "vocab.txt"]


def resolve_threads(threads: str | int = "auto") -> int:
    """CPU threads for generation. ``auto``: the cores not already busy (load average), at least 1.

    Oversubscribing a shared CPU makes OpenMP threads spin against each other; on a
    2-core machine with other jobs a 2-thread forward pass ran 5-10x slower than a
    1-thread one. The thread count does not change results (MKL gave bit-identical
    logits for 1 and 2 threads here), so this is a pure runtime knob, not provenance.
    """
    if threads != "auto":
        return max(1, int(threads))
    n = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return max(1, min(n, int(n - busy + 0.5)))


def _available_bytes(device: str) -> int:
    import torch

    if device.startswith("cuda"):
        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 << 30


class HFSource:
    """A transformers causal LM (folder or hub id).

    Parameters
    ----------
    model_id : str
    path : Path, optional
        Local folder. Exactly one of ``path`` / ``hub_id``.
    hub_id : str, optional
        ``org/name`` or ``org/name@revision``.
    device, dtype : str
        ``auto`` or explicit.
    batch_size : 'auto' or int
    trust_remote_code, allow_pickle : bool
    sort_by_length : bool
        Batch prompts of similar length together (less padding). Answers are identical
        either way on CPU (tested); it is a speed knob, not provenance.
    kv_cache : {"dynamic", "static"}
        ``static`` pre-allocates the KV cache (and, on CUDA, lets transformers compile
        the decode step).
    generate_kwargs : dict, optional
        Extra ``transformers.GenerationConfig`` fields, for benchmarks only (e.g.
        ``min_new_tokens`` to force full-length answers); never part of a DNA's provenance.
    """

    kind = "hf"
    n_loads = 0  # class-wide count of real model loads (lets tests prove a cache hit loads nothing)

    def __init__(self, model_id: str, *, path: Path | None = None, hub_id: str | None = None,
                 device: str = "auto", dtype: str = "auto", batch_size: str | int = "auto",
                 trust_remote_code: bool = False, allow_pickle: bool = False, gguf_file: str | None = None,
                 threads: str | int = "auto", sort_by_length: bool = True, kv_cache: str = "dynamic",
                 generate_kwargs: dict | None = None):
        self.model_id = model_id
        self.path = Path(path).expanduser() if path is not None else None
        self.hub_id, self.revision = (hub_id.split("@", 1) + [None])[:2] if hub_id and "@" in hub_id else (hub_id, None)
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        self.batch_size = batch_size
        self.trust_remote_code = trust_remote_code
        self.allow_pickle = allow_pickle
        self.gguf_file = gguf_file
        self.threads = threads
        if kv_cache not in ("dynamic", "static"):
            raise ValueError(f"kv_cache must be 'dynamic' or 'static', not {kv_cache!r}")
        self.sort_by_length = sort_by_length
        self.kv_cache = kv_cache
        self.generate_kwargs = dict(generate_kwargs or {})
        self._seed = 0
        self.model: Any = None
        self.tokenizer: Any = None
        self._use_safetensors: bool | None = True
        self.adapter = None
        if self.path is not None:
            from .adapter import is_adapter, read_adapter

            if is_adapter(self.path):  # a LoRA kept apart from its base: the base is checked, then merged on load
                self.adapter = read_adapter(self.path, model_id)
                self._check_folder(self.adapter.base)
            else:
                self._check_folder()

    # -- identity and checks, without loading --------------------------------------
    def _check_folder(self, folder: Path | None = None) -> None:
        p, mid = folder or self.path, self.model_id
        if not p.exists():
            raise ModelLoadError(f"model {mid!r}: path {p} does not exist")
        if not p.is_dir():
            raise ModelLoadError(f"model {mid!r}: {p} is not a folder (a .gguf file or a Hugging Face folder is expected)")
        if not (p / "config.json").is_file():
            raise ModelLoadError(f"model {mid!r}: {p} has no config.json")
        st = sorted(p.glob("*.safetensors"))
        pickles = sorted(p.glob("pytorch_model*.bin")) + sorted(p.glob("*.pt")) + sorted(p.glob("*.pth"))
        if not st and not pickles:
            raise ModelLoadError(f"model {mid!r}: {p} has no weights (*.safetensors)")
        if not st:
            if not self.allow_pickle:
                raise UnsafeModelError(
                    f"model {mid!r}: only pickle weights ({pickles[0].name}) in {p}; pickle can run arbitrary code")
            self._use_safetensors = False
        for f in st:
            check_safetensors(f, mid)
        has_tok = any((p / n).is_file() for n in _TOKENIZER_FILES)
        if not has_tok:
            raise ModelLoadError(f"model {mid!r}: {p} has no tokenizer (tokenizer.json / tokenizer.model / vocab.json)",
                                 hint="save the tokenizer into the model folder (tokenizer.save_pretrained)")
        self._weights = st or pickles

    def identity(self) -> str:
        if self.path is None:
            return f"hub:{self.hub_id}@{self.revision or 'main'}"
        if self.adapter is not None:
            a = self.adapter
            parts = [hash_small_files(a.base, _SMALL_FILES)] + [f"{w.name}:{file_fingerprint(w)}" for w in self._weights]
            parts += [hash_small_files(a.folder, ["adapter_config.json", *_SMALL_FILES]),
                      f"{a.weights.name}:{file_fingerprint(a.weights)}"]
            return "adapter:" + "|".join(parts)
        parts = [hash_small_files(self.path, _SMALL_FILES)]
        parts += [f"{w.name}:{file_fingerprint(w)}" for w in self._weights]
        return "folder:" + "|".join(parts)

    def resolved_dtype(self) -> str:
        return self.dtype

    # -- loading -------------------------------------------------------------------
    def _from_pretrained_args(self) -> tuple[str, dict]:
        kw: dict = {"trust_remote_code": self.trust_remote_code}
        if self.adapter is not None:
            return str(self.adapter.base), kw
        if self.path is not None:
            return str(self.path), kw
        if self.revision:
            kw["revision"] = self.revision
        return self.hub_id, kw

    def load(self) -> None:
        if self.model is not None:
            return
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # our own progress goes to stderr via rich
        where, kw = self._from_pretrained_args()
        try:
            tok = AutoTokenizer.from_pretrained(str(self.adapter.tokenizer_folder) if self.adapter else where, **kw)
        except Exception as e:
            raise ModelLoadError(f"model {self.model_id!r}: cannot load its tokenizer ({_short(e)})",
                                 hint="save the tokenizer into the model folder, or check the hub id") from None
        mkw = dict(kw, dtype=getattr(torch, self.dtype))
        if self._use_safetensors:
            mkw["use_safetensors"] = True
        try:
            model = AutoModelForCausalLM.from_pretrained(where, **mkw)
        except Exception as e:
            raise ModelLoadError(f"model {self.model_id!r}: cannot load its weights ({_short(e)})") from None
        if self.adapter is not None:
            from .adapter import merge_into

            merge_into(model, self.adapter, self.model_id)
        model.to(self.device)
        model.eval()
        HFSource.n_loads += 1
        self._prepare_tokenizer(tok)
        self.model, self.tokenizer = model, tok

    def _prepare_tokenizer(self, tok) -> None:
        tok.padding_side = "left"
        if tok.pad_token is None:
            if tok.eos_token is not None:
                tok.pad_token = tok.eos_token
            elif tok.unk_token is not None:
                tok.pad_token = tok.unk_token
            else:
                raise ModelLoadError(f"model {self.model_id!r}: tokenizer has no pad, eos or unk token")

    def close(self) -> None:
        self.model = self.tokenizer = None
        import gc

        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except Exception:
            pass

    # -- generation ----------------------------------------------------------------
    def _limits(self, gen: GenerationConfig) -> tuple[int, int]:
        max_pos = getattr(self.model.config, "max_position_embeddings", None) or 1024
        max_new = min(gen.max_new_tokens, max_pos // 2)  # same cap as the reference
        return max_new, max(max_pos - max_new, 1)

    def _encode(self, prompt: str, use_chat: bool, max_input: int) -> list[int]:
        tok = self.tokenizer
        if use_chat:
            text = tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                           add_generation_prompt=True)
            return tok(text, add_special_tokens=False)["input_ids"]
        return tok(prompt, truncation=True, max_length=max_input)["input_ids"]

    def _auto_batch(self, n_prompts: int, max_len: int, max_new: int) -> int:
        if self.batch_size != "auto":
            return max(1, int(self.batch_size))
        cfg = self.model.config
        n_layers = getattr(cfg, "num_hidden_layers", None) or getattr(cfg, "n_layer", 12)
        hidden = getattr(cfg, "hidden_size", None) or getattr(cfg, "n_embd", 768)
        heads = getattr(cfg, "num_attention_heads", None) or getattr(cfg, "n_head", 12)
        kv_heads = getattr(cfg, "num_key_value_heads", None) or heads
        head_dim = getattr(cfg, "head_dim", None) or hidden // heads
        inter = getattr(cfg, "intermediate_size", None) or 4 * hidden
        vocab = getattr(cfg, "vocab_size", 50000)
        nbytes = 4 if self.dtype == "float32" else 2
        seq = max_len + max_new
        per_seq = (2 * n_layers * kv_heads * head_dim * seq * nbytes  # KV cache
                   + 4 * max_len * max(inter, hidden) * nbytes                  # prefill activations
                   + 8 * vocab)                                                 # fp32 logits and scores
        budget = _available_bytes(self.device) * (0.5 if self.device.startswith("cuda") else 0.25)
        cap = 256 if self.device.startswith("cuda") else 64
        return int(max(1, min(cap, budget // per_seq, n_prompts)))

    def generate(self, prompts: Sequence[str], indices: Sequence[int], gen: GenerationConfig,
                 on_batch: BatchCallback) -> GenerationStats:
        import torch
        from transformers import GenerationConfig as HFGen

        self.load()
        tok = self.tokenizer
        self._seed = gen.seed
        use_chat = gen.chat_template and getattr(tok, "chat_template", None) is not None
        max_new, max_input = self._limits(gen)
        ids = [self._encode(p, use_chat, max_input) for p in prompts]
        # length-sorted batches cut padding; on_batch gets probe slots, so order never leaks out
        order = sorted(range(len(ids)), key=lambda i: len(ids[i])) if self.sort_by_length else list(range(len(ids)))
        bs = self._auto_batch(len(ids), max(map(len, ids)), max_new)
        hf_kw: dict = dict(max_new_tokens=max_new, do_sample=gen.do_sample, pad_token_id=tok.pad_token_id,
                           eos_token_id=tok.eos_token_id)
        if gen.do_sample:
            hf_kw.update(temperature=gen.temperature, top_p=gen.top_p)
        if self.kv_cache == "static":
            hf_kw["cache_implementation"] = "static"
        hf_kw.update(self.generate_kwargs)
        hf_gen = HFGen(**hf_kw)
        stats = GenerationStats(batch_size=bs)
        old_threads = torch.get_num_threads()
        if not self.device.startswith("cuda"):
            torch.set_num_threads(resolve_threads(self.threads))
        try:
            self._run_batches(ids, order, indices, bs, hf_gen, on_batch, stats)
        finally:
            torch.set_num_threads(old_threads)
        return stats

    def _run_batches(self, ids, order, indices, bs, hf_gen, on_batch, stats) -> None:
        import torch

        tok, model, gen_seed, do_sample = self.tokenizer, self.model, self._seed, hf_gen.do_sample
        t0 = time.perf_counter()
        pos = 0
        while pos < len(order):
            chunk = order[pos:pos + bs]
            width = max(len(ids[i]) for i in chunk)
            input_ids = torch.full((len(chunk), width), tok.pad_token_id, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for r, i in enumerate(chunk):
                seq = ids[i]
                if seq:
                    input_ids[r, width - len(seq):] = torch.tensor(seq, dtype=torch.long)
                    mask[r, width - len(seq):] = 1
            if do_sample:
                torch.manual_seed(gen_seed + pos)
            try:
                with torch.inference_mode():
                    out = model.generate(input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device),
                                         generation_config=hf_gen)
            except torch.OutOfMemoryError:
                if bs == 1:
                    raise GenerationError(f"model {self.model_id!r}: out of memory even with batch size 1",
                                          hint="use --device cpu, a smaller --max-new-tokens or a smaller dtype") from None
                bs = max(1, bs // 2)
                stats.batch_size = bs
                if self.device.startswith("cuda"):
                    torch.cuda.empty_cache()
                continue
            new = out[:, width:].cpu()
            answers = [t.strip() for t in tok.batch_decode(new, skip_special_tokens=True)]
            counts = []
            for row in new.tolist():
                n = len(row)
                if tok.eos_token_id is not None and tok.eos_token_id in row:
                    n = row.index(tok.eos_token_id) + 1
                counts.append(n)
            stats.n_tokens += sum(counts)
            on_batch([indices[i] for i in chunk], answers, counts)
            pos += len(chunk)
        stats.seconds = time.perf_counter() - t0


def _short(e: BaseException) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {msg[:160]}" if msg else type(e).__name__
