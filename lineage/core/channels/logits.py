"""Next-token evidence of heritage: teacher-forced distributions on one fixed text, compared.

Every model reads the same shipped text (``lineage/data/logits_text.txt``), one paragraph
at a time, and at every position keeps its top-``k`` next tokens with their log-probabilities.
Two models that share a tokenizer see the same positions, and their distributions are
compared by Jensen-Shannon divergence (base 2, in [0, 1]) over the union of their top-``k``
tokens, each model's remaining mass pooled in one "other" bucket. Models with different
tokenizers see different positions; where both tokenisations place a boundary at the same
character of the same paragraph, their most likely next tokens are compared as text (they
agree when one decoded token starts with the other), giving a top-1 agreement.

A quantised copy is almost indistinguishable from its parent here, an adapter or a
light fine-tune a little further, a grandchild further still. Those distances *rank*
candidates (:mod:`lineage.core.infer.combine`).

The channel's *test* is about mistakes, not agreement. Two good models agree on
predictable text whether related or not, so top-1 agreement mostly measures quality.
Where both models' top-1 token is wrong (it is not how the text goes on), related models
still make the *same* mistake, and independent ones rarely do: the "shared mistakes" rate
(error consistency, as in Geirhos et al. 2020, at the level of the wrong token). On the
smol zoo every derived pair shares 33-99% of its mistakes and every independent pair
3-19% (the 19% are two tiny models trained on the same text). The p-value comes from the
population's unrelated pairs (:func:`fit_logits_null`), as the DNA's does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class LogitsProfile:
    """One model's next-token distributions on the fixed text.

    Attributes
    ----------
    tokenizer : str
        Hash of the token stream the model produced for the text (equal streams: same positions).
    topk_ids : ndarray of shape (n_positions, k), int
    topk_logp : ndarray of shape (n_positions, k), float
    segment : ndarray of shape (n_positions,), int
        Paragraph of each position.
    char_end : ndarray of shape (n_positions,), int
        Characters of the paragraph read before the prediction.
    top1_text : list of str, length n_positions
        The most likely next token, decoded.
    """

    tokenizer: str
    topk_ids: np.ndarray
    topk_logp: np.ndarray
    segment: np.ndarray
    char_end: np.ndarray
    top1_text: list[str]
    key: str | None = None  # the cache key it is stored under (set by the adapter)
    top1_correct: np.ndarray | None = None  # (n_positions,) bool: the top-1 token is how the text goes on


@dataclass(frozen=True)
class LogitsComparison:
    applicable: bool
    mode: str = ""  # "jsd" (shared tokenizer) or "top1" (text agreement)
    distance: float = float("nan")  # mean JSD, or 1 - top-1 agreement
    agreement: float = float("nan")  # top-1 agreement
    n_positions: int = 0
    shared_errors: float = float("nan")  # of the positions where both are wrong, the share with the same wrong token
    n_both_wrong: int = 0
    p_value: float = float("nan")  # from the population's null (set by the caller), NaN when untested

    @property
    def test_distance(self) -> float:
        """``1 - shared_errors``: what :func:`fit_logits_null`'s null is a distribution of."""
        return 1.0 - self.shared_errors


def _jsd_rows(ia, la, ib, lb) -> np.ndarray:
    out = np.empty(ia.shape[0])
    for r in range(ia.shape[0]):
        pa = dict(zip(ia[r].tolist(), np.exp(la[r]).tolist()))
        pb = dict(zip(ib[r].tolist(), np.exp(lb[r]).tolist()))
        keys = sorted(set(pa) | set(pb))
        P = np.array([pa.get(k, 0.0) for k in keys] + [max(0.0, 1.0 - sum(pa.values()))])
        Q = np.array([pb.get(k, 0.0) for k in keys] + [max(0.0, 1.0 - sum(pb.values()))])
        P, Q = P / P.sum(), Q / Q.sum()
        M = 0.5 * (P + Q)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl_p = np.where(P > 0, P * np.log2(P / M), 0.0).sum()
            kl_q = np.where(Q > 0, Q * np.log2(Q / M), 0.0).sum()
        out[r] = 0.5 * (kl_p + kl_q)
    return out


def _norm(tok: str) -> str:
    return tok.replace("Ġ", " ").replace("▁", " ").replace("Ċ", "\n")


def compare_logits(a: LogitsProfile, b: LogitsProfile) -> LogitsComparison:
    """Compare two models' next-token distributions (see the module docstring)."""
    hits, n, both_wrong, same_wrong = _aligned_top1(a, b)
    errors = dict(shared_errors=same_wrong / both_wrong if both_wrong >= MIN_BOTH_WRONG else float("nan"),
                  n_both_wrong=both_wrong)
    if a.tokenizer == b.tokenizer and a.topk_ids.shape[0] == b.topk_ids.shape[0]:
        j = _jsd_rows(a.topk_ids, a.topk_logp, b.topk_ids, b.topk_logp)
        agree = float(np.mean(a.topk_ids[:, 0] == b.topk_ids[:, 0]))
        return LogitsComparison(True, "jsd", float(np.mean(j)), agree, int(j.size), **errors)
    if n < 20:
        return LogitsComparison(False)
    return LogitsComparison(True, "top1", 1.0 - hits / n, hits / n, n, **errors)


MIN_BOTH_WRONG = 30  # fewer common mistakes than this: no test


def _aligned_top1(a: LogitsProfile, b: LogitsProfile) -> tuple[int, int, int, int]:
    """At the character boundaries both tokenisations share: (top-1 agreements, positions,
    positions where both are wrong, of those where both give the same wrong token)."""
    pos_b = {(int(s), int(c)): i for i, (s, c) in enumerate(zip(b.segment, b.char_end))}
    hits = n = both_wrong = same_wrong = 0
    known = a.top1_correct is not None and b.top1_correct is not None
    for i, (s, c) in enumerate(zip(a.segment, a.char_end)):
        jb = pos_b.get((int(s), int(c)))
        if jb is None:
            continue
        ta, tb = _norm(a.top1_text[i]), _norm(b.top1_text[jb])
        if not ta or not tb:
            continue
        n += 1
        same = ta.startswith(tb) or tb.startswith(ta)
        hits += same
        if known and not a.top1_correct[i] and not b.top1_correct[jb]:
            both_wrong += 1
            same_wrong += ta == tb
    return hits, n, both_wrong, same_wrong


def top1_correct(top1_text: list[str], segment: np.ndarray, char_end: np.ndarray, paragraphs: list[str]) -> np.ndarray:
    """Whether each position's top-1 token is how the text goes on (its decoded text starts
    the rest of the paragraph)."""
    out = np.zeros(len(top1_text), dtype=bool)
    for i, (tok, s, c) in enumerate(zip(top1_text, segment.tolist(), char_end.tolist())):
        t = _norm(tok)
        out[i] = bool(t.strip()) and paragraphs[s][c:].startswith(t)
    return out


def fit_logits_null(profiles, *, families=None, exclude_pairs=None, max_pairs: int = 2000, random_state: int = 0):
    """The null of :attr:`LogitsComparison.test_distance` over the population's pairs taken as
    unrelated, chosen as the DNA's are (:func:`lineage.core.channels.relatedness.null_pairs`), among
    the models that have a profile. None when fewer than 10 such pairs can be compared."""
    from lineage.core.channels.relatedness import null_from_sample, null_pairs

    have = [i for i, p in enumerate(profiles) if p is not None and p.top1_correct is not None]
    if len(have) < 3:
        return None
    local = {g: k for k, g in enumerate(have)}
    fam = [families[g] for g in have] if families is not None else None
    ex = {(local[a], local[b]) for a, b in (exclude_pairs or ()) if a in local and b in local}
    i, j, source = null_pairs(len(have), families=fam, exclude_pairs=ex, max_pairs=max_pairs, min_pairs=10,
                              random_state=random_state)
    d = [compare_logits(profiles[have[a]], profiles[have[b]]).test_distance for a, b in zip(i.tolist(), j.tolist())]
    d = [x for x in d if x == x]
    if len(d) < 10:
        return None
    return null_from_sample(d, source=source, metric="shared-mistakes")
