"""Directed parents: for each model one parent, or none, with a confidence.

The problem is a minimum spanning arborescence (Edmonds) on a candidate graph:

* candidates for a child ``c`` are its ``k`` nearest DNA neighbours ``p`` that are
  *plausibly related* (p-value of ``d(p, c)`` against the null of unrelated models
  at most ``fpr``);
* a parent never postdates its child: when both release dates are known, edges
  with ``date(p) > date(c)`` are dropped (same-day releases may go either way);
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
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from lineage.core.channels.relatedness import NullDistribution

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
    pvals = null.p_value(nn_distances)
    tau = max(null.scale * 0.5, 1e-12)

    # candidate edges: (cost, parent, child, distance, p)
    incoming: list[list[tuple[float, int, float, float]]] = [[] for _ in range(n)]
    for c in range(n):
        dc = dates[c]
        for p, d, pv in zip(nn_indices[c].tolist(), nn_distances[c].tolist(), pvals[c].tolist()):
            if pv > fpr or rels[p] in LEAF_RELATIONS:
                continue
            dp = dates[p]
            if dc is not None and dp is not None and dp > dc:
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
    keep = (src != dst) & (dst != root)
    eidx = np.flatnonzero(keep)
    s, d, w = src[eidx], dst[eidx], cost[eidx]
    # cheapest incoming edge of every node (ties: lowest edge index)
    order = np.lexsort((eidx, w, d))
    first = np.ones(order.size, dtype=bool)
    first[1:] = d[order][1:] != d[order][:-1]
    best = np.full(n_nodes, -1, dtype=np.int64)
    best[d[order][first]] = order[first]  # position in the kept arrays
    missing = [v for v in range(n_nodes) if v != root and best[v] < 0]
    if missing:
        raise ValueError(f"node {missing[0]} has no incoming edge")
    parent = [int(s[best[v]]) if v != root else -1 for v in range(n_nodes)]
    cyc = _cycles(parent)
    if not cyc:
        out = np.where(best >= 0, eidx[np.maximum(best, 0)], -1)
        out[root] = -1
        return out
    # contract each cycle to one node; others keep their own
    comp = np.arange(n_nodes)
    cycle_of = np.full(n_nodes, -1)
    for k, c in enumerate(cyc):
        for v in c:
            cycle_of[v] = k
    labels: dict[int, int] = {}
    for v in range(n_nodes):
        key = v if cycle_of[v] < 0 else n_nodes + int(cycle_of[v])
        comp[v] = labels.setdefault(key, len(labels))
    cs, cd = comp[s], comp[d]
    inter = cs != cd
    on_cycle = cycle_of[d] >= 0
    w2 = w - np.where(on_cycle, w[best[d]], 0.0)
    sub = np.flatnonzero(inter)
    chosen_sub = min_arborescence(len(labels), int(comp[root]), cs[sub], cd[sub], w2[sub])
    out = np.full(n_nodes, -1, dtype=np.int64)
    picked = sub[chosen_sub[chosen_sub >= 0]]  # positions in the kept arrays
    for pos in picked.tolist():
        v = int(d[pos])
        if cycle_of[v] >= 0:
            for u in cyc[int(cycle_of[v])]:
                out[u] = eidx[best[u]]
        out[v] = eidx[pos]
    return out


def _cycles(parent: list[int]) -> list[list[int]]:
    """Cycles of the functional graph ``v -> parent[v]`` (-1 = none)."""
    state = [0] * len(parent)
    out = []
    for s0 in range(len(parent)):
        path, v = [], s0
        while v >= 0 and state[v] == 0:
            state[v] = 1
            path.append(v)
            v = parent[v]
        if v >= 0 and state[v] == 1:
            out.append(path[path.index(v):])
        for u in path:
            state[u] = 2
    return out
