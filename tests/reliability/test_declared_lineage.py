"""Impossible lineage is refused before anything is written: a model its own parent, the
same parent twice, a cycle among the declarations; the ground truth refuses them too."""

from __future__ import annotations

import json

import pytest

from tests.helpers.cli import assert_one_line_error, run_cli
from tests.reliability._hostile import counts, jsonl, population

IMPOSSIBLE = {
    "self_parent": ({"ok0": ["ok0"]}, "its own parent"),
    "same_parent_twice": ({"ok1": ["ok0", "ok0"]}, "declared twice"),
    "two_cycle": ({"ok0": ["ok1"], "ok1": ["ok0"]}, "cycle"),
    "three_cycle": ({"ok0": ["ok2"], "ok1": ["ok0"], "ok2": ["ok1"]}, "cycle: 'ok0' -> 'ok2' -> 'ok1' -> 'ok0'"),
}


@pytest.mark.neo4j
@pytest.mark.parametrize("case", sorted(IMPOSSIBLE))
def test_impossible_declared_lineage_is_refused_and_the_graph_unchanged(case, tmp_path, graph, settings):
    from lineage.pipeline.ingest import ingest

    rows = population(tmp_path, n=4)
    ingest(jsonl(tmp_path / "first.jsonl", rows), settings=settings)
    before = counts(graph)
    parents, needle = IMPOSSIBLE[case]
    for r in rows:
        if r["id"] in parents:
            r["base_model"] = parents[r["id"]]
    assert_one_line_error(run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows))), needle)
    assert counts(graph) == before


def test_unknown_parents_are_found():
    from lineage.manifest import parse_manifest, unknown_parents

    m = parse_manifest([{"id": "a", "dna": "a.json", "base_model": ["ghost", "b"]},
                        {"id": "b", "dna": "b.json", "base_model": "in-graph"}])
    assert unknown_parents(m) == [("a", "ghost"), ("b", "in-graph")]
    assert unknown_parents(m, known_ids=["in-graph"]) == [("a", "ghost")]


def test_cycle_through_the_graph_is_found():
    from lineage.errors import ManifestError
    from lineage.manifest import check_declared_lineage, parse_manifest

    m = parse_manifest([{"id": "a", "dna": "a.json", "base_model": "old"}])
    check_declared_lineage(m.models, {"old": ["root"]})
    with pytest.raises(ManifestError, match="cycle"):
        check_declared_lineage(m.models, {"old": ["a"]})


TRUTHS = {
    "self_edge": ([("a", "a")], "its own parent"),
    "duplicate": ([("a", "b"), ("a", "b")], "appears twice"),
    "cycle": ([("a", "b"), ("b", "c"), ("c", "a")], "cycle"),
}


@pytest.mark.parametrize("case", sorted(TRUTHS))
def test_ground_truth_refuses_impossible_genealogy(case, tmp_path):
    from lineage.errors import ManifestError
    from lineage.manifest import load_truth

    edges, needle = TRUTHS[case]
    path = tmp_path / "truth.json"
    path.write_text(json.dumps({"models": [{"id": m, "family": "f"} for m in "abc"],
                                "edges": [{"parent": p, "child": c, "relation": "finetune"} for p, c in edges]}))
    with pytest.raises(ManifestError, match=needle):
        load_truth(path)


@pytest.mark.parametrize("content", [b"\xff\xfe{}", b"[" * 100_000 + b"]" * 100_000], ids=["not_utf8", "deep"])
def test_hostile_ground_truth_is_one_error(content, tmp_path):
    from lineage.errors import ManifestError
    from lineage.manifest import load_truth

    path = tmp_path / "truth.json"
    path.write_bytes(content)
    with pytest.raises(ManifestError):
        load_truth(path)
    with pytest.raises(ManifestError, match="is a directory"):
        load_truth(tmp_path)
