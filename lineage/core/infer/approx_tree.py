"""An approximate Neighbor-Joining phylogeny whose memory grows linearly in the population.

Exact NJ (:func:`lineage.core.infer.tree.tree_from_distances`) needs the condensed
``n (n - 1) / 2`` distance vector: 20,000 models hold 0.8 GB of it and peak near
1.9 GB; 100,000 would need ~40 GB. Above :data:`EXACT_LIMIT` models,
:func:`phylogeny` switches to :func:`approximate_tree`, a *divide-and-conquer
Neighbor-Joining* in the family of disk-covering / cluster-then-join methods
(Huson, Nettles & Warnow 1999, DCM-NJ; the "profile" joins of FastTree, Price et
al. 2009/2010, where a group of sequences is represented by the average over its
members):

1. **Divide**: bisecting 2-means (Steinbach, Karypis & Kumar 2000) splits the DNAs
   until every cluster holds at most ``cluster_size`` models. Each split starts
   from the cluster's principal direction (Boley 1998, PDDP: points on either side
   of the centroid along the first principal component) and is refined by Lloyd
   iterations, so it is deterministic for a given ``random_state`` (which only
   seeds the power iteration's start vector).
2. **Refine** (optional, ``k > 0`` or ``nn`` given): a model whose exact nearest
   neighbours mostly sit in another cluster moves there (up to eight synchronous
   sweeps of a k-NN plurality vote, until nothing moves; clusters may grow to 1.25
   ``cluster_size``). Bisection cuts straight through families and sister pairs
   that straddle a hyperplane: on 10,000 simulated models it split 61% of the
   families (2+ models) across clusters; two sweeps left 12% split, eight 10%
   (families monophyletic in the final tree: 0.852 -> 0.870).
3. **Conquer**: exact NJ inside each cluster, on its own condensed distances plus
   one *outgroup profile*: the nearest other cluster, whose distance to member
   ``i`` is the root-mean-square distance from ``i`` to that cluster's members,
   ``sqrt(|x_i - c_B|^2 + v_B)`` (centroid ``c_B``, mean squared spread ``v_B``;
   exact, no pairs enumerated). Where the outgroup's pendant edge meets the
   cluster tree is the cluster's attachment point; the outgroup is then dropped.
4. **Join**: exact NJ on the clusters themselves, with the RMS distance between
   two clusters' members, ``sqrt(|c_A - c_B|^2 + v_A + v_B)`` (for cosine, on unit
   vectors, ``(|c_A - c_B|^2 + v_A + v_B) / 2`` is the exact mean cosine distance).
   Each cluster leaf of that tree is replaced by its cluster tree, hung from its
   attachment point; the stem is the cluster's pendant length less the mean
   attachment-to-leaf path inside the cluster (clipped at 0).
5. The assembled unrooted tree is rooted like the exact one (midpoint or outgroup)
   and named with the same clade ids (:func:`lineage.core.infer.tree.clade_id`).

Memory: the DNAs (``n d`` floats), labels and, with refinement, the ``n k``
neighbour lists; one cluster's condensed distances at a time
(``cluster_size^2 / 2`` float32: 8 MB at 2,000) and the clusters' own matrix
(``(n / cluster_size)^2 / 2``). No ``n x n`` array is ever built; the k-NN pass
works in row blocks of at most :data:`BLOCK_BUDGET` float64 values.

What it gives up: NJ's choice of which pair to join looks at all taxa, so a
cluster tree built without the others can differ from the exact tree inside the
cluster, and sister pairs split between clusters are never joined directly (the
vote repairs most of them). Branch lengths between clusters are RMS-based and
slightly longer than path lengths. Measured agreement with the exact tree is in
``docs/benchmarks.md`` ("Approximate tree at scale").
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from lineage.core.measure.distances import Metric, condensed_distances, nearest_neighbours, METRICS
from lineage.core.infer.tree import (
    RootMethod,
    Tree,
    TreeMethod,
    _adjacency,
    _assemble,
    _orient,
    _root_midpoint,
    _root_outgroup,
    _unrooted_nj,
    tree_from_distances,
)

# Up to this many models the exact tree is built (condensed distances + anjl NJ).
# Measured with benchmarks/bench_tree_scale.py (docs/benchmarks.md, "Approximate tree at
# scale"; 2 shared cores, load average 6-7), distances/10-NN + tree, peak RSS:
#   exact   5,000: 13.4 s,  513 MB | 10,000: 27.8 s,  814 MB | 20,000: 123 s, 1,718 MB
#   approx  5,000:  4.1 s,  372 MB | 10,000: 13.7 s,  379 MB | 20,000:  35 s,   407 MB
#   (normalised RF of approx to exact: 0.105 / 0.127 / 0.145)
# Exact memory grows as n^2 and time faster still; the approximation costs ~0.1 of the
# splits and ~0.06 of family monophyly. 10,000 keeps every population the project has run
# on the exact path, caps the exact path near 0.8 GB and half a minute under load, and
# switches before exact NJ dominates an ingest (at 20,000 it takes 3.5x the approximate time).
EXACT_LIMIT = 10_000

# Largest cluster solved exactly (its condensed distances: c^2/2 float32, 8 MB at 2,000).
# At 5,000 simulated models, clusters of at most 500 / 1,000 / 2,000 gave RF 0.127 / 0.122 /
# 0.107 to the exact tree (border vote on, two sweeps), in 1.3 / 2.5 / 1.8 s; larger clusters
# were not measured (exact NJ time grows faster than c^2).
CLUSTER_SIZE = 2_000

# Neighbours per model for the boundary vote (the analysis's own k is 10).
K_REFINE = 10

# float64 values per distance block of the k-NN pass (32 MB): rows = BLOCK_BUDGET // n.
BLOCK_BUDGET = 2 ** 22

_SCHEME = "bisect-2means+nj"


def _power_direction(Y: np.ndarray, rng: np.random.Generator, iters: int = 30) -> np.ndarray:
    """First principal direction of centred rows ``Y`` by power iteration (no d x d SVD of a copy)."""
    v = rng.standard_normal(Y.shape[1])
    v /= np.linalg.norm(v) or 1.0
    for _ in range(iters):
        w = Y.T @ (Y @ v)
        nw = np.linalg.norm(w)
        if nw == 0:
            break
        w /= nw
        if np.abs(w - v).max() < 1e-9:
            v = w
            break
        v = w
    return v


def _two_means(P: np.ndarray, idx: np.ndarray, rng: np.random.Generator, iters: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """Split rows ``idx`` of ``P`` in two: principal-direction start, then Lloyd iterations.

    Falls back to halves in index order when the points cannot be separated
    (identical DNAs), so every split makes progress.
    """
    Y = P[idx]
    c = Y.mean(axis=0)
    Yc = Y - c
    proj = Yc @ _power_direction(Yc, rng)
    left = proj < 0
    if left.all() or not left.any():
        left = proj < np.median(proj)
    for _ in range(iters):
        if left.all() or not left.any():
            break
        ca, cb = Y[left].mean(axis=0), Y[~left].mean(axis=0)
        # |y - ca|^2 < |y - cb|^2  <=>  y.(cb - ca) < (|cb|^2 - |ca|^2) / 2; ties go right
        new = Y @ (cb - ca) < (cb @ cb - ca @ ca) / 2.0
        if np.array_equal(new, left):
            break
        left = new
    if left.all() or not left.any():
        half = len(idx) // 2
        return idx[:half], idx[half:]
    return idx[left], idx[~left]


def _bisect(P: np.ndarray, cluster_size: int, rng: np.random.Generator) -> np.ndarray:
    """Cluster label of every row: bisecting 2-means until no cluster exceeds ``cluster_size``."""
    labels = np.empty(P.shape[0], dtype=np.int64)
    stack = [np.arange(P.shape[0])]
    done: list[np.ndarray] = []
    while stack:
        idx = stack.pop()
        if len(idx) <= cluster_size:
            done.append(idx)
            continue
        a, b = _two_means(P, idx, rng)
        stack.extend((b, a))
    # number clusters by their smallest row: the same clusters get the same labels
    done.sort(key=lambda ix: int(ix.min()))
    for lab, ix in enumerate(done):
        labels[ix] = lab
    return labels


def _vote(labels: np.ndarray, nn_idx: np.ndarray, cap: int, sweeps: int = 8) -> np.ndarray:
    """Move models to the cluster holding the strict plurality of their neighbours.

    Votes are weighted ``1 / rank`` (the nearest neighbour counts most). A move is
    taken only when the target cluster stays within ``cap``; synchronous sweeps in
    row order, so the result does not depend on anything but the inputs.
    """
    n, k = nn_idx.shape
    if k == 0:
        return labels
    w = 1.0 / np.arange(1, k + 1)
    for _ in range(sweeps):
        nl = labels[nn_idx]  # (n, k)
        sizes = np.bincount(labels).astype(np.int64)
        best = labels.copy()
        best_score = (w[None, :] * (nl == labels[:, None])).sum(axis=1)
        for r in range(k):  # nearer ranks first: among equal scores the nearer label wins
            cand = nl[:, r]
            sc = (w[None, :] * (nl == cand[:, None])).sum(axis=1)
            take = sc > best_score + 1e-12
            best = np.where(take, cand, best)
            best_score = np.where(take, sc, best_score)
        new = labels.copy()
        moved = False
        for i in np.flatnonzero(best != labels).tolist():
            t = best[i]
            if sizes[t] < cap and sizes[labels[i]] > 1:
                sizes[t] += 1
                sizes[labels[i]] -= 1
                new[i] = t
                moved = True
        labels = new
        if not moved:
            break
    # relabel densely (a cluster may have emptied), in order of smallest member
    first = {}
    for i, lab in enumerate(labels.tolist()):
        first.setdefault(lab, i)
    remap = {lab: r for r, lab in enumerate(sorted(first, key=first.get))}
    return np.array([remap[x] for x in labels.tolist()], dtype=np.int64)


def _sq_spread(P: np.ndarray, labels: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cluster: size, centroid and mean squared distance of members to it."""
    sizes = np.bincount(labels, minlength=m)
    C = np.zeros((m, P.shape[1]))
    np.add.at(C, labels, P)
    C /= sizes[:, None]
    sq = np.einsum("ij,ij->i", P, P)
    msq = np.bincount(labels, weights=sq, minlength=m) / sizes  # mean |x|^2
    v = np.maximum(msq - np.einsum("ij,ij->i", C, C), 0.0)
    return sizes, C, v


def _profile_distance(sqdist: np.ndarray, metric: str) -> np.ndarray:
    """Mean-square distances between points/profiles -> distances on the metric's scale."""
    sqdist = np.maximum(sqdist, 0.0)
    return np.sqrt(sqdist) if metric == "euclidean" else sqdist / 2.0


def _cluster_tree(P: np.ndarray, members: np.ndarray, out_c: np.ndarray, out_v: float, metric: str,
                  next_id: int, edges: list[tuple[int, int, float]]) -> tuple[int, float, int]:
    """Exact NJ of one cluster with an outgroup profile; append its edges (global ids).

    Returns the attachment node, the mean path length from it to the members, and
    the next free internal id.
    """
    s = len(members)
    if s == 1:
        return int(members[0]), 0.0, next_id
    Y = P[members]
    d_out = _profile_distance(np.einsum("ij,ij->i", Y - out_c, Y - out_c) + out_v, metric)
    # the outgroup is local taxon 0, so its distances come first in condensed order
    d = np.concatenate([d_out.astype(np.float32), condensed_distances(Y, metric=metric)])
    local = _unrooted_nj(d, s + 1)
    del d
    # local ids: 0 = outgroup, 1..s = members, s+1.. = internal
    gid = {t: int(members[t - 1]) for t in range(1, s + 1)}
    adj: dict[int, list[tuple[int, float]]] = {}
    attach = None
    for u, v, length in local:
        if u == 0 or v == 0:
            attach = v if u == 0 else u
            continue
        for t in (u, v):
            if t not in gid:
                gid[t] = next_id
                next_id += 1
        edges.append((gid[u], gid[v], length))
        adj.setdefault(u, []).append((v, length))
        adj.setdefault(v, []).append((u, length))
    assert attach is not None
    # mean path length from the attachment point to the members
    depth, stack, total = {attach: 0.0}, [attach], 0.0
    while stack:
        u = stack.pop()
        for v, length in adj.get(u, ()):
            if v not in depth:
                depth[v] = depth[u] + max(0.0, length)
                stack.append(v)
                if 1 <= v <= s:
                    total += depth[v]
    return gid[attach], total / s, next_id


def approximate_tree(
    ids: Sequence[str],
    X: np.ndarray,
    *,
    k: int = K_REFINE,
    metric: Metric = "euclidean",
    cluster_size: int = CLUSTER_SIZE,
    random_state: int = 0,
    root: RootMethod = "midpoint",
    outgroup: str | None = None,
    nn: np.ndarray | None = None,
) -> Tree:
    """Divide-and-conquer Neighbor-Joining in ``O(n (d + k) + cluster_size^2)`` memory.

    The scheme (bisecting 2-means, k-NN vote at the borders, exact NJ per cluster
    with an outgroup profile, NJ on the clusters) is described in the module
    docstring.

    Parameters
    ----------
    ids : sequence of str, length n_models
        Unique model ids.
    X : ndarray of shape (n_models, n_dims)
        DNA vectors.
    k : int
        Neighbours per model for the border vote; 0 turns the vote off. Ignored
        when ``nn`` is given.
    metric : {"euclidean", "cosine"}
    cluster_size : int
        Largest cluster solved by exact NJ (at least 3). With ``n <= cluster_size``
        the result is the exact NJ tree.
    random_state : int
        Seeds the power iteration that starts each bisection; same seed, same tree.
    root : {"midpoint", "outgroup"}
    outgroup : str, optional
        Model id to root on (required with ``root="outgroup"``).
    nn : ndarray of shape (n_models, k'), optional
        Precomputed exact nearest-neighbour indices (e.g. the analysis's ``nn_idx``,
        sorted by distance); saves the k-NN pass.

    Returns
    -------
    Tree
        Same node ids and conventions as :func:`lineage.core.infer.tree.tree_from_distances`.
    """
    ids = list(ids)
    n = len(ids)
    if len(set(ids)) != n:
        raise ValueError("model ids must be unique")
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
    if root not in ("midpoint", "outgroup"):
        raise ValueError(f"unknown rooting {root!r}; use 'midpoint' or 'outgroup'")
    if cluster_size < 3:
        raise ValueError(f"cluster_size must be at least 3, got {cluster_size}")
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] != n:
        raise ValueError(f"X must have shape (n_models={n}, n_dims), got {X.shape}")
    out_idx = None
    if root == "outgroup":
        if outgroup is None or outgroup not in ids:
            raise ValueError(f"outgroup {outgroup!r} is not one of the models")
        out_idx = ids.index(outgroup)
    if n <= cluster_size:
        return tree_from_distances(ids, condensed_distances(X, metric=metric), root=root, outgroup=outgroup)

    P = np.asarray(X, dtype=np.float64)
    if metric == "cosine":
        norms = np.linalg.norm(P, axis=1, keepdims=True)
        P = P / np.where(norms > 0, norms, 1.0)
    rng = np.random.default_rng(random_state)
    labels = _bisect(P, cluster_size, rng)
    if nn is None and k > 0:
        nn, _ = nearest_neighbours(X, k, metric=metric, block_size=max(1, BLOCK_BUDGET // n))
    if nn is not None and nn.shape[1] > 0:
        labels = _vote(labels, np.asarray(nn, dtype=np.int64), cap=int(cluster_size * 1.25))
    m = int(labels.max()) + 1
    sizes, C, v = _sq_spread(P, labels, m)

    # distances between clusters (RMS over member pairs), condensed
    CC = np.einsum("ij,ij->i", C, C)
    G = CC[:, None] + CC[None, :] - 2.0 * (C @ C.T) + v[:, None] + v[None, :]
    np.fill_diagonal(G, np.inf)
    D = _profile_distance(G, metric)
    nearest = np.argmin(np.where(np.isfinite(G), G, np.inf), axis=1)

    order = np.argsort(labels, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    edges: list[tuple[int, int, float]] = []
    next_id = n
    attach = np.empty(m, dtype=np.int64)
    depth = np.empty(m)
    for a in range(m):
        members = order[bounds[a]:bounds[a + 1]]
        b = int(nearest[a])
        attach[a], depth[a], next_id = _cluster_tree(P, members, C[b], float(v[b]), metric, next_id, edges)

    if m == 2:
        edges.append((int(attach[0]), int(attach[1]), max(0.0, float(D[0, 1]) - depth[0] - depth[1])))
    else:
        iu = np.triu_indices(m, 1)
        top = _unrooted_nj(D[iu].astype(np.float32), m)
        gid: dict[int, int] = {}
        for u, w, length in top:
            for t in (u, w):
                if t >= m and t not in gid:
                    gid[t] = next_id
                    next_id += 1
            uu = int(attach[u]) if u < m else gid[u]
            ww = int(attach[w]) if w < m else gid[w]
            stem = length - (depth[u] if u < m else 0.0) - (depth[w] if w < m else 0.0)
            edges.append((uu, ww, max(0.0, float(stem))))

    adj = _adjacency(edges)
    r = _root_outgroup(adj, out_idx, next_id) if out_idx is not None else _root_midpoint(adj, n, next_id)
    return _assemble(ids, _orient(adj, r), r)


def phylogeny(
    ids: Sequence[str],
    X: np.ndarray,
    *,
    nn: np.ndarray | None = None,
    method: TreeMethod = "nj",
    root: RootMethod = "midpoint",
    outgroup: str | None = None,
    metric: Metric = "euclidean",
    exact_limit: int = EXACT_LIMIT,
    d: np.ndarray | None = None,
) -> tuple[Tree, str]:
    """The population's tree: exact up to ``exact_limit`` models, approximate above.

    Parameters
    ----------
    ids : sequence of str, length n_models
    X : ndarray of shape (n_models, n_dims)
    nn : ndarray of shape (n_models, k), optional
        Exact nearest-neighbour indices already computed (the analysis has them);
        used by the approximate tree's border vote instead of a new k-NN pass.
    method : {"nj", "upgma"}
        ``"upgma"`` is exact only: above ``exact_limit`` it raises.
    root : {"midpoint", "outgroup"}
    outgroup : str, optional
    metric : {"euclidean", "cosine"}
    exact_limit : int
        Largest population built exactly (default :data:`EXACT_LIMIT`, measured).
    d : ndarray, optional
        Condensed distances, when the caller already has them (exact path only;
        consumed for NJ). Computed here otherwise.

    Returns
    -------
    tree : Tree
    method_used : str
        ``"nj-exact"`` / ``"upgma-exact"``, or ``"nj-approx:bisect-2means+nj"``.
    """
    n = len(ids)
    if n <= exact_limit:
        if d is None:
            d = condensed_distances(X, metric=metric)
        return tree_from_distances(ids, d, method=method, root=root, outgroup=outgroup), f"{method}-exact"
    if method != "nj":
        raise ValueError(f"method {method!r} has no approximate form; {n} models exceed exact_limit={exact_limit}")
    tree = approximate_tree(ids, X, metric=metric, root=root, outgroup=outgroup, nn=nn)
    return tree, f"nj-approx:{_SCHEME}"


def neighbours_and_maybe_condensed(
    X: np.ndarray, k: int, *, metric: Metric = "euclidean", exact_limit: int = EXACT_LIMIT
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Exact k nearest neighbours, plus the condensed distances only where the exact tree will want them.

    Up to ``exact_limit`` models this is :func:`~lineage.core.measure.distances.condensed_and_neighbours`
    (one pass yields both). Above it, the condensed vector is not built: the neighbours come
    from :func:`~lineage.core.measure.distances.nearest_neighbours` in row blocks of at most
    ``BLOCK_BUDGET`` float64 values, so memory stays ``O(n k)`` plus one block.

    Returns
    -------
    d : ndarray of shape (n_models * (n_models - 1) // 2,), float32, or None above ``exact_limit``
    indices : ndarray of shape (n_models, k), int64
    distances : ndarray of shape (n_models, k), float32
    """
    from lineage.core.measure.distances import condensed_and_neighbours

    n = np.asarray(X).shape[0]
    if n <= exact_limit:
        return condensed_and_neighbours(X, k, metric=metric)
    idx, dist = nearest_neighbours(X, k, metric=metric, block_size=max(1, BLOCK_BUDGET // n))
    return None, idx, dist
