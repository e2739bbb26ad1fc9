"""Lineage from all the evidence present: the DNA for every model, the weights where they are open.

Per pair, the *strongest channel that applies* decides:

* ``weights``: both models have weight profiles with matrices of one role and shape
  (same architecture family and widths; depth may differ). Its test
  (:func:`lineage.core.channels.weights.compare_weights`) needs no population null and its
  distance (relative weight difference) separates a parent from a grandparent, a
  sibling or an aunt far better than behaviour does;
* ``dna``: otherwise (other architectures, API-only models, precomputed DNAs): the
  DNA distance against the population's null of unrelated pairs. Where both models were
  also read by the next-token channel (:mod:`lineage.core.channels.logits`), the pair must pass
  its shared-mistakes test too (the larger p-value counts: an intersection-union test),
  and its distance ranks the candidates, and its shared mistakes must also beat every
  reference model's (:func:`_distinctive`). Two open-weight models with different
  vocabularies and unrelated weights are never related by behaviour alone (below).

Parents: a minimum spanning arborescence (Edmonds, as in :mod:`lineage.core.infer.parents`)
over candidate edges ``p -> c`` of related pairs, with costs on one scale:
``weights`` edges cost their relative weight distance (below 1), ``dna`` edges cost
``1 + d / d_fpr`` (1 to 2 for related pairs), and "no parent" costs 2, so an edge the
weights support always beats one only the behaviour supports. Direction:

1. release dates: a parent never postdates its child;
2. where dates are missing or equal, structure: a quantised copy is the child of the
   full-precision model it matches, a depth-pruned model the child of the deeper one,
   a merge the child of the models it fits; then weight kurtosis (MoTHer: fine-tuning
   lowers the kurtosis of attention output projections, so an edge into the
   higher-kurtosis model is refused);
3. structural priors (Model Atlas): quantised models and merges are leaves: never parents.

Two open-weight models that share neither weights nor tokenizer are never related by
behaviour alone. Behaviour cannot tell a student trained on a teacher's outputs from an
independent model trained on the same data as the teacher: on the smol zoo, two labs'
bases trained on the same documentation share 19% of their mistakes (next-token p = 3e-5)
and their DNAs sit at p = 1e-4, and the relative test cannot object when the only other
model of that data is a copy of the candidate (which it must leave out: a teacher's
copies share the teacher's mistakes). Every behaviour-only link between two such models
that this module drew on the smol zoo was false (``zoo-llama-system <- zoo-gpt2-text``
before the next-token test, ``zoo-gpt2-system <- zoo-llama-system-int8`` after the zoo
gained a second lab trained on that data). In practice such a model is a new base:
distillation into a foreign vocabulary starts from a pretrained base (whose weights then
give the parent), and logit-level distillation needs the teacher's tokenizer, so a
behaviour-only pair that shares a tokenizer still gets a ``distillation`` parent edge.
Models whose weights are not open (endpoints, precomputed DNAs) are related by behaviour:
where both were read by the next-token channel, the pair must pass the DNA test, the
shared-mistakes test and the relative test (:func:`_distinctive`).

Merges are found before the arborescence: a model whose weights fit
``t W_A + (1 - t) W_B`` of two earlier related models with a small residual gets both
as parents. Every chosen edge carries the evidence it rests on and a derivation kind:
``quantized`` (few distinct values per weight group), ``pruned`` (fewer layers or MLP
units), ``upscaled`` (more layers, some repeating others), ``vocab`` (other tokenizer and
embedding rows, same layers), ``permuted`` (related only by the weights' matched test:
units or residual basis reordered), ``adapter`` (low-rank weight difference), ``merge``,
``finetune`` (other shared-weight edges), ``distillation`` (behaviour related, weights open
on both sides but unrelated, one tokenizer) or ``unknown`` (behaviour only, weights not
available). An edge that only the matched test supports costs 0.9 to 0.99 (by the matched
units' distance), so it never displaces an edge the direct test supports closely.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
from scipy import stats

from lineage.core.measure.distances import Metric, pair_distances
from lineage.core.infer.parents import InferredParent, min_arborescence
from lineage.core.infer.rows import Conflict
from lineage.core.infer.selection import Correction, holm_by_member, local_test, reference_sample
from lineage.core.channels.relatedness import NullDistribution
from lineage.core.channels.weights import (EMBEDDING_ROLE, SKETCH_RANK, WeightComparison, WeightProfile,
                                           compare_weights, difference_rank, merge_fit)

NO_PARENT_COST = 2.0
KINDS = ("finetune", "adapter", "quantized", "pruned", "upscaled", "vocab", "permuted", "merge", "distillation",
         "unknown")
# a merge fit must explain the child this much better than its nearest single model
MERGE_MAX_RESIDUAL = 0.35
# "declared parent is not the direct parent": another candidate explains the child this much better
CONFLICT_RATIO = 0.8
# references of the next-token relative test beyond the DNA neighbours (see _distinctive)
MAX_REFERENCES = 200


@dataclass(frozen=True)
class PairEvidence:
    """What one channel says about a pair."""

    channel: str
    distance: float
    p_value: float
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """JSON-ready (NaN becomes None)."""
        clean = lambda v: None if isinstance(v, float) and v != v else v  # noqa: E731
        return {k: clean(v) for k, v in
                {"channel": self.channel, "distance": self.distance, "p_value": self.p_value, **self.detail}.items()}


@dataclass
class PairTable:
    """Per-pair evidence for the pairs that were examined (keys ``(i, j)`` with ``i < j``)."""

    dna: dict[tuple[int, int], PairEvidence] = field(default_factory=dict)
    weights: dict[tuple[int, int], WeightComparison] = field(default_factory=dict)
    logits: dict[tuple[int, int], object] = field(default_factory=dict)  # LogitsComparison

    def logits_evidence(self, i: int, j: int) -> PairEvidence | None:
        c = self.logits.get((min(i, j), max(i, j)))
        if c is None or not c.applicable:
            return None
        detail = {"mode": c.mode, "top1_agreement": round(float(c.agreement), 4), "n_positions": c.n_positions}
        if c.shared_errors == c.shared_errors:
            detail.update(shared_mistakes=round(float(c.shared_errors), 4), n_both_wrong=c.n_both_wrong)
        return PairEvidence("logits", float(c.distance), float(c.p_value), detail)

    def strongest(self, i: int, j: int) -> PairEvidence | None:
        key = (min(i, j), max(i, j))
        w = self.weights.get(key)
        if w is not None and w.applicable:
            detail = {"cosine": round(w.cosine, 6), "n_matched": w.n_matched,
                      "layer_map": list(w.layer_map) if w.layer_map else None}
            if w.p_matched is not None:  # the matched (permutation-invariant) test ran too
                detail.update(matched=w.matched, p_direct=w.p_direct, p_matched=w.p_matched,
                              matched_cosine=None if w.matched_cosine is None else round(w.matched_cosine, 6))
            return PairEvidence("weights", w.distance, w.p_value, detail)
        return self.dna.get(key)

    def all(self, i: int, j: int) -> tuple[PairEvidence, ...]:
        key = (min(i, j), max(i, j))
        out = []
        w = self.weights.get(key)
        if w is not None and w.applicable:
            out.append(self.strongest(i, j))
        lg = self.logits_evidence(i, j)
        if lg is not None:
            out.append(lg)
        if key in self.dna:
            out.append(self.dna[key])
        return tuple(out)


def _weight_groups(profiles: Sequence[WeightProfile | None]) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = {}
    for i, p in enumerate(profiles):
        if p is not None:
            groups.setdefault((p.signature.get("hidden_size"),), []).append(i)
    return groups


def pair_table(
    X: np.ndarray,
    null: NullDistribution,
    profiles: Sequence[WeightProfile | None],
    nn_indices: np.ndarray,
    *,
    metric: Metric = "euclidean",
    max_group: int = 300,
) -> PairTable:
    """DNA and weights evidence for the pairs worth examining: DNA neighbours, and all pairs
    of models whose weights could be compared (same width), up to ``max_group`` models a
    group (beyond that only DNA neighbours are compared by weights too). Next-token
    evidence is added by :func:`_add_logits` once the weights have said which pairs are
    related (its null leaves those out)."""
    n = X.shape[0]
    pairs: set[tuple[int, int]] = set()
    for i in range(n):
        for j in np.asarray(nn_indices[i]).tolist():
            if i != j:
                pairs.add((min(i, j), max(i, j)))
    for members in _weight_groups(profiles).values():
        if len(members) <= max_group:
            pairs.update((a, b) for ai, a in enumerate(members) for b in members[ai + 1:])
    table = PairTable()
    if pairs:
        arr = np.array(sorted(pairs))
        d = pair_distances(X, arr[:, 0], arr[:, 1], metric=metric)
        p = null.p_value(d)
        for (a, b), dist, pv in zip(arr.tolist(), d.tolist(), p.tolist()):
            table.dna[(a, b)] = PairEvidence("dna", float(dist), float(pv))
    for a, b in sorted(pairs):
        if profiles[a] is not None and profiles[b] is not None:
            table.weights[(a, b)] = compare_weights(profiles[a], profiles[b])
    return table


def _add_logits(table: PairTable, logits: Sequence[object | None], logits_null: NullDistribution | None) -> None:
    """Next-token comparisons (with the test's p-value when ``logits_null`` is given) for the
    table's pairs that both models' profiles cover and the weights cannot judge."""
    from lineage.core.channels.logits import compare_logits

    for a, b in sorted(table.dna):
        w = table.weights.get((a, b))
        if logits[a] is not None and logits[b] is not None and not (w is not None and w.applicable):
            c = compare_logits(logits[a], logits[b])
            if logits_null is not None and c.applicable and c.shared_errors == c.shared_errors:
                c = replace(c, p_value=float(logits_null.p_value(np.array([c.test_distance]))[0]))
            table.logits[(a, b)] = c


def _distinctive(a: int, b: int, table: PairTable, logits, nn_indices: np.ndarray, fpr: float,
                 weight_related: set[tuple[int, int]]) -> bool:
    """Does one of the pair share its mistakes with the other significantly more often than
    with any of its other behavioural neighbours (references)?

    The relative test of black-box provenance testing (Nikolic et al. 2025): a model
    whose behaviour resembles a candidate's only as much as it resembles unrelated models
    of its kind (same training text, same size) is not evidence of descent. References
    are the other models with a next-token profile (its DNA neighbours and, in large
    populations, a seeded sample of ``MAX_REFERENCES``), leaving out models the weights
    relate to either side (``weight_related``: index pairs the weights call related); each
    must lose a one-sided two-proportion z-test at ``fpr``. (DNA neighbours alone are not enough: on the smol zoo an independent model of the
    same size and training text was not among them and the test passed wrongly.)
    """
    from lineage.core.channels.logits import compare_logits

    rel = {y for k in weight_related if a in k or b in k for y in k}
    pair = table.logits.get((min(a, b), max(a, b)))
    if pair is None or pair.shared_errors != pair.shared_errors:
        return True  # too few common mistakes to test (or no profile): the DNA decides alone, as without the channel
    n = len(logits)
    sample = list(range(n)) if n <= MAX_REFERENCES else \
        np.random.default_rng(a * n + b).choice(n, MAX_REFERENCES, replace=False).tolist()
    for x, y in ((a, b), (b, a)):
        ok = True
        for c in dict.fromkeys(np.asarray(nn_indices[x]).tolist() + sample):
            if c in (x, y) or c in rel or logits[c] is None:
                continue
            ref = table.logits.get((min(x, c), max(x, c))) or compare_logits(logits[x], logits[c])
            if not ref.n_both_wrong or ref.shared_errors != ref.shared_errors:
                continue
            n1, n2 = pair.n_both_wrong, ref.n_both_wrong
            p1, p2 = pair.shared_errors, ref.shared_errors
            pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
            se = np.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n1 + 1 / n2))
            if stats.norm.sf((p1 - p2) / se) > fpr:
                ok = False
                break
        if ok:
            return True
    return False


def foreign_vocabularies(a: WeightProfile | None, b: WeightProfile | None) -> bool:
    """Both models' weights were read and their vocabularies differ."""
    if a is None or b is None:
        return False
    ta, tb = a.signature.get("tokenizer"), b.signature.get("tokenizer")
    return ta is not None and tb is not None and ta != tb


def _quant_bits(p: WeightProfile | None) -> int | None:
    return p.quantized_bits if p is not None else None


def _structure(p: int, c: int, profiles, pe: PairEvidence | None) -> bool | None:
    """Direction the weights' structure decides for ``p -> c``: True (p is the parent), False
    (c is), or None when structure is silent (no weights evidence, or nothing decisive).

    Quantisation is decisive (a quantised copy is a child of the full-precision model it
    matches: 99.41% of quantised models on the Hub are leaves, Model Atlas), and so is a
    change of depth between weight-related models (pruning removes layers, depth
    up-scaling duplicates them: either way the *edited* model is the child). The deeper
    model is the up-scaled child when it repeats its own layers
    (:meth:`~lineage.core.channels.weights.WeightProfile.duplicated_layers`), else the
    shallower one is the pruned child."""
    pp, pc = profiles[p], profiles[c]
    if pp is None or pc is None or pe is None or pe.channel != "weights":
        return None
    qp, qc = _quant_bits(pp), _quant_bits(pc)
    if (qp is None) != (qc is None):
        if _made_from_release(pe.distance, qp if qp is not None else qc):
            return qp is not None  # the full-precision one was made from the quantised release
        return qp is None  # a quantised copy: the full-precision one is the parent
    wp, wc = (next(iter(x.units.values())).shape[0] if x.units else None for x in (pp, pc))
    if wp is not None and wc is not None and wp != wc and pp.n_layers == pc.n_layers:
        return wp > wc  # width pruning removes MLP units: the narrower one is the child
    if pp.n_layers != pc.n_layers:
        deeper = pp if pp.n_layers > pc.n_layers else pc
        if deeper.duplicated_layers() > 0:  # up-scaled: the deeper one repeats layers, it is the child
            return pp.n_layers < pc.n_layers
        return pp.n_layers > pc.n_layers  # pruned: the shallower one is the child
    return None


def _may_descend(p: int, c: int, dates, profiles, pe: PairEvidence | None) -> bool:
    """May ``p`` be the parent of ``c`` (direction only)?

    Structure first when it is decisive (:func:`_structure`): upload dates are not release
    dates (a re-upload or conversion can carry an earlier date than its source), and a
    quantised copy is a child whatever its date. Then release dates when both are known
    and differ. An undated model is never made the parent of a dated one on date grounds.
    Last, for weight-related pairs, kurtosis (MoTHer: fine-tuning lowers the kurtosis of
    attention output projections)."""
    s = _structure(p, c, profiles, pe)
    if s is not None:
        return s
    dp, dc = dates[p], dates[c]
    if dp is not None and dc is not None and dp != dc:
        return dp < dc
    if dp is None and dc is not None:
        return False
    pp, pc = profiles[p], profiles[c]
    if pp is None or pc is None or pe is None or pe.channel != "weights":
        return True
    kp, kc = pp.stats.get("kurtosis"), pc.stats.get("kurtosis")
    if kp is not None and kc is not None and kp != kc:
        return kp > kc
    return True


def _made_from_release(distance: float, bits: int) -> bool:
    """Is a full-precision model this close to a ``bits``-bit quantised one only because it was
    made from the quantised release's dequantised weights?

    A quantised *copy* differs from its source by the quantisation's own rounding: with one
    absmax scale per group, about ``0.4-0.7 / qmax`` of the weights' norm (measured: 0.095 for
    the smol zoo's 4-bit copy, 0.0033 for its int8 copy). A model fine-tuned from the
    dequantised release differs by its training only (0.0003-0.0006 for the smol zoo's
    fine-tunes of the Q4_1 SmolLM2 release). Below ``0.2 / qmax`` no rounding can explain the
    gap, so the quantised model is the source: many models are published as GGUF or int4
    first, and dates cannot tell this case from a copy uploaded early.
    """
    qmax = 2 ** (max(int(bits), 2) - 1) - 1
    return distance < 0.2 / qmax


def _leaf_prior(c: int, options: list, profiles, table: PairTable, fpr: float) -> list:
    """Quantised models are leaves (Model Atlas: 99.41% of quantised models on the Hub are): a
    quantised candidate ``q`` is dropped when the child also has a full-precision candidate
    that ``q`` is a copy of (weight-related, and farther than a model made from ``q``'s
    dequantised weights would be: :func:`_made_from_release`). The child then descends from
    the source, not from a lossy copy of it. A quantised release that full-precision models
    were made from stays a possible parent, of its copies too.
    """
    out = []
    for e in options:
        q = e[1]
        bits = _quant_bits(profiles[q])
        if bits is not None and not (e[2].channel == "weights" and _made_from_release(e[2].distance, bits)):
            copied = False
            for _, f, _ in options:
                if profiles[f] is None or _quant_bits(profiles[f]) is not None:
                    continue
                w = table.weights.get((min(q, f), max(q, f)))
                if w is not None and w.applicable and w.p_value <= fpr and not _made_from_release(w.distance, bits):
                    copied = True
                    break
            if copied:
                continue
        out.append(e)
    return out


def _adjusted(pe: PairEvidence, p_adj: float) -> PairEvidence:
    """``pe`` with its selection-adjusted p-value (the per-pair one kept as ``pair_p_value``)."""
    return PairEvidence(pe.channel, pe.distance, float(p_adj), {**pe.detail, "pair_p_value": pe.p_value})



def _edge_cost(pe: PairEvidence, thr: float, lg: PairEvidence | None = None) -> float:
    """Weights edges cost their relative weight distance (< 1); behaviour-only edges cost
    1 + the next-token distance when both models were read (JSD or top-1 disagreement, in
    [0, 1]), else 1 + the DNA distance over the DNA's related threshold."""
    if pe.channel == "weights":
        if pe.detail.get("matched"):
            # only the matched test relates them (units or basis reordered): after every edge the
            # direct test supports closely, ranked among such edges by the matched units' distance
            return 0.9 + 0.09 * min(1.0, max(pe.distance, 0.0))
        return min(0.99, max(pe.distance, 0.0))
    if lg is not None:
        return 1.0 + min(0.999, lg.distance)
    return 1.0 + min(0.999, pe.distance / thr)


def _embedding_rows(prof: WeightProfile) -> int | None:
    for (role, layer), shape in prof.shapes.items():
        if layer is None and EMBEDDING_ROLE.search(role):
            return int(shape[0])
    return None


def _kind(p: int, c: int, pe: PairEvidence, profiles, fpr: float = 0.01) -> str:
    """The derivation kind of a chosen edge ``p -> c`` (see the module docstring), from structure
    first: ``permuted`` when only the matched test relates the pair (the direct test at ``fpr``
    does not, the matched one does at ``fpr / 2``, its Bonferroni share), ``quantized``,
    ``vocab`` (the tokenizers differ and so do the embeddings' row counts, while the layers
    match), ``upscaled``, ``pruned`` (fewer layers, fewer MLP units, or more exact zeros),
    ``adapter`` (low-rank difference), else ``finetune``."""
    pp, pc = profiles[p], profiles[c]
    if pe.channel != "weights":
        return "distillation" if pp is not None and pc is not None else "unknown"
    d = pe.detail
    if d.get("matched") and d.get("p_matched", 1.0) <= fpr / 2 and (d.get("p_direct") is None or d["p_direct"] > fpr):
        return "permuted"
    qc, qp = _quant_bits(pc), _quant_bits(pp)
    if qc is not None and (qp is None or qc < qp or pc.stats["distinct_per_group"] < pp.stats["distinct_per_group"]):
        return "quantized"
    ep, ec = _embedding_rows(pp), _embedding_rows(pc)
    if foreign_vocabularies(pp, pc) and ep is not None and ec is not None and ep != ec:
        return "vocab"
    if pc.n_layers > pp.n_layers and pc.duplicated_layers() > 0:
        return "upscaled"
    up, uc = (next(iter(x.units.values())).shape[0] if x.units else None for x in (pp, pc))
    if (pc.n_layers < pp.n_layers or (pc.stats.get("zero_fraction", 0) > pp.stats.get("zero_fraction", 0) + 0.05)
            or (up is not None and uc is not None and uc < up)):
        return "pruned"
    r = difference_rank(pc, pp)
    if r is not None and r <= SKETCH_RANK // 2:
        return "adapter"
    return "finetune"


@dataclass
class EvidenceResult:
    parents: list[InferredParent]
    related: list[tuple[int, int, PairEvidence]]
    table: PairTable
    merges: dict[int, tuple[int, int, float, float]]


def infer_with_evidence(
    ids: Sequence[str],
    X: np.ndarray,
    null: NullDistribution,
    profiles: Sequence[WeightProfile | None],
    nn_indices: np.ndarray,
    *,
    release_dates: Sequence[dt.date | None] | None = None,
    declared_parents: Sequence[Sequence[str]] | None = None,
    fpr: float = 0.01,
    declared_bonus: float = 0.15,
    metric: Metric = "euclidean",
    refine=None,
    refine_margin: float = 0.10,
    refine_max: int = 8,
    logits: Sequence[object | None] | None = None,
    families: Sequence[str | None] | None = None,
    correction: Correction = "holm",
    n_total: int | None = None,
    sample: np.ndarray | None = None,
) -> EvidenceResult:
    """Parents (with kinds and evidence) and related pairs from DNA and weights.

    Parameters
    ----------
    ids : sequence of str, length n_models
    X : ndarray of shape (n_models, n_dims)
        DNAs.
    null : NullDistribution
        Of DNA distances between unrelated models.
    profiles : sequence of WeightProfile or None, length n_models
    nn_indices : ndarray of shape (n_models, k)
        DNA nearest neighbours (the DNA candidates).
    release_dates : sequence of date or None, optional
    declared_parents : sequence of list of str, optional
        Metadata; a plausible declared edge costs ``1 - declared_bonus`` of its cost.
    fpr : float
        Per-pair false-positive rate of "related", in every channel.
    refine : callable ``(parent_index, child_index) -> float or None``, optional
        The exact relative weight distance of a pair (an adapter reads both models'
        tensors). Sketch distances estimate the difference well, but when a large
        common difference (quantisation noise) hides small ones, candidates within
        ``refine_margin`` of a child's best weights cost (at most ``refine_max``) are
        re-measured exactly. All of them: the sketch's estimate differs from the exact
        value by more than such near-ties, so exact and sketched costs must not be mixed
        among close candidates.
    logits : sequence of LogitsProfile or None, optional
        Next-token profiles (:mod:`lineage.core.channels.logits`).
        A pair that only behaviour relates and that both behavioural channels can judge
        must be related by *both*: the intersection-union test, whose p-value is the larger
        of the two (valid at level ``fpr``; the DNA alone and the next-token test alone each
        link some independent pairs, rarely the same ones). The next-token test's null
        (:func:`lineage.core.channels.logits.fit_logits_null`) is fitted to the pairs not known to
        be related: declared pairs and pairs the weights relate are left out.
    families : sequence of str or None, optional
        Known families, for the next-token null (as for the DNA's).
    correction : {"holm", "none"}
        Selection-aware decisions (:mod:`lineage.core.infer.selection`); ``"none"`` only to
        measure the per-pair rule they replace.
    n_total, sample : optional
        As for :func:`lineage.core.infer.parents.infer_parents`.
    """
    n = len(ids)
    m_cand = (n_total if n_total is not None else n) - 1
    dates = list(release_dates) if release_dates is not None else [None] * n
    index = {m: i for i, m in enumerate(ids)}
    declared = [{index[p] for p in ps if p in index} for ps in declared_parents] if declared_parents is not None \
        else [set() for _ in range(n)]
    table = pair_table(X, null, profiles, nn_indices, metric=metric)
    thr = null.threshold(fpr)
    weight_related = {k for k, w in table.weights.items() if w.applicable and w.p_value <= fpr}
    if logits is not None:
        from lineage.core.channels.logits import fit_logits_null

        known = {(c, p) for c in range(n) for p in declared[c]}
        _add_logits(table, logits, fit_logits_null(logits, families=families, exclude_pairs=known | weight_related))

    judged: dict[tuple[int, int], PairEvidence] = {}
    for key in sorted(set(table.dna) | set(table.weights)):
        pe = table.strongest(*key)
        if pe is None:
            continue
        if pe.channel == "dna" and foreign_vocabularies(profiles[key[0]], profiles[key[1]]):
            continue  # open weights sharing neither weights nor tokenizer: never related by behaviour alone
        if pe.channel == "dna":  # the robust fit's tail: what the selection-aware correction needs
            pe = PairEvidence("dna", pe.distance, float(null.tail_p_value(pe.distance)), pe.detail)
        lg = table.logits_evidence(*key)
        if pe.channel == "dna" and lg is not None and lg.p_value == lg.p_value:
            # behaviour only, judged by both behavioural tests: related only if both say so, and
            # only if the pair's shared mistakes stand out from every reference's (relative test)
            pe = PairEvidence("dna", pe.distance, max(pe.p_value, lg.p_value),
                              {**pe.detail, "dna_p_value": pe.p_value, "logits_p_value": lg.p_value})
            if pe.p_value <= fpr and not _distinctive(*key, table, logits, nn_indices, fpr, weight_related):
                continue
        judged[key] = pe

    # selection-aware: each pair is judged in each member's family of N - 1 candidates (Holm);
    # a parent must pass in its child's family, a relation in either (lineage.core.infer.selection)
    keys = list(judged)
    raw = [judged[k].p_value for k in keys]
    adj_a, adj_b = holm_by_member(keys, raw, m_cand + 1) if correction == "holm" else (np.array(raw), np.array(raw))
    family_p: dict[tuple[int, int], float] = {}  # (member, other) -> adjusted p in member's family
    related: list[tuple[int, int, PairEvidence]] = []
    for (a, b), pa, pb in zip(keys, adj_a.tolist(), adj_b.tolist()):
        # a declared pair is a hypothesis named in advance, not a choice among N - 1: its own p counts
        if b in declared[a] or a in declared[b]:
            pa = pb = judged[(a, b)].p_value
        family_p[(a, b)], family_p[(b, a)] = pa, pb
        if min(pa, pb) <= fpr:
            related.append((a, b, _adjusted(judged[(a, b)], min(pa, pb))))
    # behaviour alone must also pass the parent's local test (no hubs: lineage.core.infer.selection)
    behaviour = [(a, b) for a, b, pe in related if pe.channel != "weights"]
    local: dict[tuple[int, int], bool] = {}
    if behaviour:
        pa = np.array([x for a, b in behaviour for x in (a, b)])
        ch = np.array([x for a, b in behaviour for x in (b, a)])
        dd = pair_distances(X, pa, ch, metric=metric)
        factor = 1.0
        if correction == "holm":  # the parent's side is a choice among N - 1 too (Bonferroni), unless declared
            named = np.array([p_ in declared[c_] for p_, c_ in zip(pa.tolist(), ch.tolist())], dtype=bool)
            factor = np.where(named, 1.0, float(m_cand))
        oks = local_test(X, pa, dd, factor, fpr, metric=metric,
                         sample=reference_sample(ids) if sample is None else sample)
        for p_, c_, ok in zip(pa.tolist(), ch.tolist(), oks.tolist()):
            local[(p_, c_)] = ok

    # candidate edges into each child
    incoming: list[list[tuple[float, int, PairEvidence]]] = [[] for _ in range(n)]
    for a, b, pe_pair in related:
        for p, c in ((a, b), (b, a)):
            if family_p[(c, p)] > fpr:
                continue  # not significant among the child's candidates
            pe = _adjusted(judged[(a, b)], family_p[(c, p)])
            if pe.channel != "weights" and not local[(p, c)]:
                continue  # as close to everyone as to this child: a hub, not a parent
            if not _may_descend(p, c, dates, profiles, pe):
                continue
            cost = _edge_cost(pe, thr, table.logits_evidence(p, c))
            if p in declared[c]:
                base = 0.0 if pe.channel == "weights" else 1.0
                cost = base + (cost - base) * (1.0 - declared_bonus)
            incoming[c].append((cost, p, pe))
    for c in range(n):
        incoming[c] = _leaf_prior(c, incoming[c], profiles, table, fpr)
    for lst in incoming:
        lst.sort(key=lambda e: (e[0], e[1]))
    if refine is not None:
        for c in range(n):
            wc = [e for e in incoming[c] if e[2].channel == "weights"]
            if len(wc) < 2:
                continue
            close = [e for e in wc if e[0] <= wc[0][0] * (1.0 + refine_margin)][:refine_max]
            if len(close) < 2:
                continue
            redone = {}
            for cost, p, pe in close:
                exact = refine(p, c)
                if exact is not None:
                    scale = cost / pe.distance if pe.distance > 0 else 1.0  # keeps a declared-edge discount
                    redone[p] = (min(0.99, exact * scale), PairEvidence(
                        "weights", float(exact), pe.p_value, {**pe.detail, "exact": True, "sketch_distance": pe.distance}))
            incoming[c] = sorted(((redone[p][0], p, redone[p][1]) if p in redone else (cost, p, pe)
                                  for cost, p, pe in incoming[c]), key=lambda e: (e[0], e[1]))

    # merges: two earlier weight-related candidates that the child's weights interpolate
    merges: dict[int, tuple[int, int, float, float]] = {}
    for c in range(n):
        cands = [p for _, p, pe in incoming[c] if pe.channel == "weights"][:5]
        best = None
        for ai, a in enumerate(cands):
            for b in cands[ai + 1:]:
                t, res = merge_fit(profiles[c], profiles[a], profiles[b])
                if np.isfinite(res) and 0.15 < t < 0.85 and res < MERGE_MAX_RESIDUAL and (best is None or res < best[3]):
                    best = (a, b, t, res)
        if best is not None:
            merges[c] = best
    merge_parents = {m for c, (a, b, _, _) in merges.items() for m in (a, b)}
    for c in range(n):  # merges are leaves (unless one is itself another merge's component)
        incoming[c] = [e for e in incoming[c] if e[1] not in merges or e[1] in merge_parents]

    src = [n] * n
    dst = list(range(n))
    cost = [NO_PARENT_COST] * n
    for c in range(n):
        if c in merges:
            src.append(merges[c][0])
            dst.append(c)
            cost.append(-1.0)  # fixed: the merge's first component
            continue
        for e in incoming[c]:
            src.append(e[1])
            dst.append(c)
            cost.append(e[0])
    src_a, dst_a, cost_a = np.array(src), np.array(dst), np.array(cost, dtype=np.float64)
    chosen = min_arborescence(n + 1, n, src_a, dst_a, cost_a)

    parents: list[InferredParent] = []
    for c in range(n):
        p = int(src_a[chosen[c]])
        if p == n:
            continue
        if c in merges:
            a, b, t, res = merges[c]
            for q in (a, b):
                pe = table.strongest(q, c)
                parents.append(InferredParent(
                    ids[c], ids[q], confidence=float(max(0.0, 1.0 - res)) * (1.0 - pe.p_value), p_value=pe.p_value,
                    distance=pe.distance, channel="weights", kind="merge",
                    evidence=table.all(q, c) + (PairEvidence("merge_fit", float(res), float("nan"),
                                                             {"t": round(t, 4), "with": ids[b if q == a else a]}),), method="evidence"))
            continue
        opts = incoming[c]
        e = next(e for e in opts if e[1] == p)
        costs = np.array([x[0] for x in opts if x[2].channel == e[2].channel] + [NO_PARENT_COST])
        # confidence: Gibbs weight among the same channel's options, temperature relative to the best cost
        if e[2].channel == "weights":
            tau = max(0.1 * max(costs.min(), 1e-6), 1e-9)
        elif table.logits_evidence(p, c) is not None:
            tau = 0.05  # next-token distances in [0, 1]: 0.05 apart is a clear preference
        else:
            tau = max(0.5 * null.scale / thr, 1e-9)
        w = np.exp(-(costs - costs.min()) / tau)
        conf = float(np.exp(-(e[0] - costs.min()) / tau) / w.sum()) * (1.0 - e[2].p_value)
        parents.append(InferredParent(ids[c], ids[p], confidence=min(1.0, max(0.0, conf)), p_value=e[2].p_value,
                                      distance=e[2].distance, channel=e[2].channel, kind=_kind(p, c, e[2], profiles, fpr),
                                      evidence=table.all(p, c), method="evidence"))
    return EvidenceResult(parents=parents, related=related, table=table, merges=merges)


def evidence_conflicts(
    ids: Sequence[str],
    result: EvidenceResult,
    declared_parents: Sequence[Sequence[str]],
    release_dates: Sequence[dt.date | None],
    profiles: Sequence[WeightProfile | None],
    X: np.ndarray,
    null: NullDistribution,
    *,
    fpr: float,
    metric: Metric = "euclidean",
) -> list[Conflict]:
    """Declared parents the strongest evidence for the pair contradicts.

    A declaration is contradicted when the parent is released after the child, when
    the pair's strongest channel finds it unrelated (``p > fpr``), or when the weights
    show another model explains the child at least ``1 / CONFLICT_RATIO`` times better
    and the declared one is not a merge component (typically a grandparent declared
    as the parent). Behaviour alone never raises the last kind: DNA near-ties are common.
    """
    index = {m: i for i, m in enumerate(ids)}
    inferred: dict[int, list[InferredParent]] = {}
    for e in result.parents:
        inferred.setdefault(index[e.child], []).append(e)
    out: list[Conflict] = []
    for c, ps in enumerate(declared_parents):
        for name in ps:
            if name not in index:
                continue
            p = index[name]
            dc, dp = release_dates[c], release_dates[p]
            pe = result.table.strongest(p, c)
            if pe is None:
                d = float(pair_distances(X, np.array([c]), np.array([p]), metric=metric)[0])
                pe = PairEvidence("dna", d, float(null.p_value(np.array([d]))[0]))
            if dc is not None and dp is not None and dp > dc:
                out.append(Conflict(ids[c], name, pe.distance, pe.p_value,
                                            f"declared parent released after the child ({dp} > {dc})", pe.channel))
                continue
            if pe.p_value > fpr:
                what = "weights independent" if pe.channel == "weights" else "DNA distance typical of unrelated models"
                out.append(Conflict(ids[c], name, pe.distance, pe.p_value,
                                            f"{what} (p={pe.p_value:.3g} > {fpr:g})", pe.channel))
                continue
            chosen = inferred.get(c, [])
            if pe.channel != "weights" or any(e.parent == name for e in chosen):
                continue
            better = [e for e in chosen if e.channel == "weights" and e.distance <= CONFLICT_RATIO * pe.distance]
            if better:
                e = better[0]
                out.append(Conflict(
                    ids[c], name, pe.distance, pe.p_value,
                    f"weights place it under {e.parent} (relative distance {e.distance:.3g} vs {pe.distance:.3g} "
                    f"to the declared parent)", "weights"))
    out.sort(key=lambda x: (-x.p_value, x.child))
    return out
