"""Checks shared by the graph tests."""

from __future__ import annotations


def assert_queries_match_core(graph, analysis) -> None:
    """The shipped read queries return exactly what the numeric core computed."""
    und = graph.query("undocumented", limit=100_000, max_p_value=1.0)
    assert sorted((r["model"], r["related_to"]) for r in und) == sorted((u.a, u.b) for u in analysis.undocumented)
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
