"""Tree building: textbook NJ, additive trees recovered exactly, rooting, ids, Newick."""

import itertools

import networkx as nx
import numpy as np
import pytest
from scipy.spatial.distance import squareform

from lineage.core.infer.tree import (
    Tree,
    build_tree,
    clade_id,
    quote_label,
    robinson_foulds,
    tree_from_distances,
    tree_from_genealogy,
)


def patristic(tree: Tree) -> dict[tuple[str, str], float]:
    G = nx.Graph()
    G.add_weighted_edges_from(tree.edges)
    d = dict(nx.all_pairs_dijkstra_path_length(G))
    return {(a, b): d[a][b] for a in tree.leaves for b in tree.leaves}


def unrooted_lengths(tree: Tree) -> dict[frozenset, float]:
    """Edge length per split (side without the first leaf), root edges merged."""
    sets = tree.leaf_sets()
    ref = tree.leaves[0]
    everything = frozenset(tree.leaves)
    out: dict[frozenset, float] = {}
    for _, c, length in tree.edges:
        s = sets[c]
        key = s if ref not in s else everything - s
        out[key] = out.get(key, 0.0) + length
    return out


# Wikipedia "Neighbor joining" worked example (after Saitou & Nei 1987).
WIKI_IDS = list("abcde")
WIKI_D = np.array(
    [[0, 5, 9, 9, 8], [5, 0, 10, 10, 9], [9, 10, 0, 8, 7], [9, 10, 8, 0, 3], [8, 9, 7, 3, 0]], dtype=np.float32
)


def test_textbook_five_taxa_topology_and_lengths():
    t = tree_from_distances(WIKI_IDS, squareform(WIKI_D))
    L = unrooted_lengths(t)
    # pendant edges a:2 b:3 c:4 d:2 e:1; internal u-v 3 (split ab|cde), v-w 2 (split de|abc)
    assert L[frozenset("b")] == pytest.approx(3)
    assert L[frozenset("c")] == pytest.approx(4)
    assert L[frozenset("d")] == pytest.approx(2)
    assert L[frozenset("e")] == pytest.approx(1)
    assert L[frozenset("bcde")] == pytest.approx(2)  # a's pendant edge, seen from a's side
    assert L[frozenset("cde")] == pytest.approx(3)
    assert L[frozenset("de")] == pytest.approx(2)
    assert len(L) == 7  # 5 pendant + 2 internal edges: binary unrooted tree


def test_textbook_midpoint_root_and_newick():
    t = tree_from_distances(WIKI_IDS, squareform(WIKI_D), root="midpoint")
    # the longest paths (b..c and b..d, length 10) have their middle on edge u-v, 2 from u
    assert t.to_newick() == "((c:4,(d:2,e:1):2):1,(a:2,b:3):2);"
    assert t.root == clade_id(WIKI_IDS)


def random_additive(n: int, rng) -> tuple[list[str], np.ndarray, Tree]:
    """A random binary tree with positive lengths and its exact patristic distances."""
    ids = [f"t{i}" for i in range(n)]
    edges = []
    pool = list(ids)
    k = 0
    while len(pool) > 1:
        a, b = rng.choice(len(pool), 2, replace=False)
        v = f"v{k}"
        k += 1
        edges += [(v, pool[a], float(rng.uniform(0.1, 2))), (v, pool[b], float(rng.uniform(0.1, 2)))]
        pool = [x for i, x in enumerate(pool) if i not in (a, b)] + [v]
    true = Tree(nodes=tuple(ids) + tuple(f"v{i}" for i in range(k)), edges=tuple(edges), root=pool[0], leaves=tuple(ids))
    P = patristic(true)
    D = np.array([[P[a, b] for b in ids] for a in ids])
    D = (D + D.T) / 2
    return ids, D, true


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_additive_distances_give_back_the_tree(seed):
    rng = np.random.default_rng(seed)
    ids, D, true = random_additive(40, rng)
    t = tree_from_distances(ids, squareform(D).astype(np.float32))
    assert robinson_foulds(t, true).distance == 0
    got, want = unrooted_lengths(t), unrooted_lengths(true)
    assert got.keys() == want.keys()
    for s in want:
        assert got[s] == pytest.approx(want[s], abs=2e-4)


def test_upgma_recovers_ultrametric_tree():
    # ((a:1,b:1):2,(c:2,d:2):1) -- ultrametric, height 3
    ids = list("abcd")
    D = np.array([[0, 2, 6, 6], [2, 0, 6, 6], [6, 6, 0, 4], [6, 6, 4, 0]], dtype=float)
    t = tree_from_distances(ids, squareform(D), method="upgma")
    P = patristic(t)
    for i, j in itertools.combinations(range(4), 2):
        assert P[ids[i], ids[j]] == pytest.approx(D[i, j])
    depth = t.root_to_tip()
    assert {round(depth[m], 9) for m in ids} == {3.0}


def test_outgroup_rooting_puts_outgroup_under_root():
    t = tree_from_distances(WIKI_IDS, squareform(WIKI_D), root="outgroup", outgroup="e")
    assert "e" in [c for c, _ in t.children[t.root]]
    assert patristic(t)[("a", "e")] == pytest.approx(8)
    with pytest.raises(ValueError, match="outgroup"):
        tree_from_distances(WIKI_IDS, squareform(WIKI_D), root="outgroup", outgroup="zz")


def test_clade_ids_stable_across_runs_and_input_order():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 16)).astype(np.float32)
    ids = [f"m{i}" for i in range(30)]
    t1 = build_tree(ids, X)
    perm = rng.permutation(30)
    t2 = build_tree([ids[i] for i in perm], X[perm])
    assert t1.root == t2.root
    assert set(t1.nodes) == set(t2.nodes)
    assert {(p, c) for p, c, _ in t1.edges} == {(p, c) for p, c, _ in t2.edges}
    assert all(length >= 0 for _, _, length in t1.edges)
    assert len(t1.nodes) == len(set(t1.nodes))


def test_newick_quotes_special_ids():
    assert quote_label("smol-135m_v1.2") == "smol-135m_v1.2"
    assert quote_label("org/model's (v1)") == "'org/model''s (v1)'"
    ids = ["a b", "c,d", "e:f", "g'h"]
    D = np.array([[0, 2, 3, 3], [2, 0, 3, 3], [3, 3, 0, 2], [3, 3, 2, 0]], dtype=np.float32)
    nwk = tree_from_distances(ids, squareform(D)).to_newick()
    for q in ("'a b'", "'c,d'", "'e:f'", "'g''h'"):
        assert q in nwk
    assert nwk.endswith(";")


def test_deep_caterpillar_does_not_recurse():
    # a chain of 3000 models: depth ~3000 would break recursive code
    X = (np.arange(3000, dtype=np.float32)[:, None] * np.ones((1, 4), dtype=np.float32)) ** 1.01
    t = build_tree([f"m{i}" for i in range(3000)], X)
    assert t.to_newick().count(",") == len(t.edges) - len([v for v in t.nodes if t.children[v]])


def test_robinson_foulds_hand_example():
    D1 = np.array([[0, 2, 4, 5, 5], [2, 0, 4, 5, 5], [4, 4, 0, 5, 5], [5, 5, 5, 0, 2], [5, 5, 5, 2, 0]], float)
    D2 = D1[[0, 2, 1, 3, 4]][:, [0, 2, 1, 3, 4]]  # swap b and c: ((a,c),b,(d,e))
    t1 = tree_from_distances(list("abcde"), squareform(D1))
    t2 = tree_from_distances(list("abcde"), squareform(D2))
    rf = robinson_foulds(t1, t2)
    assert (rf.distance, rf.max_distance, rf.normalised) == (2, 4, 0.5)
    assert robinson_foulds(t1, t1).normalised == 0.0


def test_genealogy_tree_makes_ancestors_leaves():
    g = tree_from_genealogy(list("abcdef"), {"b": ["a"], "c": ["a"], "d": ["c"], "f": ["e"]})
    sets = {frozenset(s) for s in g.leaf_sets().values() if len(s) > 1}
    assert frozenset("abcd") in sets and frozenset("cd") in sets and frozenset("ef") in sets
    assert frozenset(g.leaf_sets()[g.root]) == frozenset("abcdef")
    # parents outside the population are skipped: d hangs from a through the missing c
    g2 = tree_from_genealogy(list("abd"), {"b": ["a"], "c": ["a"], "d": ["c"]})
    assert frozenset("abd") == g2.leaf_sets()[g2.root]
