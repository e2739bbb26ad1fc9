"""GraphML export of ids and properties holding characters XML 1.0 forbids (#21: a control
character in an id once made a file networkx refused). The document must be well-formed for a
strict parser, and reading it back must give every id and property exactly, the relations
between the same ids."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest

from tests.helpers.cli import run_cli
from tests.reliability._hostile import counts, dna_file, jsonl

#: One of each kind XML 1.0 cannot hold, and the look-alikes of the escape itself.
FORBIDDEN = {
    "nul": "\x00", "c0_low": "\x01\x08", "vertical_tab": "\x0b", "form_feed": "\x0c", "c0_high": "\x0e\x1f",
    "lone_high_surrogate": "\ud800", "lone_low_surrogate": "\udfff", "ufffe": "\ufffe", "uffff": "\uffff",
}


def _graph(bad: str):
    from lineage.export.data import Edge, ExportData, Node

    child, parent = f"org/child{bad}", f"org/par\\u0041ent{bad}\\"  # a literal backslash-u beside the bad one
    nodes = [Node(child, {"name": f"name{bad}", "family": f"fam{bad}", f"prop{bad}": 1.5,
                          "declared_base_models": [parent, f"x{bad}"]}),
             Node(parent, {"name": "plain", "licence": "mit"}),
             Node("other\\model", {"family": "back\\slash"})]
    edges = [Edge(child, parent, "DECLARED_PARENT", {"source": f"card{bad}"}),
             Edge(child, parent, "SIMILAR_TO", {"distance": 0.25}),
             Edge("other\\model", parent, "INFERRED_PARENT", {"confidence": 0.5})]
    return ExportData(nodes, edges)


@pytest.mark.parametrize("case", sorted(FORBIDDEN))
def test_graphml_with_xml_invalid_characters_is_well_formed_and_reads_back_exactly(case):
    import networkx as nx

    from lineage.export.plain import from_graphml, to_graphml

    data = _graph(FORBIDDEN[case])
    text = to_graphml(data)
    raw = text.encode("utf-8")  # a lone surrogate could not even be encoded
    ET.fromstring(raw)  # strict: raises ParseError on any character XML forbids
    g = nx.read_graphml(io.BytesIO(raw), force_multigraph=True)
    assert g.number_of_nodes() == 3 and g.number_of_edges() == 3
    assert g.graph["lineage_escape"] == "backslash-u"
    back = from_graphml(text)
    assert back.nodes == data.nodes
    assert back.edges == data.edges


def test_graphml_escape_is_one_to_one_on_ids_that_differ_only_by_the_escape():
    """``a\\x01`` and the six characters ``a\\u0001`` stay two models (a backslash is doubled)."""
    from lineage.export.data import ExportData, Node
    from lineage.export.plain import from_graphml, to_graphml

    data = ExportData([Node("a\x01", {}), Node("a\\u0001", {}), Node("a\\\\u0001", {})], [])
    back = from_graphml(to_graphml(data))
    assert [n.id for n in back.nodes] == [n.id for n in data.nodes]


def test_graphml_without_invalid_characters_is_left_unescaped():
    from lineage.export.data import ExportData, Node
    from lineage.export.plain import to_graphml

    text = to_graphml(ExportData([Node("a\\b", {"family": "tab\there"})], []))
    assert "lineage_escape" not in text
    assert 'node id="a\\b"' in text and "a\\\\b" not in text


@pytest.mark.neo4j
def test_export_of_an_ingested_id_with_a_control_character_is_valid_graphml(tmp_path, graph):
    """The way a user meets it: a JSON manifest may spell ``\\u0001`` in an id; ingest stores it,
    `lineage export --format graphml` must still write a file a strict parser reads."""
    from lineage.export.plain import from_graphml

    ids = ["ctl\x01model", "ctl\x1fchild"]
    rows = []
    for i, mid in enumerate(ids):
        dna_file(tmp_path / f"d{i}.json", mid)
        rows.append({"id": mid, "dna": f"d{i}.json", "family": "f\x0b"})
    rows[1]["base_model"] = ids[0]
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)), env={"LINEAGE_CACHE_DIR": str(tmp_path / "cache")})
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    before = counts(graph)
    out = tmp_path / "g.graphml"
    proc = run_cli("export", "--format", "graphml", "--out", str(out))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    ET.fromstring(out.read_bytes())
    back = from_graphml(out.read_text(encoding="utf-8"))
    assert sorted(n.id for n in back.nodes) == sorted(ids)
    assert {n.props["family"] for n in back.nodes} == {"f\x0b"}
    declared = [(e.source, e.target) for e in back.edges if e.type == "DECLARED_PARENT"]
    assert declared == [(ids[1], ids[0])]
    assert counts(graph) == before
