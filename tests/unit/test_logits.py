"""The next-token channel's comparison on hand-made distributions (pure, milliseconds)."""

from __future__ import annotations

import numpy as np

from lineage.core.channels.logits import LogitsProfile, compare_logits


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


def _mistaken(truth: list[str], guesses: list[str], tokenizer: str = "t") -> LogitsProfile:
    """A profile whose top-1 guesses are ``guesses`` on a text whose next tokens are ``truth``."""
    from lineage.core.channels.logits import top1_correct

    n = len(truth)
    p = profile(np.zeros((n, 5)), tokenizer=tokenizer, texts=guesses)
    paragraph = "".join(truth)
    p.char_end = np.cumsum([0] + [len(t) for t in truth[:-1]])
    p.top1_correct = top1_correct(guesses, p.segment, p.char_end, [paragraph])
    return p


def test_shared_mistakes_separate_a_copy_from_an_equally_good_stranger():
    rng = np.random.default_rng(1)
    vocab = [f" t{i:02d}" for i in range(40)]
    truth = [vocab[i] for i in rng.integers(0, 40, 400)]

    def guess(right: float, wrong_from=None):
        out = []
        for k, t in enumerate(truth):
            if rng.random() < right:
                out.append(t)
            elif wrong_from is not None and rng.random() < 0.8:
                out.append(wrong_from[k])
            else:
                out.append(vocab[rng.integers(0, 40)])
        return out

    parent = guess(0.4)
    child = guess(0.4, wrong_from=parent)  # as accurate, and where wrong mostly wrong the parent's way
    stranger = guess(0.4)  # as accurate, wrong its own way
    p, c, s = _mistaken(truth, parent), _mistaken(truth, child), _mistaken(truth, stranger)
    assert p.top1_correct.mean() == np.mean([g == t for g, t in zip(parent, truth)])
    related, independent = compare_logits(p, c), compare_logits(p, s)
    # top-1 agreement hardly tells them apart; the shared mistakes do
    assert related.shared_errors > 0.4 > 0.1 > independent.shared_errors
    assert related.n_both_wrong >= 30 and related.test_distance == 1 - related.shared_errors


def test_the_next_token_null_leaves_known_relations_out():
    from lineage.core.channels.logits import fit_logits_null

    rng = np.random.default_rng(2)
    vocab = [f" t{i:02d}" for i in range(40)]
    truth = [vocab[i] for i in rng.integers(0, 40, 300)]
    base = [vocab[i] for i in rng.integers(0, 40, 300)]
    copies = [_mistaken(truth, [b if rng.random() < 0.9 else vocab[rng.integers(0, 40)] for b in base])
              for _ in range(3)]
    strangers = [_mistaken(truth, [vocab[i] for i in rng.integers(0, 40, 300)]) for _ in range(5)]
    profiles = copies + strangers + [None]
    with_copies = fit_logits_null(profiles)
    known = {(0, 1), (0, 2), (1, 2)}
    without = fit_logits_null(profiles, exclude_pairs=known)
    assert without.n_pairs == with_copies.n_pairs - 3  # the profile-less model takes no part
    assert without.sample.min() > with_copies.sample.min()  # the copies' shared mistakes are not "unrelated"
    assert fit_logits_null([None, copies[0], None]) is None
