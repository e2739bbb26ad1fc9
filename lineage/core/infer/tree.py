"""Phylogenetic trees from DNA distances: Neighbor-Joining (default) or UPGMA.

Neighbor-Joining is exact (Saitou & Nei) and built by anjl's dynamic algorithm
(Clausen 2023), which returns the same tree as the canonical algorithm in a
fraction of the time. NJ does not assume equal rates of change, so it can show
families evolving at different speeds; UPGMA (scipy average linkage) does
assume that and is offered only for comparison.

NJ gives an unrooted tree. We root it at the midpoint of the longest leaf-to-leaf
path, or on the pendant edge of a named outgroup (for instance the oldest model,
or an encoder-decoder model among decoder-only ones).

Node ids: leaves are the model ids; an internal node is
``clade:<16 hex digits>``, a hash of the set of leaf ids below it (the sum of
per-leaf SHA-256 prefixes modulo 2**64, which is order-free and linear-time).
The same rooted topology therefore gets the same ids on every run.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Literal, Mapping, Sequence

import numpy as np

from lineage.core.measure.distances import Metric, condensed_distances

TreeMethod = Literal["nj", "upgma"]
RootMethod = Literal["midpoint", "outgroup"]

_SAFE_LABEL = re.compile(r"[A-Za-z0-9_.\-]+")


def _leaf_hash(leaf: str) -> int:
    return int.from_bytes(hashlib.sha256(leaf.encode("utf-8")).digest()[:8], "big")


def clade_id(leaves: Iterable[str]) -> str:
    """The stable id of the clade holding exactly these leaves."""
    h = 0
    for leaf in leaves:
        h = (h + _leaf_hash(leaf)) & 0xFFFFFFFFFFFFFFFF
    return f"clade:{h:016x}"


def quote_label(label: str) -> str:
    """A Newick label: bare when it holds only ``[A-Za-z0-9_.-]``, else single-quoted with ``'`` doubled."""
    if _SAFE_LABEL.fullmatch(label):
        return label
    return "'" + label.replace("'", "''") + "'"


@dataclass(frozen=True)
class Tree:
    """A rooted tree with branch lengths.

    Attributes
    ----------
    nodes : tuple of str
        Leaves (model ids, in input order) first, then internal clade ids.
    edges : tuple of (parent, child, length)
        Directed away from the root; ``length >= 0``.
    root : str
    leaves : tuple of str
    """

    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str, float], ...]
    root: str
    leaves: tuple[str, ...]

    @cached_property
    def children(self) -> dict[str, list[tuple[str, float]]]:
        out: dict[str, list[tuple[str, float]]] = {v: [] for v in self.nodes}
        for p, c, length in self.edges:
            out[p].append((c, length))
        return out

    @cached_property
    def parent(self) -> dict[str, tuple[str, float]]:
        return {c: (p, length) for p, c, length in self.edges}

    def preorder(self) -> list[str]:
        """Nodes, each before its descendants (iterative: deep trees are fine)."""
        out, stack = [], [self.root]
        ch = self.children
        while stack:
            v = stack.pop()
            out.append(v)
            stack.extend(c for c, _ in reversed(ch[v]))
        return out

    def root_to_tip(self) -> dict[str, float]:
        """Path length from the root to every node."""
        depth = {self.root: 0.0}
        for v in self.preorder():
            for c, length in self.children[v]:
                depth[c] = depth[v] + length
        return depth

    def leaf_counts(self) -> dict[str, int]:
        """How many leaves lie below every node (linear time; :meth:`leaf_sets` holds the sets)."""
        out: dict[str, int] = {}
        for v in reversed(self.preorder()):
            ch = self.children[v]
            out[v] = 1 if not ch else sum(out[c] for c, _ in ch)
        return out

    def leaf_sets(self) -> dict[str, frozenset[str]]:
        """The leaves below every node."""
        out: dict[str, frozenset[str]] = {}
        for v in reversed(self.preorder()):
            ch = self.children[v]
            out[v] = frozenset([v]) if not ch else frozenset().union(*(out[c] for c, _ in ch))
        return out

    def splits(self, leaves: Sequence[str] | None = None) -> set[int]:
        """Non-trivial bipartitions of ``leaves`` (default: all), as bitmasks.

        Bit ``i`` stands for ``leaves[i]``; each split is stored as the side that
        does not hold ``leaves[0]``. The tree is treated as unrooted. Leaves not in
        ``leaves`` are ignored (the tree is restricted to the common leaf set).
        """
        order = list(self.leaves) if leaves is None else list(leaves)
        bit = {v: 1 << i for i, v in enumerate(order)}
        full = (1 << len(order)) - 1
        mask: dict[str, int] = {}
        out: set[int] = set()
        for v in reversed(self.preorder()):
            ch = self.children[v]
            m = bit.get(v, 0) if not ch else 0
            for c, _ in ch:
                m |= mask[c]
            mask[v] = m
            s = m if not (m & 1) else full ^ m
            if 2 <= bin(s).count("1") <= len(order) - 2:
                out.add(s)
        return out

    def to_newick(self, *, lengths: bool = True, precision: int = 6) -> str:
        """The tree in Newick format (quoted labels where needed), ending with ``;``."""
        ch = self.children
        text: dict[str, str] = {}
        for v in reversed(self.preorder()):
            kids = ch[v]
            if kids:
                parts = []
                for c, length in kids:
                    parts.append(text.pop(c) + (f":{length:.{precision}g}" if lengths else ""))
                text[v] = "(" + ",".join(parts) + ")"
            else:
                text[v] = quote_label(v)
        return text[self.root] + ";"


# ---------------------------------------------------------------------------
# building


def _unrooted_nj(d: np.ndarray, n: int) -> list[tuple[int, int, float]]:
    """NJ on a condensed float32 matrix (consumed) -> unrooted edges between ints.

    anjl encodes the tree like scipy's linkage: row ``r`` creates node ``n + r``
    joining two earlier nodes with their two branch lengths. Its last row places an
    arbitrary root in the middle of the final edge; we drop that root and join its
    two children directly, so the result is the unrooted NJ tree.
    """
    import anjl

    # anjl's threaded mode was 8-10x slower than serial on a shared 2-core machine
    # (5k taxa: 16-30 s vs 2-3 s); the serial dynamic algorithm is the robust choice.
    Z = anjl.dynamic_nj(d, disallow_negative_distances=True, copy=False, parallel=False)
    edges: list[tuple[int, int, float]] = []
    for r, (a, b, la, lb, _) in enumerate(Z[:-1]):
        edges.append((n + r, int(a), float(la)))
        edges.append((n + r, int(b), float(lb)))
    a, b, la, lb, _ = Z[-1]
    edges.append((int(a), int(b), float(la) + float(lb)))
    return edges


def _upgma(d: np.ndarray, n: int) -> tuple[list[tuple[int, int, float]], int]:
    """UPGMA via scipy average linkage -> rooted edges (parent, child, length) and the root."""
    from scipy.cluster.hierarchy import linkage

    Z = linkage(d.astype(np.float64, copy=False), method="average")
    height = np.zeros(2 * n - 1)
    edges = []
    for r, (a, b, h, _) in enumerate(Z):
        v = n + r
        height[v] = h / 2.0  # linkage heights are distances; the tips sit at half of them
        for c in (int(a), int(b)):
            edges.append((v, c, max(0.0, float(height[v] - height[c]))))
    return edges, 2 * n - 2


def _adjacency(edges: Iterable[tuple[int, int, float]]) -> dict[int, list[tuple[int, float]]]:
    adj: dict[int, list[tuple[int, float]]] = {}
    for u, v, length in edges:
        adj.setdefault(u, []).append((v, length))
        adj.setdefault(v, []).append((u, length))
    return adj


def _farthest(adj: dict[int, list[tuple[int, float]]], start: int, n_leaves: int):
    dist, prev, stack = {start: 0.0}, {start: -1}, [start]
    while stack:
        u = stack.pop()
        for v, length in adj[u]:
            if v not in dist:
                dist[v], prev[v] = dist[u] + length, u
                stack.append(v)
    far = max((v for v in dist if v < n_leaves), key=lambda v: (dist[v], -v))
    return far, dist, prev


def _orient(adj, root: int) -> list[tuple[int, int, float]]:
    out, seen, stack = [], {root}, [root]
    while stack:
        u = stack.pop()
        for v, length in adj[u]:
            if v not in seen:
                seen.add(v)
                out.append((u, v, length))
                stack.append(v)
    return out


def _split_edge(adj, u: int, v: int, at: float, new: int) -> None:
    """Insert node ``new`` on edge u-v at distance ``at`` from u."""
    length = next(length for w, length in adj[u] if w == v)
    at = min(max(at, 0.0), length)
    adj[u] = [(w, x) for w, x in adj[u] if w != v] + [(new, at)]
    adj[v] = [(w, x) for w, x in adj[v] if w != u] + [(new, length - at)]
    adj[new] = [(u, at), (v, length - at)]


def _root_midpoint(adj, n_leaves: int, new: int) -> int:
    a, _, _ = _farthest(adj, 0, n_leaves)
    b, dist, prev = _farthest(adj, a, n_leaves)
    half = dist[b] / 2.0
    v = b
    # walk from b towards a until we pass the middle
    while prev[v] != -1 and dist[prev[v]] > half:
        v = prev[v]
    u = prev[v]
    if u == -1:
        return v
    if np.isclose(dist[u], half, rtol=0, atol=1e-12):
        return u
    if np.isclose(dist[v], half, rtol=0, atol=1e-12):
        return v
    _split_edge(adj, u, v, half - dist[u], new)
    return new


def _root_outgroup(adj, leaf: int, new: int) -> int:
    (u, length), = adj[leaf]
    _split_edge(adj, u, leaf, length / 2.0, new)
    return new


def _assemble(ids: Sequence[str], rooted: list[tuple[int, int, float]], root: int) -> Tree:
    n = len(ids)
    children: dict[int, list[int]] = {}
    for p, c, _ in rooted:
        children.setdefault(p, []).append(c)
    lengths = {(p, c): length for p, c, length in rooted}
    order: list[int] = []
    stack = [root]
    while stack:
        v = stack.pop()
        order.append(v)
        stack.extend(children.get(v, []))
    names: dict[int, str] = {}
    hsum: dict[int, int] = {}
    for v in reversed(order):
        if v < n:
            hsum[v] = _leaf_hash(ids[v])
            names[v] = ids[v]
        else:
            h = 0
            for c in children[v]:
                h = (h + hsum[c]) & 0xFFFFFFFFFFFFFFFF
            hsum[v] = h
            names[v] = f"clade:{h:016x}"
    edges = tuple((names[p], names[c], max(0.0, float(length))) for (p, c), length in lengths.items())
    internal = [names[v] for v in order if v >= n]
    return Tree(nodes=tuple(ids) + tuple(internal), edges=edges, root=names[root], leaves=tuple(ids))


def tree_from_distances(
    ids: Sequence[str],
    d: np.ndarray,
    *,
    method: TreeMethod = "nj",
    root: RootMethod = "midpoint",
    outgroup: str | None = None,
) -> Tree:
    """Build a rooted tree from a condensed distance vector.

    Parameters
    ----------
    ids : sequence of str, length n_models
    d : ndarray of shape (n_models * (n_models - 1) // 2,)
        Condensed distances (scipy order). For ``method="nj"`` a float32 array is
        consumed in place (pass a copy to keep it).
    method : {"nj", "upgma"}
    root : {"midpoint", "outgroup"}
        UPGMA trees are rooted by construction; ``"midpoint"`` keeps that root.
    outgroup : str, optional
        Model id to root on (required with ``root="outgroup"``).

    Returns
    -------
    Tree
    """
    ids = list(ids)
    n = len(ids)
    if len(set(ids)) != n:
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ValueError(f"duplicate model id {dup!r}")
    if method not in ("nj", "upgma"):
        raise ValueError(f"unknown tree method {method!r}; use 'nj' or 'upgma'")
    if root not in ("midpoint", "outgroup"):
        raise ValueError(f"unknown rooting {root!r}; use 'midpoint' or 'outgroup'")
    out_idx = None
    if root == "outgroup":
        if outgroup is None or outgroup not in ids:
            raise ValueError(f"outgroup {outgroup!r} is not one of the models")
        out_idx = ids.index(outgroup)
    if n == 1:
        return Tree(nodes=(ids[0],), edges=(), root=ids[0], leaves=(ids[0],))
    if n == 2:
        length = float(d[0])
        r = clade_id(ids)
        return Tree(nodes=(*ids, r), edges=((r, ids[0], length / 2), (r, ids[1], length / 2)), root=r, leaves=tuple(ids))
    new = 2 * n  # id for an inserted root node, above every anjl / scipy id
    if method == "upgma":
        rooted, r = _upgma(d, n)
        if out_idx is None:
            return _assemble(ids, rooted, r)
        adj = _adjacency(rooted)
        # unroot: the old root has degree 2; merge its edges
        (a, la), (b, lb) = adj.pop(r)
        adj[a] = [(w, x) for w, x in adj[a] if w != r] + [(b, la + lb)]
        adj[b] = [(w, x) for w, x in adj[b] if w != r] + [(a, la + lb)]
    else:
        if d.dtype != np.float32:
            d = d.astype(np.float32)
        adj = _adjacency(_unrooted_nj(d, n))
    r = _root_outgroup(adj, out_idx, new) if out_idx is not None else _root_midpoint(adj, n, new)
    return _assemble(ids, _orient(adj, r), r)


def build_tree(
    ids: Sequence[str],
    X: np.ndarray,
    *,
    method: TreeMethod = "nj",
    root: RootMethod = "midpoint",
    outgroup: str | None = None,
    metric: Metric = "euclidean",
    block_size: int = 2048,
) -> Tree:
    """Distances (blockwise, float32 condensed) then a rooted NJ or UPGMA tree.

    Parameters
    ----------
    ids : sequence of str, length n_models
    X : ndarray of shape (n_models, n_dims)
        DNA vectors.

    Returns
    -------
    Tree
    """
    d = condensed_distances(X, metric=metric, block_size=block_size)
    return tree_from_distances(ids, d, method=method, root=root, outgroup=outgroup)


# ---------------------------------------------------------------------------
# comparing trees


@dataclass(frozen=True)
class RFResult:
    """Robinson-Foulds distance on the common leaf set, tree treated as unrooted.

    ``normalised = distance / max_distance`` with ``max_distance`` the number of
    non-trivial splits in both trees together, so 0 means identical topologies and
    1 no shared split. A less resolved tree (multifurcations) has fewer splits.
    """

    distance: int
    max_distance: int
    normalised: float
    n_leaves: int


def robinson_foulds(a: Tree, b: Tree) -> RFResult:
    """Robinson-Foulds distance between two trees over their common leaves."""
    common = sorted(set(a.leaves) & set(b.leaves))
    sa, sb = a.splits(common), b.splits(common)
    dist = len(sa ^ sb)
    mx = len(sa) + len(sb)
    return RFResult(distance=dist, max_distance=mx, normalised=(dist / mx) if mx else 0.0, n_leaves=len(common))


def tree_from_genealogy(ids: Sequence[str], parent_of: Mapping[str, Sequence[str]], *,
                        lengths: Mapping[tuple[str, str], float] | None = None, root_length: float = 1.0) -> Tree:
    """The true genealogy as a tree whose leaves are all the models.

    Models are nodes of a genealogy, but leaves of a DNA tree. We turn a model
    ``m`` with descendants into a clade holding ``m`` itself (a leaf, length 0)
    and the clades of its children, so each split of the result is "a model and
    all its descendants". Several roots (families) hang from one multifurcating
    root, leaving the relations between families unresolved. A model with several
    parents (a merge) is placed under its first listed parent. Parents outside
    ``ids`` are skipped (the child's nearest ancestor in ``ids`` is used).

    Parameters
    ----------
    ids : sequence of str
        The models (the leaves).
    parent_of : mapping of str to sequence of str
        Declared or true parents of each model.

    lengths : mapping of (parent, child) to float, optional
        Branch length of each parent edge (default 1).
    root_length : float
        Length from the multifurcating root to each family's clade.

    Returns
    -------
    Tree
        Edge lengths are ``lengths`` (default 1) between clades, 0 from a model's clade to the
        model, ``root_length`` from the root to each family.
    """
    ids = list(ids)
    idset = set(ids)

    def nearest_parent(m: str) -> str | None:
        seen = {m}
        cur = m
        while True:
            ps = [p for p in parent_of.get(cur, ()) if p not in seen]
            if not ps:
                return None
            cur = ps[0]
            if cur in idset:
                return cur
            seen.add(cur)

    kids: dict[str, list[str]] = {m: [] for m in ids}
    roots = []
    for m in ids:
        p = nearest_parent(m)
        (kids[p] if p is not None else roots).append(m)
    # post-order over models: each model with children becomes a clade
    node_of: dict[str, str] = {}
    leafs: dict[str, list[str]] = {}
    edges: list[tuple[str, str, float]] = []
    internal: list[str] = []
    order, stack = [], list(roots)
    while stack:
        m = stack.pop()
        order.append(m)
        stack.extend(kids[m])
    for m in reversed(order):
        if not kids[m]:
            node_of[m], leafs[m] = m, [m]
            continue
        ls = [m] + [x for c in kids[m] for x in leafs[c]]
        cid = clade_id(ls)
        edges.append((cid, m, 0.0))
        edges.extend((cid, node_of[c], float((lengths or {}).get((m, c), 1.0))) for c in kids[m])
        node_of[m], leafs[m] = cid, ls
        internal.append(cid)
    if len(roots) == 1:
        root = node_of[roots[0]]
    else:
        root = clade_id(ids)
        internal.append(root)
        edges.extend((root, node_of[r], float(root_length)) for r in roots)
    return Tree(nodes=tuple(ids) + tuple(internal), edges=tuple(edges), root=root, leaves=tuple(ids))
