"""Checks shared by the graph tests."""

from __future__ import annotations


def assert_queries_match_core(graph, analysis) -> None:
    """The shipped read queries return exactly what the numeric core computed."""
    und = graph.query("undocumented_pairs", limit=100_000, max_p_value=1.0)
    assert sorted((r["model"], r["related_to"]) for r in und) == sorted((u.a, u.b) for u in analysis.undocumented)
    assert_undocumented_grouped_per_model(graph, analysis)
    conf = graph.query("conflicts")
    assert sorted((r["model"], r["declared_parent"]) for r in conf) == sorted(
        (c.child, c.declared_parent) for c in analysis.conflicts)
    fam = graph.query("family_speed")
    assert {r["family"] for r in fam} == {f.family for f in analysis.family_speeds}
    speeds = [r["dna_per_year"] for r in fam if r["dna_per_year"] is not None]
    assert speeds == sorted(speeds, reverse=True)
    # families without a meaningful speed come last and say why
    tail = [r for r in fam if r["dna_per_year"] is None]
    assert fam[len(speeds):] == tail and all(r["note"] for r in tail)


def assert_undocumented_grouped_per_model(graph, analysis) -> None:
    """``undocumented`` holds the core's undocumented relations, one row per unplaced model: each
    relation under exactly one of its ends (the evidence's child when it has a direction), and the
    row's parent is the core's most confident inferred parent of that model."""
    rows = graph.query("undocumented", limit=100_000, max_p_value=1.0)
    models = [r["model"] for r in rows]
    assert len(models) == len(set(models)), "a model appears in more than one row"
    held = sorted(tuple(sorted((r["model"], x))) for r in rows for x in r["relatives"])
    assert held == sorted(tuple(sorted((u.a, u.b))) for u in analysis.undocumented)
    by_model = {r["model"]: r for r in rows}
    for u in analysis.undocumented:
        if u.kind == "parent":
            assert u.a in by_model[u.b]["relatives"], (u, by_model.get(u.b))
    for r in rows:
        assert r["n_relatives"] == len(r["relatives"])
        inferred = sorted((p for p in analysis.parents if p.child == r["model"]), key=lambda p: (-p.confidence, p.parent))
        assert r["parent"] == (inferred[0].parent if inferred else None), r
        assert r["kind"] == (inferred[0].kind if inferred else None), r
        assert r["other_inferred_parents"] == [p.parent for p in inferred[1:]], r
