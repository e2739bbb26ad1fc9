"""Decisions calibrated for the population: Holm over each model's candidates, the local
test against hubs, dates that never make an undated copy a parent, structure before dates,
quantised copies as leaves, and the iterative arborescence at scale (pure, seconds)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy import stats

from lineage.core.infer.analysis import analyse_population
from lineage.core.infer.parents import min_arborescence
from lineage.core.infer.selection import holm_adjust, holm_by_member, local_p_values

D0 = dt.date(2024, 1, 1)


def _holm_by_definition(p: list[float], m: int) -> list[float]:
    """Holm's step-down, written from its definition (one hypothesis at a time)."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    out, running = [0.0] * len(p), 0.0
    for rank, i in enumerate(order, start=1):
        running = max(running, min(1.0, (m - rank + 1) * p[i]))
        out[i] = running
    return out


def test_holm_matches_its_definition_in_any_order():
    rng = np.random.default_rng(0)
    p = rng.random((50, 7)) ** 4
    got = holm_adjust(p, 30)
    for row, adj in zip(p, got):
        assert np.allclose(adj, _holm_by_definition(row.tolist(), 30))
    assert (got >= p).all()


def test_holm_by_member_is_holm_in_each_members_family():
    rng = np.random.default_rng(1)
    n = 12
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n) if rng.random() < 0.4]
    p = (rng.random(len(pairs)) ** 3).tolist()
    adj_a, adj_b = holm_by_member(pairs, p, n)
    for member in range(n):
        mine = [(k, side) for k, pr in enumerate(pairs) for side in (0, 1) if pr[side] == member]
        want = _holm_by_definition([p[k] for k, _ in mine], n - 1)
        for (k, side), w in zip(mine, want):
            assert (adj_a if side == 0 else adj_b)[k] == pytest.approx(w)


@pytest.mark.parametrize("fpr", [0.01, 0.05])
def test_no_relatives_no_parents_at_any_size(fpr):
    """1,000 independent random DNAs: the per-pair rule invented hundreds of parents; the
    selection-aware one stays at the target (a one-sided exact binomial test does not reject
    'rate <= fpr' at 1%)."""
    n = 1000
    X = np.random.default_rng(7).standard_normal((n, 128)).astype(np.float32)
    ids = [f"m{i}" for i in range(n)]
    holm = analyse_population(ids, X, fpr=fpr)
    naive = analyse_population(ids, X, fpr=fpr, correction="none")
    for k in (len(holm.parents), len(holm.undocumented)):
        assert stats.binom.sf(k - 1, n, fpr) > 0.01, k
    assert len(naive.parents) > 20 * max(1, len(holm.parents))  # the guard the correction replaces fails here


def _families(n_fam: int = 4, size: int = 5, dim: int = 32, seed: int = 3):
    rng = np.random.default_rng(seed)
    X, ids, truth, dates = [], [], {}, []
    for f in range(n_fam):
        root = rng.standard_normal(dim) * 3
        X.append(root)
        ids.append(f"f{f}-base")
        dates.append(D0)
        for c in range(size - 1):
            X.append(root + 0.25 * rng.standard_normal(dim))
            ids.append(f"f{f}-c{c}")
            truth[ids[-1]] = f"f{f}-base"
            dates.append(D0 + dt.timedelta(days=30 * (c + 1)))
    return ids, np.asarray(X, dtype=np.float32), truth, dates


def test_a_centroid_dna_is_no_ones_parent():
    """Two families and forty unrelated models, plus a DNA equal to the population's mean:
    it is closer to every unrelated model than any other model is (the attack of the issue:
    it became the parent of 5 of 6 models). The local test keeps it parentless of all."""
    ids, X, truth, dates = _families(n_fam=2, dim=128)
    rng = np.random.default_rng(11)
    loners = rng.standard_normal((40, X.shape[1])).astype(np.float32) * 3
    ids2 = ids + [f"u{i}" for i in range(40)] + ["centroid"]
    X2 = np.vstack([X, loners])
    X2 = np.vstack([X2, X2.mean(axis=0, keepdims=True)])
    an = analyse_population(ids2, X2, fpr=0.05, k=8)
    assert not [p for p in an.parents if p.parent == "centroid"]
    got = an.parent_of()
    assert sum(got[c] == p for c, p in truth.items()) >= 0.75 * len(truth)  # power kept in the families
    # without the local test (no DNAs handed to it) the same centroid is a parent: the guard is what stops it
    from lineage.core.channels.relatedness import fit_null
    from lineage.core.infer.parents import infer_parents
    from lineage.core.measure.distances import condensed_and_neighbours

    _, idx, dist = condensed_and_neighbours(X2, 8)
    bare = infer_parents(ids2, idx, dist, fit_null(X2), fpr=0.05)
    assert len([p for p in bare if p.parent == "centroid"]) >= 3


def test_the_local_test_sees_a_hub_and_not_a_parent():
    ids, X, truth, dates = _families()
    hub = X.mean(axis=0)
    X2 = np.vstack([X, hub[None, :]])
    h, base = len(ids), 0
    d_hub = float(np.linalg.norm(X2[h] - X2[1]))
    d_base = float(np.linalg.norm(X2[base] - X2[1]))
    lp = local_p_values(X2, np.array([h, base]), np.array([d_hub, d_base]))
    assert lp[0] > 0.05 and lp[1] < 1e-3


def test_an_undated_copy_never_becomes_the_parent_of_the_dated_original():
    ids, X, truth, dates = _families()
    rng = np.random.default_rng(9)
    copies = X[[0, 5, 10]] + 1e-3 * rng.standard_normal((3, X.shape[1])).astype(np.float32)
    ids2 = ids + ["copy0", "copy5", "copy10"]
    an = analyse_population(ids2, np.vstack([X, copies]), release_dates=dates + [None] * 3, fpr=0.05, k=8)
    got = an.parent_of()
    for original in ("f0-base", "f1-base", "f2-base"):
        assert got[original] is None or not got[original].startswith("copy"), (original, got[original])
    assert not [p for p in an.parents if p.parent.startswith("copy") and got.get(p.child) and dates[ids.index(p.child)]
                if p.child in ids]


def test_structure_decides_direction_before_dates_and_quantised_copies_stay_leaves():
    from tests.unit.test_weights import base, finetune, prof, prune, quantize

    a = base(0, n_layers=8)
    q1 = quantize(a, bits=4, group=32)
    q2 = quantize(finetune(a, 9, scale=1e-4), bits=8, group=32)
    p = finetune(prune(a, {2, 5}), 4, scale=0.001)
    b = finetune(a, 1)
    u = base(50, n_layers=8)
    ids = ["a", "q1", "q2", "p", "b", "u"]
    weights = [prof(m) for m in (a, q1, q2, p, b, u)]
    rng = np.random.default_rng(0)
    centre = rng.standard_normal(16)
    X = np.stack([centre + 0.3 * rng.standard_normal(16) for _ in ids[:-1]] + [rng.standard_normal(16) * 3])
    # the quantised copy q1 was uploaded a month *before* its source (a re-upload's date)
    dates = [D0, D0 - dt.timedelta(days=30), D0 + dt.timedelta(days=10), D0 + dt.timedelta(days=20),
             D0 + dt.timedelta(days=40), D0]
    an = analyse_population(ids, X, release_dates=dates, weights=weights, fpr=0.05, k=5)
    got = {e.child: (e.parent, e.kind) for e in an.parents}
    assert got["q1"] == ("a", "quantized")
    assert got["p"][0] == "a" and got["q2"][0] != "q1"
    assert "a" not in got and not [e for e in an.parents if e.parent in ("q1", "q2")]


def test_arborescence_without_recursion_at_scale():
    """20,000 unrelated, undated nodes with ten candidates each (a kNN-like graph full of
    mutual-nearest cycles; the recursive version overflowed past ~1,500): a valid
    arborescence whose cost networkx confirms on a 600-node piece."""
    import networkx as nx

    rng = np.random.default_rng(0)
    for n, check in ((600, True), (20000, False)):
        src = np.concatenate([np.full(n, n), rng.integers(0, n, 10 * n)])
        dst = np.concatenate([np.arange(n), np.repeat(np.arange(n), 10)])
        cost = np.concatenate([np.full(n, 10.0), rng.random(10 * n)])
        chosen = min_arborescence(n + 1, n, src, dst, cost)
        assert (dst[chosen[:n]] == np.arange(n)).all() and chosen[n] == -1
        parent = src[chosen[:n]]
        state = np.zeros(n + 1, dtype=np.int8)  # acyclic: every walk reaches the root
        for v in range(n):
            path, x = [], v
            while x != n and state[x] == 0:
                state[x] = 1
                path.append(x)
                x = parent[x]
            assert x == n or state[x] == 2, "cycle"
            state[path] = 2
        if check:
            G = nx.DiGraph()
            for s, d, w in zip(src.tolist(), dst.tolist(), cost.tolist()):
                if s != d and (not G.has_edge(s, d) or G[s][d]["weight"] > w):
                    G.add_edge(s, d, weight=w)
            want = nx.minimum_spanning_arborescence(G).size(weight="weight")
            assert cost[chosen[:n]].sum() == pytest.approx(want)


def test_a_depth_upscaled_child_is_told_from_a_pruned_one():
    """Depth up-scaling (SOLAR-style: a block of layers duplicated, then healed) makes the
    deeper model the child; pruning makes the shallower one the child. Both are recognised,
    whatever the dates say."""
    from tests.unit.test_weights import ROLES, base, finetune, prof, prune

    def upscale(m, dup):
        layers = sorted({int(k.split(".")[2]) for k in m if "layers" in k})
        order = [x for i in layers for x in ([i, i] if i in dup else [i])]
        out = {k: v for k, v in m.items() if "layers" not in k}
        for new, old in enumerate(order):
            for role in ROLES:
                out[f"model.layers.{new}.{role}.weight"] = m[f"model.layers.{old}.{role}.weight"]
        return out

    a = base(0, n_layers=8)
    up = finetune(upscale(a, {2, 3, 4, 5}), 7, scale=0.002)
    pr = finetune(prune(a, {1, 6}), 8, scale=0.002)
    u = base(50, n_layers=8)
    ids, weights = ["a", "up", "pr", "u"], [prof(m) for m in (a, up, pr, u)]
    assert weights[1].duplicated_layers() == 4 and weights[0].duplicated_layers() == 0
    assert weights[2].duplicated_layers() == 0
    rng = np.random.default_rng(0)
    centre = rng.standard_normal(16)
    X = np.stack([centre + 0.3 * rng.standard_normal(16) for _ in range(3)] + [rng.standard_normal(16) * 3])
    dates = [D0 + dt.timedelta(days=60), D0, D0, D0]  # the base's upload is the newest: structure must win
    an = analyse_population(ids, X, release_dates=dates, weights=weights, fpr=0.05, k=3)
    got = {e.child: (e.parent, e.kind) for e in an.parents}
    assert got["up"] == ("a", "upscaled")
    assert got["pr"] == ("a", "pruned")
    assert "a" not in got and "u" not in got


def test_a_declared_parent_is_tested_as_named_in_advance():
    """A child whose distance to its declared parent passes the per-pair test but not the
    correction over 200 candidates: declared, it keeps its parent (one hypothesis named in
    advance); undeclared, the same pair is not enough to invent one."""
    from lineage.core.channels.relatedness import fit_null

    n = 200
    rng = np.random.default_rng(4)
    X = rng.standard_normal((n, 128)).astype(np.float32)
    null = fit_null(X)
    direction = rng.standard_normal(128)
    direction /= np.linalg.norm(direction)
    # place the child where the per-pair p is 1e-3: related at 0.01, not after Holm over 200
    lo, hi = 0.0, 30.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if null.tail_p_value(mid) < 1e-3 else (lo, mid)  # distance to m0 is mid
    child = (X[0] + lo * direction).astype(np.float32)
    ids = [f"m{i}" for i in range(n)] + ["child"]
    X2 = np.vstack([X, child[None, :]])
    declared = [[] for _ in range(n)] + [["m0"]]
    with_decl = analyse_population(ids, X2, declared_parents=declared, fpr=0.01)
    blind = analyse_population(ids, X2, fpr=0.01)
    assert with_decl.parent_of()["child"] == "m0"
    assert blind.parent_of()["child"] is None


def test_a_quantised_release_older_than_its_fine_tunes_is_their_parent():
    """Models published quantised first (GGUF, int4) are fine-tuned from the dequantised weights:
    a full-precision model closer to the quantised one than rounding can explain was made from
    it (the smol zoo's SmolLM2 base is such a release). A quantised copy, farther by its own
    rounding, is a child whatever its upload date."""
    from tests.unit.test_weights import base, finetune, prof, quantize

    a_full = base(0, n_layers=8)
    release = quantize(a_full, bits=4, group=32)      # only the quantised release is published
    t1, t2 = finetune(release, 1, scale=5e-4), finetune(release, 2, scale=5e-4)  # trained from its dequantised weights
    q_copy = quantize(t1, bits=8, group=32)             # a quantised copy of t1, uploaded early
    u = base(50, n_layers=8)
    ids = ["release", "t1", "t2", "q_copy", "u"]
    weights = [prof(m) for m in (release, t1, t2, q_copy, u)]
    rng = np.random.default_rng(0)
    centre = rng.standard_normal(16)
    X = np.stack([centre + 0.3 * rng.standard_normal(16) for _ in range(4)] + [rng.standard_normal(16) * 3])
    dates = [D0, D0 + dt.timedelta(days=30), D0 + dt.timedelta(days=40), D0 + dt.timedelta(days=20), D0]
    an = analyse_population(ids, X, release_dates=dates, weights=weights, fpr=0.05, k=4)
    got = {e.child: e.parent for e in an.parents}
    assert got["t1"] == "release" and got["t2"] == "release"
    assert got["q_copy"] == "t1"  # structure over its early date
    assert "release" not in got
