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
light fine-tune a little further, a grandchild further still; a distilled student shares
its teacher's favourite next tokens far more often than an unrelated model does. The
channel gives a distance, not a calibrated p-value: :mod:`lineage.core.evidence` uses it to
confirm and rank candidates the behaviour (DNA) already finds related, where no weights
can be compared.
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


@dataclass(frozen=True)
class LogitsComparison:
    applicable: bool
    mode: str = ""  # "jsd" (shared tokenizer) or "top1" (text agreement)
    distance: float = float("nan")  # mean JSD, or 1 - top-1 agreement
    agreement: float = float("nan")  # top-1 agreement
    n_positions: int = 0


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
    if a.tokenizer == b.tokenizer and a.topk_ids.shape[0] == b.topk_ids.shape[0]:
        j = _jsd_rows(a.topk_ids, a.topk_logp, b.topk_ids, b.topk_logp)
        agree = float(np.mean(a.topk_ids[:, 0] == b.topk_ids[:, 0]))
        return LogitsComparison(True, "jsd", float(np.mean(j)), agree, int(j.size))
    pos_b = {(int(s), int(c)): i for i, (s, c) in enumerate(zip(b.segment, b.char_end))}
    hits = n = 0
    for i, (s, c) in enumerate(zip(a.segment, a.char_end)):
        jb = pos_b.get((int(s), int(c)))
        if jb is None:
            continue
        ta, tb = _norm(a.top1_text[i]), _norm(b.top1_text[jb])
        if not ta or not tb:
            continue
        n += 1
        hits += ta.startswith(tb) or tb.startswith(ta)
    if n < 20:
        return LogitsComparison(False)
    return LogitsComparison(True, "top1", 1.0 - hits / n, hits / n, n)
