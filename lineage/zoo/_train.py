"""Shared training and generation helpers for the zoo (torch; imported lazily)."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Iterator, Sequence

import torch

from lineage.zoo.corpus import QA

MAX_THREADS = 2  # the build machines are small and shared


@contextlib.contextmanager
def torch_threads(n: int = MAX_THREADS) -> Iterator[None]:
    """Pin torch's intra-op threads to ``n`` (at most 2).

    The count is part of each recipe, because float sums can differ with the thread
    count; one thread is also much faster for tiny models on a busy machine.
    """
    old = torch.get_num_threads()
    torch.set_num_threads(max(1, min(n, MAX_THREADS)))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def lm_examples(tokenizer, text: str, block: int, flatten: bool = False) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Pack text into consecutive blocks of ``block`` tokens; labels equal inputs.

    Paragraphs stay separated by newlines, not end-of-text tokens, so that models
    trained on plain text keep writing instead of stopping after a few words.
    ``flatten=True`` joins the paragraphs with single spaces into one running text:
    a very small model then learns to continue a sentence with words, whereas with
    newlines in the data it learns to answer a prompt with line breaks only (an empty
    answer once stripped).
    """
    if flatten:
        text = " ".join(text.split())
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    n = len(ids) // block
    if n == 0:
        raise ValueError("corpus shorter than one training block")
    t = torch.tensor(ids[: n * block], dtype=torch.long).view(n, block)
    return [(row, row) for row in t]


def format_prompt(tokenizer, question: str) -> str:
    """The prompt text a model sees: its chat template when it has one, else a plain frame."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": question}], tokenize=False, add_generation_prompt=True
        )
    return f"Question: {question}\nAnswer:"


def chat_examples(tokenizer, pairs: Sequence[QA], max_len: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Supervised examples: loss only on the answer tokens (prompt tokens masked with -100)."""
    out = []
    eos = tokenizer.eos_token or ""
    for qa in pairs:
        prompt = format_prompt(tokenizer, qa.question)
        p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        sep = "" if getattr(tokenizer, "chat_template", None) else " "
        a_ids = tokenizer(sep + qa.answer + eos, add_special_tokens=False)["input_ids"]
        ids = (p_ids + a_ids)[:max_len]
        labels = ([-100] * len(p_ids) + a_ids)[:max_len]
        out.append((torch.tensor(ids), torch.tensor(labels)))
    return out


def _collate(batch, pad_id: int):
    n = max(len(x) for x, _ in batch)
    ids = torch.full((len(batch), n), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), n), -100, dtype=torch.long)
    mask = torch.zeros((len(batch), n), dtype=torch.long)
    for i, (x, y) in enumerate(batch):
        ids[i, : len(x)] = x
        labels[i, : len(y)] = y
        mask[i, : len(x)] = 1
    return ids, mask, labels


def train(model, examples, *, steps: int, lr: float, batch_size: int, seed: int,
          params: Sequence[torch.nn.Parameter] | None = None, pad_id: int = 0,
          warmup: float = 0.1, weight_decay: float = 0.0) -> float:
    """AdamW with linear warm-up and cosine decay; batches drawn by a seeded generator.

    Returns the mean loss of the last 10% of steps.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    params = list(params) if params is not None else [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    n_warm = max(1, int(steps * warmup))

    def factor(step: int) -> float:
        if step < n_warm:
            return (step + 1) / n_warm
        return 0.5 * (1 + math.cos(math.pi * (step - n_warm) / max(1, steps - n_warm)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    model.train()
    tail: list[float] = []
    for step in range(steps):
        idx = torch.randint(len(examples), (batch_size,), generator=gen).tolist()
        ids, mask, labels = _collate([examples[i] for i in idx], pad_id)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        if step >= steps - max(1, steps // 10):
            tail.append(float(loss.detach()))
    model.eval()
    return sum(tail) / len(tail)


@torch.no_grad()
def generate(model, tokenizer, prompts: Sequence[str], *, max_new_tokens: int, seed: int,
             batch_size: int = 16, sample: bool = True) -> list[str]:
    """Answers to already-formatted prompts (left padding, seeded sampling)."""
    model.eval()
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    torch.manual_seed(seed)
    out: list[str] = []
    for i in range(0, len(prompts), batch_size):
        enc = tokenizer(list(prompts[i : i + batch_size]), return_tensors="pt", padding=True,
                        add_special_tokens=False)
        kw = dict(do_sample=True, temperature=0.8, top_p=0.95) if sample else dict(do_sample=False)
        gen = model.generate(**enc, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                             repetition_penalty=1.2, **kw)
        for row in gen[:, enc["input_ids"].shape[1]:]:
            out.append(tokenizer.decode(row, skip_special_tokens=True).strip())
    return out


def load(path: Path):
    """(model, tokenizer) from a zoo folder, float32, eval mode."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.eval()
    return model, tok


def save(model, tokenizer, path: Path) -> None:
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())
