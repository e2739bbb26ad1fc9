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
