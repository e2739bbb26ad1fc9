"""The next-token channel's comparison on hand-made distributions (pure, milliseconds)."""

from __future__ import annotations

import numpy as np

from lineage.core.logits import LogitsProfile, compare_logits


def profile(logits: np.ndarray, tokenizer: str = "t", texts=None, k: int = 4) -> LogitsProfile:
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    ids = np.argsort(-logp, axis=1)[:, :k]
    n = logits.shape[0]
    return LogitsProfile(tokenizer=tokenizer, topk_ids=ids, topk_logp=np.take_along_axis(logp, ids, axis=1),
                         segment=np.zeros(n, dtype=int), char_end=np.arange(n) * 3,
                         top1_text=texts if texts is not None else [f"w{i}" for i in ids[:, 0]])


def test_self_copy_and_stranger_by_jsd():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((200, 50)) * 3
    a = profile(base)
    copy = profile(base + rng.standard_normal(base.shape) * 0.05)  # a quantised copy: tiny noise
    child = profile(base + rng.standard_normal(base.shape) * 0.8)  # a fine-tune
    stranger = profile(rng.standard_normal((200, 50)) * 3)
    d = {name: compare_logits(a, p).distance for name, p in
         (("self", a), ("copy", copy), ("child", child), ("stranger", stranger))}
    assert d["self"] == 0.0
    assert d["copy"] < d["child"] < d["stranger"]
    assert compare_logits(a, child).mode == "jsd"


def test_other_tokenizers_compare_top1_text_at_shared_boundaries():
    n = 60
    texts = [f" word{i % 7}" for i in range(n)]
    a = profile(np.zeros((n, 5)), tokenizer="x", texts=texts)
    same_taste = profile(np.ones((n, 5)), tokenizer="y", texts=[t[:3] for t in texts])  # shorter tokens, same words
    other = profile(np.ones((n, 5)), tokenizer="y", texts=[" zz"] * n)
    assert compare_logits(a, same_taste).agreement == 1.0 and compare_logits(a, same_taste).mode == "top1"
    assert compare_logits(a, other).agreement == 0.0
    few = profile(np.zeros((5, 5)), tokenizer="z", texts=texts[:5])
    assert not compare_logits(a, few).applicable  # too few shared positions to say anything
