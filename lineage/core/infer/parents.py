"""Directed parents: for each model one parent, or none, with a confidence.

The problem is a minimum spanning arborescence (Edmonds) on a candidate graph:

* candidates for a child ``c`` are its ``k`` nearest DNA neighbours ``p`` that are
  *plausibly related*: the p-value of ``d(p, c)`` against the null of unrelated models,
  Holm-adjusted over the child's ``N - 1`` candidates (:mod:`lineage.core.infer.selection`),
  is at most ``fpr``, so the chance of a false parent stays at ``fpr`` whatever ``N`` is
  (a parent the metadata declares is a hypothesis named in advance: its own p counts);
* the edge must also pass a local test from the parent's side (its distance among the
  candidate's own distances to the population: :func:`lineage.core.infer.selection.local_p_values`),
  so a hub (a centroid, an average, a degenerate DNA, close to everyone) is no one's parent;
* a parent never postdates its child: when both release dates are known, edges
  with ``date(p) > date(c)`` are dropped (same-day releases may go either way); an
  undated model is never the parent of a dated one (upload dates are not release
  dates, and a re-upload or copy is undated more often than the original);
* structural priors (Model Atlas): a model declared as ``quantized`` or ``merge``
  is a leaf and never a parent; bases fan out: a candidate that the metadata
  documents as a base (no declared parent of its own) gets its cost lowered by
  ``base_bonus`` (relative). Without metadata this prior is neutral;
* declared parents are evidence too: an edge the metadata declares (``base_model``)
  costs ``1 - declared_bonus`` of its distance, but only when the DNA finds it
  plausible (it must pass the same p-value test). A near-tie then goes to the
  declared parent, while a declaration the DNA contradicts gains nothing (it is
  reported as a conflict instead);
* a virtual root joins every model at the *no-parent cost*, the distance at which
  the p-value reaches ``fpr``. Every plausible edge is cheaper, so a model goes
  parentless only when it has no plausible, non-postdating candidate, or when
  cycles force it (the oldest of a same-day / undated cluster).

Edge cost is the DNA distance (times the prior). The arborescence is found by
Chu-Liu/Edmonds contraction on edge arrays (:func:`min_arborescence`): when the
cheapest incoming edge of every model already forms a forest (always, when all
dates are known and distinct) one numpy pass suffices; each further round only
contracts the cycles. (networkx's Edmonds gives the same cost but took seconds
for a few thousand models.)

Confidence of the chosen parent: its Gibbs weight among the child's options
(plausible candidates and "no parent"), ``exp(-cost / tau)`` with ``tau`` half
the null's robust scale, times ``1 - p_value``. It ranks edges by how clearly
they beat the alternatives; it is not a calibrated probability.
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from lineage.core.channels.relatedness import NullDistribution
from lineage.core.infer.selection import Correction, holm_adjust, local_test, reference_sample

LEAF_RELATIONS = frozenset({"quantized", "merge"})


@dataclass(frozen=True)
class InferredParent:
    """An inferred directed edge ``parent -> child``."""

    child: str
    parent: str
    confidence: float
    p_value: float
    distance: float
    method: str = "arborescence"
    channel: str = "dna"
    kind: str = "unknown"
    evidence: tuple = ()  # PairEvidence of each channel the edge rests on (lineage.core.infer.combine)


def _is_base(declared_parents: Sequence[Sequence[str]] | None, i: int) -> bool:
    return declared_parents is not None and len(declared_parents[i]) == 0


def infer_parents(
    ids: Sequence[str],
    nn_indices: np.ndarray,
    nn_distances: np.ndarray,
    null: NullDistribution,
    *,
    release_dates: Sequence[dt.date | None] | None = None,
    declared_parents: Sequence[Sequence[str]] | None = None,
    declared_relations: Sequence[str | None] | None = None,
    fpr: float = 0.01,
    base_bonus: float = 0.05,
    declared_bonus: float = 0.15,
    X: np.ndarray | None = None,
    metric: str = "euclidean",
    correction: Correction = "holm",
    n_total: int | None = None,
    sample: np.ndarray | None = None,
) -> list[InferredParent]:
    """Infer at most one parent per model.

    Parameters
    ----------
    ids : sequence of str, length n_models
    nn_indices, nn_distances : ndarray of shape (n_models, k)
        Each model's k nearest neighbours (from
        :func:`lineage.core.measure.distances.nearest_neighbours`).
    null : NullDistribution
        Distances between unrelated models.
    release_dates : sequence of date or None, optional
    declared_parents : sequence of list of str, optional
        Used only for the "bases fan out" prior (which models are documented bases).
    declared_relations : sequence of str or None, optional
        A model declared ``quantized`` or ``merge`` never becomes a parent.
    fpr : float
        A candidate must be related at this false-positive rate.
    base_bonus : float
        Relative cost reduction for documented bases, in [0, 1).
    declared_bonus : float
        Relative cost reduction for plausible edges the metadata declares, in [0, 1).
    X : ndarray of shape (n_models, n_dims), optional
        The DNAs, for the local test against hubs (without them it is off).
    metric : {"euclidean", "cosine"}
    correction : {"holm", "none"}
        ``"none"`` tests each candidate as if it were the only one (the rule before
        selection-aware decisions; kept to measure what the correction changes).
    n_total : int, optional
        Size of the whole population the candidates were drawn from, when ``ids`` are only
        the part of it around the models being decided (a placement,
        :mod:`lineage.pipeline.place`): the families of the correction hold ``n_total - 1``
        candidates. Default ``len(ids)``.
    sample : ndarray of int, optional
        Positions of the local test's reference models in ``ids``; default
        :func:`~lineage.core.infer.selection.reference_sample` of ``ids``.

    The p-value of each returned edge is the Holm-adjusted one (the child's family).

    Returns
    -------
    list of InferredParent
        In the order of ``ids``; models without a parent are absent.
    """
    n = len(ids)
    nn_indices = np.asarray(nn_indices)
    nn_distances = np.asarray(nn_distances, dtype=np.float64)
    if nn_indices.shape != nn_distances.shape or nn_indices.shape[0] != n:
        raise ValueError("nn_indices and nn_distances must both have shape (n_models, k)")
    dates = list(release_dates) if release_dates is not None else [None] * n
    rels = list(declared_relations) if declared_relations is not None else [None] * n
    index = {m: i for i, m in enumerate(ids)}
    declared = [{index[p] for p in ps if p in index} for ps in declared_parents] if declared_parents is not None \
        else [set() for _ in range(n)]
    no_parent_cost = null.threshold(fpr)
    raw = null.tail_p_value(nn_distances)
    # a declared parent is a hypothesis named in advance, not a choice among N - 1: its own p counts
    named = np.array([[p in declared[c] for p in row] for c, row in enumerate(nn_indices.tolist())],
                     dtype=bool).reshape(nn_indices.shape)
    holm = correction == "holm"
    m = (n_total if n_total is not None else n) - 1
    pvals = np.where(named, raw, holm_adjust(raw, m)) if holm else raw
    local_ok = np.ones(pvals.shape, dtype=bool)
    if X is not None:
        cand = np.nonzero(pvals <= fpr)
        ref = reference_sample(ids) if sample is None else sample
        # the parent's side is a choice among N - 1 too (Bonferroni), unless declared
        factor = np.where(named[cand], 1.0, float(m)) if holm else 1.0
        local_ok[cand] = local_test(X, nn_indices[cand], nn_distances[cand], factor, fpr, metric=metric, sample=ref)
    tau = max(null.scale * 0.5, 1e-12)

    # candidate edges: (cost, parent, child, distance, p)
    incoming: list[list[tuple[float, int, float, float]]] = [[] for _ in range(n)]
    for c in range(n):
        dc = dates[c]
        for p, d, pv, ok in zip(nn_indices[c].tolist(), nn_distances[c].tolist(), pvals[c].tolist(),
                                local_ok[c].tolist()):
            if pv > fpr or not ok or rels[p] in LEAF_RELATIONS:
                continue
            dp = dates[p]
            if dc is not None and (dp is None or dp > dc):
                continue
            cost = d * (1.0 - base_bonus) if _is_base(declared_parents, p) else d
            if p in declared[c]:
                cost *= 1.0 - declared_bonus
            incoming[c].append((cost, p, d, pv))
        incoming[c].sort()

    # minimum spanning arborescence from a virtual root (node n)
    src = [n] * n + [p for c in range(n) for _, p, _, _ in incoming[c]]
    dst = list(range(n)) + [c for c in range(n) for _ in incoming[c]]
    cost = [no_parent_cost] * n + [e[0] for c in range(n) for e in incoming[c]]
    chosen = min_arborescence(n + 1, n, np.array(src), np.array(dst), np.array(cost, dtype=np.float64))
    src_arr = np.array(src)
    choice = [int(src_arr[chosen[c]]) if src_arr[chosen[c]] != n else -1 for c in range(n)]

    out: list[InferredParent] = []
    for c in range(n):
        p = choice[c]
        if p < 0:
            continue
        cost, _, d, pv = next(e for e in incoming[c] if e[1] == p)
        costs = np.array([e[0] for e in incoming[c]] + [no_parent_cost])
        w = np.exp(-(costs - costs.min()) / tau)
        conf = float(np.exp(-(cost - costs.min()) / tau) / w.sum()) * (1.0 - pv)
        out.append(InferredParent(child=ids[c], parent=ids[p], confidence=min(1.0, max(0.0, conf)),
                                  p_value=float(pv), distance=float(d)))
    return out


def min_arborescence(n_nodes: int, root: int, src: np.ndarray, dst: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Minimum spanning arborescence (Chu-Liu/Edmonds) of a directed graph rooted at ``root``.

    Tarjan's formulation, iterative: walk from each unfinished node along cheapest incoming
    edges; when the walk closes a cycle, contract it into a new node whose incoming edges
    are those of its members, re-costed by the cycle edge each would replace (kept in one
    heap per node with a lazy offset; heaps are merged smaller into larger), and go on
    from the new node. Contracted nodes are a union-find without path compression, so the
    expansion undoes the unions newest first: the edge entering a contracted node replaces
    the cycle edge of the member it enters (O(log n) per look-up, however deeply cycles nest).

    The round-by-round version it replaces recursed once per contraction round; on
    unrelated, undated populations most rounds contract a single cycle, so it needed
    O(n) rounds of O(n) work and overflowed Python's recursion limit between 1,000 and
    2,000 models. This one costs O(E log^2 V) and no recursion (100,000 nodes with ten
    candidates each: ``benchmarks/bench_calibration.py --arborescence 100000``).

    Ties: among equal costs the edge of the lowest index wins (a deterministic answer).

    Parameters
    ----------
    n_nodes : int
    root : int
    src, dst : ndarray of shape (n_edges,), int
    cost : ndarray of shape (n_edges,), float
        Every node other than ``root`` needs at least one incoming edge.

    Returns
    -------
    ndarray of shape (n_nodes,), int
        The index of the edge chosen into each node; -1 for the root.
    """
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    cost = np.asarray(cost, dtype=np.float64)
    keep = np.flatnonzero((src != dst) & (dst != root))
    n = n_nodes
    heaps: list[list[tuple[float, int]]] = [[] for _ in range(n)]
    for e, v, w in zip(keep.tolist(), dst[keep].tolist(), cost[keep].tolist()):
        heaps[v].append((w, e))
    for v in range(n):
        if v != root and not heaps[v]:
            raise ValueError(f"node {v} has no incoming edge")
        heapq.heapify(heaps[v])
    offset = [0.0] * n  # actual cost of a heap entry = stored cost + offset of its heap
    # union-find over contracted nodes: union by size and no path compression, so that the
    # expansion can undo the unions in reverse (O(log n) per find)
    up = list(range(n))
    size = [1] * n
    history: list[int] = []
    src_l, dst_l = src.tolist(), dst.tolist()

    def find(x: int) -> int:
        while up[x] != x:
            x = up[x]
        return x

    def union(a: int, b: int) -> int:
        a, b = find(a), find(b)
        if a == b:
            return a
        if size[a] < size[b]:
            a, b = b, a
        up[b] = a
        size[a] += size[b]
        history.append(b)
        return a

    def rollback(mark: int) -> None:
        while len(history) > mark:
            b = history.pop()
            size[up[b]] -= size[b]
            up[b] = b

    seen = [-1] * n  # the walk that reached a node (-1: none yet)
    seen[root] = root
    entering = [-1] * n  # edge entering each (contracted) node, by representative
    contractions: list[tuple[int, int, list[int]]] = []  # (representative, history mark, cycle edges)
    for start in range(n):
        u = find(start)
        walk: list[tuple[int, int, float]] = []  # (node, chosen edge, its cost)
        while seen[u] < 0:
            heap = heaps[u]
            while heap and find(src_l[heap[0][1]]) == u:
                heapq.heappop(heap)  # an edge from inside the contracted node
            if not heap:
                raise ValueError(f"node {u} has no incoming edge from outside its cycle")
            w, e = heapq.heappop(heap)
            walk.append((u, e, w + offset[u]))
            seen[u] = start
            v = find(src_l[e])
            if seen[v] == start:
                # the walk closed a cycle v -> ... -> u -> v: contract it into one node
                mark = len(history)
                members, edges = [], []
                while True:
                    x, ex, cx = walk.pop()
                    members.append((x, cx))
                    edges.append(ex)
                    if x == v:
                        break
                big = max(members, key=lambda m: len(heaps[m[0]]))[0]
                merged, base = heaps[big], offset[big] - dict(members)[big]
                for x, cx in members:
                    if x != big:
                        shift = offset[x] - cx - base
                        for w0, e0 in heaps[x]:
                            heapq.heappush(merged, (w0 + shift, e0))
                        heaps[x] = []
                rep = big
                for x, _ in members:
                    rep = union(rep, x)
                heaps[big] = []
                heaps[rep], offset[rep] = merged, base
                seen[rep] = -1
                contractions.append((rep, mark, edges))
                u = rep
                continue
            u = v
        for x, e, _ in walk:
            entering[find(dst_l[e])] = e
    # expansion, newest contraction first: undo its unions; the edge entering the contracted
    # node replaces the cycle edge of the member it enters, the others keep theirs
    for rep, mark, edges in reversed(contractions):
        into = entering[rep]
        rollback(mark)
        for e in edges:
            entering[find(dst_l[e])] = e
        entering[find(dst_l[into])] = into
    out = np.array(entering, dtype=np.int64)
    out[root] = -1
    return out
