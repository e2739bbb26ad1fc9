"""Derivation operators: each makes a new zoo model from its parent(s).

Every operator reads parent folder(s), writes a complete Hugging Face folder
(safetensors + tokenizer) to ``out`` and returns a small dict of build facts. Each
imitates one way models are derived in the wild; the ground-truth relation it
produces is in :data:`RELATION`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import torch

from lineage.zoo import corpus
from lineage.zoo.profiles import RELATION  # noqa: F401  (re-exported: operator -> relation)
from lineage.zoo._train import chat_examples, format_prompt, generate, lm_examples, load, n_params, save, train

def _examples(tok, *, topic: str, style: str, chat: bool, block: int, n_pairs: int | None = None,
              flatten: bool = False):
    if chat:
        return chat_examples(tok, corpus.qa_pairs(topic, style, limit=n_pairs), max_len=block)
    return lm_examples(tok, corpus.text(topic, style), block, flatten)


def finetune(parent: Path, out: Path, *, seed: int, topic: str, style: str = "plain", chat: bool = False,
             steps: int = 30, lr: float = 1e-3, batch_size: int = 8, block: int = 64,
             freeze_embeddings: bool = False, flatten: bool = False) -> dict:
    """Full supervised fine-tune on a distinct corpus or style.

    Imitates the commonest Hub derivative: all weights updated on task or style data
    (an "instruct", "code" or persona variant). ``chat=True`` trains question/answer
    pairs through the chat template with the loss on the answers only (SFT).
    ``freeze_embeddings=True`` keeps the (tied) token embeddings fixed, as many SFT
    recipes do; it also saves a third of the output layer's backward cost.
    ``flatten=True`` joins plain-text paragraphs with spaces (as for a base
    pre-trained that way, see :func:`~lineage.zoo._train.lm_examples`).
    """
    model, tok = load(parent)
    if freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    ex = _examples(tok, topic=topic, style=style, chat=chat, block=block, flatten=flatten)
    loss = train(model, ex, steps=steps, lr=lr, batch_size=batch_size, seed=seed, pad_id=tok.pad_token_id or 0)
    save(model, tok, out)
    return {"final_loss": round(loss, 4), "params": n_params(model)}


class _LoRA:
    """Low-rank adapters on chosen linear layers, via forward hooks (no extra dependency)."""

    def __init__(self, model, targets: Sequence[str], rank: int, alpha: float, seed: int):
        from transformers.pytorch_utils import Conv1D

        self.scale = alpha / rank
        self.layers: list[tuple[torch.nn.Module, torch.nn.Parameter, torch.nn.Parameter, bool]] = []
        self.hooks = []
        gen = torch.Generator().manual_seed(seed)
        for name, mod in model.named_modules():
            if not name.split(".")[-1] in targets:
                continue
            if isinstance(mod, Conv1D):  # GPT-2 stores weights as (in, out)
                n_in, n_out, transposed = mod.weight.shape[0], mod.weight.shape[1], True
            elif isinstance(mod, torch.nn.Linear):
                n_out, n_in, transposed = mod.weight.shape[0], mod.weight.shape[1], False
            else:
                continue
            a = torch.nn.Parameter(torch.randn(rank, n_in, generator=gen) / rank**0.5 / n_in**0.5)
            b = torch.nn.Parameter(torch.zeros(n_out, rank))
            self.layers.append((mod, a, b, transposed))
            self.hooks.append(mod.register_forward_hook(self._hook(a, b)))
        if not self.layers:
            raise ValueError(f"no linear layer named any of {list(targets)}")

    def _hook(self, a, b):
        def fn(_mod, inputs, output):
            return output + (inputs[0] @ a.T @ b.T) * self.scale
        return fn

    def parameters(self):
        return [p for _, a, b, _ in self.layers for p in (a, b)]

    @torch.no_grad()
    def merge(self) -> None:
        for h in self.hooks:
            h.remove()
        for mod, a, b, transposed in self.layers:
            delta = (b @ a) * self.scale
            mod.weight += delta.T if transposed else delta


_LORA_TARGETS = {"gpt2": ("c_attn", "c_proj", "c_fc"),
                 "llama": ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")}


def lora_finetune(parent: Path, out: Path, *, seed: int, topic: str, style: str = "plain", chat: bool = False,
                  steps: int = 30, lr: float = 2e-3, rank: int = 8, alpha: float = 16.0, batch_size: int = 8,
                  block: int = 64, flatten: bool = False, separate: bool = False) -> dict:
    """LoRA fine-tune (frozen base, trained low-rank adapters), merged back into the weights.

    Imitates the many Hub models published as an adapter merged into its base
    ("merged LoRA"): only a low-rank update of the base's linear layers differs.
    ``flatten`` as for :func:`finetune`. With ``separate`` the adapter is published on
    its own instead, as a PEFT LoRA folder (``adapter_config.json`` naming the base as
    the sibling folder ``../<parent>``, ``adapter_model.safetensors``, the tokenizer).
    """
    model, tok = load(parent)
    for p in model.parameters():
        p.requires_grad_(False)
    lora = _LoRA(model, _LORA_TARGETS[model.config.model_type], rank, alpha, seed)
    ex = _examples(tok, topic=topic, style=style, chat=chat, block=block, flatten=flatten)
    loss = train(model, ex, steps=steps, lr=lr, batch_size=batch_size, seed=seed,
                 params=lora.parameters(), pad_id=tok.pad_token_id or 0)
    if separate:
        _save_adapter(model, lora, tok, out, base=parent, rank=rank, alpha=alpha)
        return {"final_loss": round(loss, 4), "params": n_params(model), "lora_rank": rank, "separate": True}
    lora.merge()
    save(model, tok, out)
    return {"final_loss": round(loss, 4), "params": n_params(model), "lora_rank": rank}


def _save_adapter(model, lora: _LoRA, tok, out: Path, *, base: Path, rank: int, alpha: float) -> None:
    """Write the PEFT LoRA layout (what ``peft``'s ``save_pretrained`` writes for plain LoRA)."""
    from safetensors.torch import save_file

    names = {id(mod): name for name, mod in model.named_modules()}
    tensors, targets = {}, set()
    for mod, a, b, transposed in lora.layers:
        name = names[id(mod)]
        targets.add(name.split(".")[-1])
        tensors[f"base_model.model.{name}.lora_A.weight"] = a.detach().contiguous()
        tensors[f"base_model.model.{name}.lora_B.weight"] = b.detach().contiguous()
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / "adapter_model.safetensors"), metadata={"format": "pt"})
    config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": f"../{base.name}",
              "r": rank, "lora_alpha": alpha, "lora_dropout": 0.0, "bias": "none",
              "fan_in_fan_out": bool(lora.layers and lora.layers[0][3]), "target_modules": sorted(targets),
              "inference_mode": True}
    (out / "adapter_config.json").write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
    tok.save_pretrained(out)


@torch.no_grad()
def quantize(parent: Path, out: Path, *, seed: int, bits: int = 8, group_size: int = 32) -> dict:
    """Weight-only quantization round trip (symmetric absmax per group), saved as float32.

    Imitates the GGUF/GPTQ/bitsandbytes releases of a model: every linear weight is
    rounded to ``bits``-bit integers with one scale per ``group_size`` inputs, then
    dequantized, so the folder loads anywhere but carries the rounding error.
    Embeddings and norms stay in full precision, as in most weight-only schemes.
    """
    model, tok = load(parent)
    qmax = 2 ** (bits - 1) - 1
    n_q = 0
    err = 0.0
    for name, mod in model.named_modules():
        w = getattr(mod, "weight", None)
        if w is None or w.ndim != 2 or isinstance(mod, torch.nn.Embedding) or "lm_head" in name or "wte" in name:
            continue
        flat = w.reshape(-1, group_size) if w.numel() % group_size == 0 else w.reshape(1, -1)
        scale = flat.abs().amax(dim=1, keepdim=True).clamp_min(1e-12) / qmax
        deq = (torch.round(flat / scale).clamp(-qmax - 1, qmax) * scale).reshape(w.shape)
        err += float((deq - w).pow(2).mean())
        w.copy_(deq)
        n_q += 1
    save(model, tok, out)
    return {"bits": bits, "group_size": group_size, "n_quantized": n_q, "params": n_params(model),
            "mean_sq_error": err / max(1, n_q)}


def _layer_prefix(model_type: str) -> str:
    return {"gpt2": "transformer.h.", "llama": "model.layers."}[model_type]


def _teacher_prompts(tok, topic: str, chat: bool, n: int) -> list[str]:
    if chat:
        return [format_prompt(tok, qa.question) for qa in corpus.qa_pairs(topic, limit=n)]
    lines = [ln for ln in corpus.text(topic).splitlines() if len(ln.split()) >= 6]
    step = max(1, len(lines) // n)
    return [" ".join(ln.split()[:5]) for ln in lines[::step][:n]]


def teacher_data(parent: Path, *, seed: int, topic: str, chat: bool, n_prompts: int, max_new_tokens: int,
                 sample: bool = True, cache: Path | None = None) -> list[tuple[str, str]]:
    """(prompt, answer) pairs generated by ``parent``; cached as JSON when ``cache`` is given.

    ``sample=False`` answers greedily (with the same repetition penalty), as
    sequence-level distillation does with the teacher's most likely output; a tiny
    student then inherits its teacher's typical answers rather than its noise.
    """
    if cache is not None and cache.is_file():
        return [tuple(x) for x in json.loads(cache.read_text(encoding="utf-8"))]
    model, tok = load(parent)
    prompts = _teacher_prompts(tok, topic, chat, n_prompts)
    answers = generate(model, tok, prompts, max_new_tokens=max_new_tokens, seed=seed, sample=sample)
    pairs = [(p, a) for p, a in zip(prompts, answers) if a.strip()]
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(pairs), encoding="utf-8")
        tmp.replace(cache)
    return pairs


def _pair_examples(tok, pairs, block: int):
    out = []
    eos = tok.eos_token or ""
    for prompt, answer in pairs:
        p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        a_ids = tok((" " if not prompt.endswith((" ", "\n")) else "") + answer + eos,
                    add_special_tokens=False)["input_ids"]
        ids = (p_ids + a_ids)[:block]
        out.append((torch.tensor(ids), torch.tensor(([-100] * len(p_ids) + a_ids)[:block])))
    return out


def prune(parent: Path, out: Path, *, seed: int, drop: Sequence[int], heal_pairs: list[tuple[str, str]],
          heal_steps: int = 20, lr: float = 1e-3, batch_size: int = 8, block: int = 96) -> dict:
    """Depth pruning: remove whole transformer blocks, then heal by self-distillation.

    Imitates pruned releases (e.g. Minitron, "Sheared" models): the listed layers are
    deleted and the shorter model is briefly trained on its parent's own answers, since
    an unhealed pruned model answers noticeably worse than real releases do.
    """
    from transformers import AutoConfig, AutoModelForCausalLM

    model, tok = load(parent)
    cfg = AutoConfig.from_pretrained(parent)
    mt = cfg.model_type
    n_layers = cfg.num_hidden_layers
    keep = [i for i in range(n_layers) if i not in set(drop)]
    if len(keep) == n_layers or not keep:
        raise ValueError(f"drop must remove some but not all of the {n_layers} layers")
    prefix = _layer_prefix(mt)
    new_index = {old: new for new, old in enumerate(keep)}
    state = {}
    for k, v in model.state_dict().items():
        if k.startswith(prefix):
            old, rest = k[len(prefix):].split(".", 1)
            if int(old) not in new_index:
                continue
            k = f"{prefix}{new_index[int(old)]}.{rest}"
        state[k] = v
    cfg.num_hidden_layers = len(keep)
    if getattr(cfg, "layer_types", None):
        cfg.layer_types = [cfg.layer_types[i] for i in keep]
    torch.manual_seed(seed)
    small = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    small.load_state_dict(state, strict=False)
    small.tie_weights()
    small.generation_config = model.generation_config
    del model
    loss = train(small, _pair_examples(tok, heal_pairs, block), steps=heal_steps, lr=lr, batch_size=batch_size,
                 seed=seed, pad_id=tok.pad_token_id or 0)
    save(small, tok, out)
    return {"dropped_layers": list(drop), "n_layers": len(keep), "final_loss": round(loss, 4),
            "params": n_params(small)}


@torch.no_grad()
def merge(parents: Sequence[Path], out: Path, *, seed: int, weights: Sequence[float] | None = None) -> dict:
    """Weight-space merge: the (weighted) average of models fine-tuned from one base.

    Imitates "model soups" and the linear merges made with mergekit: siblings that
    share an architecture and tokenizer are averaged parameter by parameter.
    """
    weights = list(weights) if weights is not None else [1.0 / len(parents)] * len(parents)
    model, tok = load(parents[0])
    acc = {k: v.clone() * weights[0] for k, v in model.state_dict().items()}
    for w, p in zip(weights[1:], parents[1:]):
        other, _ = load(p)
        sd = other.state_dict()
        if set(sd) != set(acc) or any(sd[k].shape != acc[k].shape for k in acc):
            raise ValueError(f"cannot merge {parents[0].name} and {p.name}: architectures differ")
        for k in acc:
            acc[k] += sd[k] * w
        del other
    model.load_state_dict(acc)
    save(model, tok, out)
    return {"weights": weights, "params": n_params(model)}


def distill(parent: Path, out: Path, *, seed: int, pairs: list[tuple[str, str]], arch: str, width: int,
            layers: int, heads: int, steps: int = 150, lr: float = 3e-3, batch_size: int = 16,
            block: int = 96) -> dict:
    """Sequence-level distillation into a smaller student of another architecture.

    Imitates distilled releases (DistilGPT-2, "distilled from GPT-4" instruct models):
    a freshly initialised student, sharing no weights with the teacher but using its
    tokenizer (and chat template), is trained on the teacher's generated answers, so
    only behaviour is inherited.
    """
    from lineage.zoo.bases import new_model

    tok = load_tokenizer(parent)
    student = new_model(arch, tok, width=width, layers=layers, heads=heads, ctx=max(256, block), seed=seed)
    loss = train(student, _pair_examples(tok, pairs, block), steps=steps, lr=lr, batch_size=batch_size,
                 seed=seed, pad_id=tok.pad_token_id or 0, weight_decay=0.01)
    save(student, tok, out)
    return {"final_loss": round(loss, 4), "params": n_params(student), "architecture": arch,
            "n_teacher_answers": len(pairs)}


def load_tokenizer(path: Path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


# ---- derivations that hide (issue 20): permuted, vocabulary-extended, up-scaled, noised -----------

def _perm(gen: torch.Generator, n: int) -> torch.Tensor:
    return torch.randperm(n, generator=gen)


def _head_index(order: torch.Tensor, head_dim: int) -> torch.Tensor:
    """Row indices that reorder whole heads of ``head_dim`` rows (head ``order[i]`` goes to slot ``i``)."""
    return (order[:, None] * head_dim + torch.arange(head_dim)[None, :]).reshape(-1)


def _query_heads(gen: torch.Generator, kv_order: torch.Tensor, n_heads: int) -> torch.Tensor:
    """Query-head order consistent with a key/value-head order under grouped-query attention:
    the groups move with their key/value head, the query heads inside a group may be shuffled."""
    n_rep = n_heads // len(kv_order)
    out = []
    for g in kv_order.tolist():
        inner = _perm(gen, n_rep)
        out.extend((g * n_rep + inner).tolist())
    return torch.tensor(out)


def _permute_llama(sd: dict, cfg, gen: torch.Generator, residual: bool) -> dict:
    d = cfg.hidden_size
    n_heads = cfg.num_attention_heads
    n_kv = getattr(cfg, "num_key_value_heads", None) or n_heads
    hd = getattr(cfg, "head_dim", None) or d // n_heads
    r = _perm(gen, d) if residual else torch.arange(d)
    out = {}
    for k, v in sd.items():
        out[k] = v.clone()
    for k, v in sd.items():
        if k.endswith(("embed_tokens.weight", "lm_head.weight")):
            out[k] = v[:, r].clone()
        elif k.endswith(("norm.weight", "layernorm.weight")) and v.ndim == 1 and v.shape[0] == d:
            out[k] = v[r].clone()
    for i in range(cfg.num_hidden_layers):
        p = f"model.layers.{i}."
        kv_order = _perm(gen, n_kv)
        q_rows = _head_index(_query_heads(gen, kv_order, n_heads), hd)
        kv_rows = _head_index(kv_order, hd)
        for name, rows in (("q_proj", q_rows), ("k_proj", kv_rows), ("v_proj", kv_rows)):
            w = sd[p + f"self_attn.{name}.weight"]
            out[p + f"self_attn.{name}.weight"] = w[rows][:, r].clone()
            if p + f"self_attn.{name}.bias" in sd:
                out[p + f"self_attn.{name}.bias"] = sd[p + f"self_attn.{name}.bias"][rows].clone()
        w = sd[p + "self_attn.o_proj.weight"]
        out[p + "self_attn.o_proj.weight"] = w[r][:, q_rows].clone()
        if p + "self_attn.o_proj.bias" in sd:
            out[p + "self_attn.o_proj.bias"] = sd[p + "self_attn.o_proj.bias"][r].clone()
        units = _perm(gen, sd[p + "mlp.up_proj.weight"].shape[0])
        for name in ("gate_proj", "up_proj"):
            out[p + f"mlp.{name}.weight"] = sd[p + f"mlp.{name}.weight"][units][:, r].clone()
            if p + f"mlp.{name}.bias" in sd:
                out[p + f"mlp.{name}.bias"] = sd[p + f"mlp.{name}.bias"][units].clone()
        out[p + "mlp.down_proj.weight"] = sd[p + "mlp.down_proj.weight"][r][:, units].clone()
        if p + "mlp.down_proj.bias" in sd:
            out[p + "mlp.down_proj.bias"] = sd[p + "mlp.down_proj.bias"][r].clone()
    return out


def _permute_gpt2(sd: dict, cfg, gen: torch.Generator, residual: bool) -> dict:
    d = cfg.n_embd
    n_heads = cfg.n_head
    hd = d // n_heads
    r = _perm(gen, d) if residual else torch.arange(d)
    out = {k: v.clone() for k, v in sd.items()}
    for k, v in sd.items():
        if k.endswith(("wte.weight", "wpe.weight", "lm_head.weight")):
            out[k] = v[:, r].clone()
        elif k.split(".")[-2].startswith("ln_") and v.ndim == 1:  # ln_1, ln_2, ln_f weight and bias
            out[k] = v[r].clone()
    for i in range(cfg.n_layer):
        p = f"transformer.h.{i}."
        heads = _head_index(_perm(gen, n_heads), hd)
        # Conv1D stores (in, out); c_attn's output packs [q | k | v], each reordered by the same heads
        cols = torch.cat([heads, heads + d, heads + 2 * d])
        out[p + "attn.c_attn.weight"] = sd[p + "attn.c_attn.weight"][r][:, cols].clone()
        out[p + "attn.c_attn.bias"] = sd[p + "attn.c_attn.bias"][cols].clone()
        out[p + "attn.c_proj.weight"] = sd[p + "attn.c_proj.weight"][heads][:, r].clone()
        out[p + "attn.c_proj.bias"] = sd[p + "attn.c_proj.bias"][r].clone()
        units = _perm(gen, sd[p + "mlp.c_fc.weight"].shape[1])
        out[p + "mlp.c_fc.weight"] = sd[p + "mlp.c_fc.weight"][r][:, units].clone()
        out[p + "mlp.c_fc.bias"] = sd[p + "mlp.c_fc.bias"][units].clone()
        out[p + "mlp.c_proj.weight"] = sd[p + "mlp.c_proj.weight"][units][:, r].clone()
        out[p + "mlp.c_proj.bias"] = sd[p + "mlp.c_proj.bias"][r].clone()
    return out


@torch.no_grad()
def permute(parent: Path, out: Path, *, seed: int, residual: bool = True) -> dict:
    """Function-preserving permutation: the same function under other weights.

    Imitates an upload that hides its provenance (Zhu et al. 2025 and REEF, ICLR 2025,
    discuss it): in every layer the MLP's hidden units are reordered (rows of the up and
    gate projections, columns of the down projection; GPT-2's ``Conv1D`` stores the
    transpose), the attention heads are reordered (query, key and value heads together,
    keeping grouped-query groups intact), and, with ``residual`` (default), the residual
    basis is permuted consistently everywhere: the columns of every matrix that reads the
    residual stream, the rows of every matrix that writes it, the token (and position)
    embeddings' columns and the norms' weights and biases (RMSNorm and LayerNorm commute
    with a permutation of their features). Logits are unchanged up to float rounding.
    """
    model, tok = load(parent)
    gen = torch.Generator().manual_seed(seed)
    sd = model.state_dict()
    mt = model.config.model_type
    if mt == "llama":
        new = _permute_llama(sd, model.config, gen, residual)
    elif mt == "gpt2":
        new = _permute_gpt2(sd, model.config, gen, residual)
    else:
        raise ValueError(f"permute knows llama and gpt2 layouts, not {mt!r}")
    model.load_state_dict(new)
    model.tie_weights()
    save(model, tok, out)
    return {"residual": residual, "params": n_params(model)}


def _extended_tokenizer_json(tokenizer_json: str, text: str, n_new: int) -> tuple[str, list[str]]:
    """``tokenizer.json`` with ``n_new`` tokens added to a byte-level BPE: the most frequent
    adjacent pairs of tokens of ``text`` whose concatenation is not yet a token become new
    merges (appended, so existing merges keep their priority) and new vocabulary entries
    (ids after the existing ones), as continued BPE training on new-language text does."""
    from collections import Counter

    from tokenizers import Tokenizer

    spec = json.loads(tokenizer_json)
    model = spec["model"]
    if model.get("type") != "BPE":
        raise ValueError("vocab extension needs a BPE tokenizer")
    backend = Tokenizer.from_str(tokenizer_json)
    vocab = model["vocab"]
    pairs: Counter = Counter()
    for word in text.split():
        toks = backend.encode(" " + word, add_special_tokens=False).tokens
        pairs.update(zip(toks, toks[1:]))
    added: list[str] = []
    next_id = max(max(vocab.values()), max((a["id"] for a in spec.get("added_tokens", [])), default=-1)) + 1
    for (a, b), _ in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(added) == n_new:
            break
        if a + b in vocab:
            continue
        vocab[a + b] = next_id
        next_id += 1
        model["merges"].append([a, b] if model["merges"] and isinstance(model["merges"][0], list) else f"{a} {b}")
        added.append(a + b)
    return json.dumps(spec, ensure_ascii=False), added


def vocab_extend(parent: Path, out: Path, *, seed: int, topic: str, n_new: int = 32, steps: int = 0,
                 lr: float = 1e-3, batch_size: int = 8, block: int = 64, flatten: bool = False) -> dict:
    """Vocabulary extension: new tokens, new embedding rows, optionally a little training.

    Imitates language or domain adaptation (Chinese-LLaMA, many "extended tokenizer"
    releases): the parent's BPE tokenizer gains ``n_new`` merges learned on ``topic``'s
    text (:func:`_extended_tokenizer_json`), the input embeddings (and an untied output
    head) gain rows for them (transformers' mean-and-covariance initialisation), and with
    ``steps > 0`` all weights train briefly on ``topic`` so the new rows are used. The
    existing tokens keep their ids and vectors until that training.
    """
    model, tok = load(parent)
    out.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(out)
    text = corpus.text(topic)
    new_json, added = _extended_tokenizer_json((out / "tokenizer.json").read_text(encoding="utf-8"), text, n_new)
    (out / "tokenizer.json").write_text(new_json, encoding="utf-8")
    tok = load_tokenizer(out)
    torch.manual_seed(seed)
    model.resize_token_embeddings(len(tok))
    loss = None
    if steps > 0:
        loss = train(model, lm_examples(tok, text, block, flatten), steps=steps, lr=lr, batch_size=batch_size,
                     seed=seed, pad_id=tok.pad_token_id or 0)
    save(model, tok, out)
    return {"n_new_tokens": len(added), "vocab_size": len(tok), "final_loss": None if loss is None else round(loss, 4),
            "params": n_params(model)}


def upscale(parent: Path, out: Path, *, seed: int, overlap: int, heal_steps: int = 0, heal_topic: str | None = None,
            lr: float = 1e-3, batch_size: int = 8, block: int = 64, flatten: bool = False) -> dict:
    """Depth up-scaling (SOLAR 10.7B): two copies of the layer stack, the first without its last
    ``overlap`` layers and the second without its first ``overlap``, stacked (``n`` layers become
    ``2 (n - overlap)``), then optionally healed by ``heal_steps`` of training on ``heal_topic``.
    """
    from transformers import AutoConfig, AutoModelForCausalLM

    model, tok = load(parent)
    cfg = AutoConfig.from_pretrained(parent)
    n = cfg.num_hidden_layers
    if not 0 < overlap < n:
        raise ValueError(f"overlap must be between 1 and {n - 1}")
    order = list(range(0, n - overlap)) + list(range(overlap, n))
    prefix = _layer_prefix(cfg.model_type)
    sd = model.state_dict()
    state = {k: v for k, v in sd.items() if not k.startswith(prefix)}
    for new, old in enumerate(order):
        for k, v in sd.items():
            if k.startswith(f"{prefix}{old}."):
                state[f"{prefix}{new}.{k[len(prefix) + len(str(old)) + 1:]}"] = v.clone()
    cfg.num_hidden_layers = len(order)
    if getattr(cfg, "layer_types", None):
        cfg.layer_types = [cfg.layer_types[i] for i in order]
    if cfg.model_type == "gpt2":
        cfg.n_layer = len(order)
    torch.manual_seed(seed)
    big = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    missing, unexpected = big.load_state_dict(state, strict=False)
    if unexpected or any(not k.endswith(("attn.bias", "attn.masked_bias", "lm_head.weight")) for k in missing):
        raise ValueError(f"up-scaling lost tensors: missing {missing[:3]}, unexpected {unexpected[:3]}")
    big.tie_weights()
    big.generation_config = model.generation_config
    del model
    loss = None
    if heal_steps > 0:
        loss = train(big, lm_examples(tok, corpus.text(heal_topic or "text"), block, flatten), steps=heal_steps,
                     lr=lr, batch_size=batch_size, seed=seed, pad_id=tok.pad_token_id or 0)
    save(big, tok, out)
    return {"layers": order, "n_layers": len(order), "final_loss": None if loss is None else round(loss, 4),
            "params": n_params(big)}


@torch.no_grad()
def noise(parent: Path, out: Path, *, seed: int, scale: float = 0.01) -> dict:
    """Weights plus Gaussian noise of ``scale`` times each tensor's own standard deviation.

    Imitates a perturbation meant to break exact-hash and near-duplicate matching while
    keeping the model's behaviour (1% of each matrix's spread barely moves the logits).
    Every floating-point tensor with more than one element is perturbed, norms included.
    """
    model, tok = load(parent)
    gen = torch.Generator().manual_seed(seed)
    seen: set[int] = set()
    for p in model.parameters():  # parameters() yields a tied tensor once
        if id(p) in seen or p.numel() < 2 or not p.dtype.is_floating_point:
            continue
        seen.add(id(p))
        p.add_(torch.randn(p.shape, generator=gen) * float(p.std()) * scale)
    save(model, tok, out)
    return {"scale": scale, "params": n_params(model)}
