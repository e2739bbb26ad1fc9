"""One call from DNA vectors to everything the graph stores: tree, neighbours,
parents, undocumented relations, conflicts, family speeds and the null.

Definitions used here:

* a relation is *documented* when the two models are joined by declared parent
  links (directly or through other models, e.g. two declared fine-tunes of the
  same base); families are not relations;
* *undocumented*: a pair among the k nearest neighbours, related at ``fpr``
  (its p-value, Holm-adjusted over either model's ``N - 1`` candidates, ``<= fpr``:
  :mod:`lineage.core.infer.selection`), that is not documented. ``kind`` is ``"parent"`` when it is
  an inferred parent edge (then ``a`` is the parent, ``b`` the child), else
  ``"related"``. Ranked by p-value, then score. Expect about ``fpr`` times the
  number of models false entries, whatever the population's size;
* a *conflict*: a declared parent, present in the population, that the DNA
  contradicts: released after its child, or at a distance typical of unrelated
  models (p-value ``> fpr``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np

from lineage.core.measure.distances import Metric, condensed_and_neighbours, pair_distances
from lineage.core.infer.parents import InferredParent, infer_parents
from lineage.core.infer.combine import PairTable, evidence_conflicts, infer_with_evidence
from lineage.core.infer.rows import Conflict, Neighbour, UndocumentedRelation
from lineage.core.infer.selection import Correction, holm_adjust
from lineage.core.channels.relatedness import NullDistribution, fit_null
from lineage.core.infer.speed import FamilySpeed, family_speeds
from lineage.core.infer.approx_tree import EXACT_LIMIT, neighbours_and_maybe_condensed, phylogeny
from lineage.core.infer.tree import RootMethod, Tree, TreeMethod, tree_from_distances, tree_from_genealogy


@dataclass(frozen=True)
class Frame:
    """The whole population as seen from a part of it.

    A placement (:mod:`lineage.pipeline.place`) analyses only the models around a new
    batch, but every decision must be the one the whole population would make: the
    selection-aware corrections count ``n_total - 1`` candidates, the null is the one
    fitted to the whole population at its last full analysis (pplacer's fixed reference),
    the local test compares candidates with the same reference models (chosen by id:
    :func:`lineage.core.infer.selection.reference_sample`), and "documented" means joined
    by declared links anywhere in the graph, not only inside the part.

    Attributes
    ----------
    n_total : int
        Models in the whole population.
    null : NullDistribution
    sample : ndarray of int
        Positions of the reference models among the part's ids.
    components : sequence of str, optional
        Each model's declared-lineage component label (models joined by declared parent
        links, directly or through others, share a label); default computed from the
        part's own declarations.
    """

    n_total: int
    null: NullDistribution
    sample: np.ndarray
    components: Sequence[str] | None = None


@dataclass(frozen=True)
class Analysis:
    """Everything inferred for a population (see :func:`analyse_population`)."""

    ids: tuple[str, ...]
    tree: Tree | None  # None with tree_source="none" (a placement keeps the stored tree)
    neighbours: list[Neighbour]
    parents: list[InferredParent]
    undocumented: list[UndocumentedRelation]
    conflicts: list[Conflict]
    family_speeds: list[FamilySpeed]
    null: NullDistribution
    fpr: float
    metric: str
    channels: tuple[str, ...] = ("dna",)
    pairs: PairTable | None = None  # when weights were used
    tree_method: str = ""  # "nj-exact", "nj-approx:...", "genealogy" or "none"

    def parent_of(self) -> dict[str, str | None]:
        """Inferred parent of each model (None when it has none)."""
        out: dict[str, str | None] = {m: None for m in self.ids}
        out.update({p.child: p.parent for p in self.parents})
        return out


def lineage_components(ids: Sequence[str], declared_parents: Sequence[Sequence[str]]) -> dict[str, int]:
    """Component label of each model in the graph of parent links (links to absent ids still join)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for m, ps in zip(ids, declared_parents):
        find(m)
        for p in ps:
            ra, rb = find(m), find(p)
            if ra != rb:
                parent[ra] = rb
    roots: dict[str, int] = {}
    return {m: roots.setdefault(find(m), len(roots)) for m in ids}


def analyse_population(
    ids: Sequence[str],
    X: np.ndarray,
    *,
    release_dates: Sequence[dt.date | None] | None = None,
    families: Sequence[str | None] | None = None,
    declared_parents: Sequence[Sequence[str]] | None = None,
    declared_relations: Sequence[str | None] | None = None,
    k: int = 10,
    method: TreeMethod = "nj",
    root: RootMethod = "midpoint",
    outgroup: str | None = None,
    fpr: float = 0.01,
    metric: Metric = "euclidean",
    random_state: int = 0,
    weights: Sequence[object | None] | None = None,
    refine=None,
    logits: Sequence[object | None] | None = None,
    correction: Correction = "holm",
    tree_source: Literal["auto", "evidence", "dna", "none"] = "auto",
    frame: Frame | None = None,
) -> Analysis:
    """Infer the tree, parents and relations of a population of DNAs.

    Parameters
    ----------
    ids : sequence of str, length n_models
        Unique model ids.
    X : ndarray of shape (n_models, n_dims)
        DNA vectors (e.g. from :func:`lineage.dna.record.stack`).
    release_dates : sequence of date or None, optional
    families : sequence of str or None, optional
        Used for the null (between-family pairs) and the family speeds.
    declared_parents : sequence of list of str, optional
        Parents the metadata declares (ids; may name models outside ``ids``).
    declared_relations : sequence of str or None, optional
        ``finetune``, ``adapter``, ``merge``, ``quantized``, ``distillation``, ``pruned``.
    k : int
        Nearest neighbours kept per model (also the parent candidates).
    method : {"nj", "upgma"}
    root : {"midpoint", "outgroup"}
    outgroup : str, optional
        With ``root="outgroup"``; default the oldest dated model.
    fpr : float
        False-positive rate for "related" (parents, undocumented, conflicts).
    metric : {"euclidean", "cosine"}
    random_state : int
        Seeds the sampling of null pairs.
    weights : sequence of WeightProfile or None, optional
        Weight evidence per model (:mod:`lineage.core.channels.weights`); None where a model's
        weights are not available. When any is given, parents, undocumented relations and
        conflicts use the strongest channel per pair (:mod:`lineage.core.infer.combine`).
    refine : callable, optional
        Exact weight distance of a pair, for near-ties (see
        :func:`lineage.core.infer.combine.infer_with_evidence`).
    logits : sequence of LogitsProfile or None, optional
        Next-token evidence per model (:mod:`lineage.core.channels.logits`); ranks behaviour-only
        candidates.

    correction : {"holm", "none"}
        Selection-aware decisions (:mod:`lineage.core.infer.selection`); ``"none"`` only to
        measure the per-pair rule they replace.
    tree_source : {"auto", "evidence", "dna"}
        ``"auto"`` (default): ``"evidence"`` when weight or next-token evidence was used, else
        ``"dna"`` (then the DNA is the evidence, and the tree and the parents read the same
        distances). ``"evidence"``: the phylogeny is the inferred genealogy itself (a model
        and its inferred descendants form a clade; branch lengths are the DNA distance of
        each parent edge; families the evidence does not join hang from one unresolved
        root), so clades, branch lengths and family speeds agree with the parents.
        ``"dna"``: Neighbor-Joining (or UPGMA, ``method``) on the DNA distances alone, which
        groups models the evidence has found unrelated (the tree before; also what
        ``lineage tree`` draws from DNA files). ``"none"``: no tree (a placement).
    frame : Frame, optional
        The whole population, when ``ids`` are only a part of it (see :class:`Frame`).

    Returns
    -------
    Analysis
    """
    ids = list(ids)
    X = np.asarray(X, dtype=np.float32)
    n = len(ids)
    if X.ndim != 2 or X.shape[0] != n:
        raise ValueError(f"X must have shape (n_models={n}, n_dims), got {X.shape}")
    if n < 3:
        raise ValueError(f"need at least 3 models to analyse, got {n}")
    if len(set(ids)) != n:
        raise ValueError("model ids must be unique")
    if not 0 < fpr < 1:
        raise ValueError(f"fpr must be in (0, 1), got {fpr}")
    for name, seq in (("release_dates", release_dates), ("families", families),
                      ("declared_parents", declared_parents), ("declared_relations", declared_relations)):
        if seq is not None and len(seq) != n:
            raise ValueError(f"{name} has {len(seq)} entries for {n} models")
    dates = list(release_dates) if release_dates is not None else [None] * n
    decl = [list(p) for p in declared_parents] if declared_parents is not None else [[] for _ in range(n)]
    pos = {m: i for i, m in enumerate(ids)}

    use_logits = logits is not None and any(x is not None for x in logits)
    evidence = use_logits or (weights is not None and any(w is not None for w in weights))
    if tree_source == "auto":
        tree_source = "evidence" if evidence else "dna"
    tree_method = {"dna": f"{method}-exact", "evidence": "genealogy", "none": "none"}[tree_source]
    approx = tree_source == "dna" and method == "nj" and n > EXACT_LIMIT
    if tree_source == "dna" and not approx:
        d, nn_idx, nn_dist = condensed_and_neighbours(X, k, metric=metric)
    else:  # the tree does not read all distances: never hold n^2 of them (blocks of 32 MB)
        d, nn_idx, nn_dist = neighbours_and_maybe_condensed(X, k, metric=metric, exact_limit=0)
    if root == "outgroup" and outgroup is None and tree_source == "dna":
        dated = [(dd, m) for m, dd in zip(ids, dates) if dd is not None]
        if not dated:
            raise ValueError("root='outgroup' needs an outgroup id or release dates to pick the oldest model")
        outgroup = min(dated)[1]

    declared_pairs = {(i, pos[p]) for i, ps in enumerate(decl) for p in ps if p in pos}
    if frame is not None:
        null = frame.null
    else:
        null = fit_null(X, families=families, exclude_pairs=declared_pairs, metric=metric, random_state=random_state)
    n_total = frame.n_total if frame is not None else n
    sample = frame.sample if frame is not None else None
    comp = dict(zip(ids, frame.components)) if frame is not None and frame.components is not None \
        else lineage_components(ids, decl)

    neighbours = [
        Neighbour(ids[i], ids[int(j)], float(dist), r + 1)
        for i in range(n)
        for r, (j, dist) in enumerate(zip(nn_idx[i], nn_dist[i]))
    ]
    if use_logits and (weights is None or not any(w is not None for w in weights)):
        weights = [None] * n  # the evidence path also serves next-token evidence alone
    use_weights = (weights is not None and any(w is not None for w in weights)) or use_logits
    if use_weights:
        if len(weights) != n:
            raise ValueError(f"weights has {len(weights)} entries for {n} models")
        parents, undocumented, conflicts, table = _with_evidence(
            ids, X, null, list(weights), nn_idx, dates, decl, declared_parents is not None, fpr, metric, refine,
            list(logits) if use_logits else None, families, correction, comp, n_total, sample)
    else:
        table = None
        parents, undocumented, conflicts = _dna_only(ids, X, null, nn_idx, nn_dist, dates, decl, declared_parents,
                                                     declared_relations, fpr, metric, correction, comp, n_total, sample)

    if tree_source == "evidence":
        tree = _tree_of_parents(ids, X, parents, null, metric)
    elif approx:  # above the measured limit, memory n*k (lineage.core.infer.approx_tree)
        tree, tree_method = phylogeny(ids, X, nn=nn_idx, method=method, root=root, outgroup=outgroup, metric=metric)
    elif tree_source == "dna":
        tree = tree_from_distances(ids, d, method=method, root=root, outgroup=outgroup)
    else:
        tree = None
    del d
    speeds = family_speeds(ids, tree.root_to_tip(), dates, families) if families is not None and tree is not None else []
    return Analysis(
        ids=tuple(ids), tree=tree, neighbours=neighbours, parents=parents, undocumented=undocumented,
        conflicts=conflicts, family_speeds=speeds, null=null, fpr=fpr, metric=metric,
        channels=("dna",) + (("weights",) if weights is not None and any(w is not None for w in weights) else ())
        + (("logits",) if use_logits else ()), pairs=table, tree_method=tree_method,
    )


def _tree_of_parents(ids, X, parents, null, metric) -> Tree:
    """The inferred genealogy as a tree (:func:`lineage.core.infer.tree.tree_from_genealogy`),
    branch lengths in DNA units so that family speeds stay comparable across channels."""
    pos = {m: i for i, m in enumerate(ids)}
    parent_of: dict[str, list[str]] = {}
    for e in parents:
        parent_of.setdefault(e.child, []).append(e.parent)
    lengths = {}
    if parents:
        pa = np.array([pos[e.parent] for e in parents])
        ch = np.array([pos[e.child] for e in parents])
        for e, dd in zip(parents, pair_distances(X, pa, ch, metric=metric).tolist()):
            lengths[(e.parent, e.child)] = float(dd)
    return tree_from_genealogy(ids, parent_of, lengths=lengths, root_length=float(null.location) / 2)


def _dna_only(ids, X, null, nn_idx, nn_dist, dates, decl, declared_parents, declared_relations, fpr, metric, correction,
              comp, n_total, sample):
    n = len(ids)
    pos = {m: i for i, m in enumerate(ids)}
    parents = infer_parents(
        ids, nn_idx, nn_dist, null, release_dates=dates,
        declared_parents=decl if declared_parents is not None else None,
        declared_relations=declared_relations, fpr=fpr, X=X, metric=metric, correction=correction,
        n_total=n_total, sample=sample,
    )

    # undocumented relations among the nearest-neighbour pairs
    inferred = {(p.parent, p.child) for p in parents}
    pvals = null.tail_p_value(nn_dist)
    if correction == "holm":  # selection-aware: each model's N - 1 candidates
        pvals = holm_adjust(pvals, n_total - 1)
    scores = null.score(nn_dist)
    seen: set[tuple[str, str]] = set()
    undocumented = []
    for i in range(n):
        for j, pv, sc in zip(nn_idx[i].tolist(), pvals[i].tolist(), scores[i].tolist()):
            a, b = ids[i], ids[j]
            key = (a, b) if a < b else (b, a)
            if pv > fpr or key in seen or comp[a] == comp[b]:
                continue
            seen.add(key)
            if (a, b) in inferred:
                undocumented.append(UndocumentedRelation(a, b, sc, pv, "parent"))
            elif (b, a) in inferred:
                undocumented.append(UndocumentedRelation(b, a, sc, pv, "parent"))
            else:
                undocumented.append(UndocumentedRelation(key[0], key[1], sc, pv, "related"))
    undocumented.sort(key=lambda u: (u.p_value, -u.score, u.a, u.b))

    # conflicts: declared parents the DNA contradicts
    conflicts = []
    pairs = [(i, pos[p]) for i, ps in enumerate(decl) for p in ps if p in pos]
    if pairs:
        ci, pi = np.array(pairs).T
        dd = pair_distances(X, ci, pi, metric=metric)
        pv = null.p_value(dd)
        for c, p, dist, pval in zip(ci.tolist(), pi.tolist(), dd.tolist(), pv.tolist()):
            if dates[c] is not None and dates[p] is not None and dates[p] > dates[c]:
                reason = f"declared parent released after the child ({dates[p]} > {dates[c]})"
            elif pval > fpr:
                reason = f"distance typical of unrelated models (p={pval:.3g} > {fpr:g})"
            else:
                continue
            conflicts.append(Conflict(ids[c], ids[p], float(dist), float(pval), reason))
        conflicts.sort(key=lambda c: (-c.p_value, c.child))

    return parents, undocumented, conflicts


def _with_evidence(ids, X, null, weights, nn_idx, dates, decl, have_metadata, fpr, metric, refine, logits,
                   families, correction, comp, n_total, sample):

    res = infer_with_evidence(ids, X, null, weights, nn_idx, release_dates=dates,
                              declared_parents=decl if have_metadata else None, fpr=fpr, metric=metric,
                              refine=refine, logits=logits, families=families, correction=correction,
                              n_total=n_total, sample=sample)
    edges = {(p.parent, p.child) for p in res.parents}
    undocumented = []
    for a, b, pe in res.related:
        x, y = ids[a], ids[b]
        if comp[x] == comp[y]:
            continue
        score = float(res.table.weights[(a, b)].z) if pe.channel == "weights" else float(null.score(np.array([pe.distance]))[0])
        if (x, y) in edges:
            undocumented.append(UndocumentedRelation(x, y, score, pe.p_value, "parent"))
        elif (y, x) in edges:
            undocumented.append(UndocumentedRelation(y, x, score, pe.p_value, "parent"))
        elif pe.channel == "weights" or weights[a] is None or weights[b] is None:
            # two open-weight models related only in behaviour are reported only as a (distillation) parent edge
            undocumented.append(UndocumentedRelation(x, y, score, pe.p_value, "related"))
    undocumented.sort(key=lambda u: (u.p_value, -u.score, u.a, u.b))
    conflicts = []
    if have_metadata:
        conflicts = evidence_conflicts(ids, res, decl, dates, weights, X, null, fpr=fpr, metric=metric)
    return res.parents, undocumented, conflicts, res.table
