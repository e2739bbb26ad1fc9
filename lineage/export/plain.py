"""Plain JSON (``{"nodes": [...], "edges": [...]}`` with every property) and GraphML
(networkx's writer: opens in Gephi, yEd, Cytoscape and networkx).

GraphML attributes are scalars, so a list or map property (``declared_base_models``)
is written as JSON text and its name listed in the graph attribute
``lineage_json_node_keys`` / ``lineage_json_edge_keys``; reading it back restores it.
Each node also gets a ``label`` attribute (its name, else its id) for the viewers, and
each edge a ``type`` attribute (its relation type).
"""

from __future__ import annotations

import io
import json
from typing import Any

from lineage.export.data import Edge, ExportData, Node

JSON_FORMAT = "lineage-graph"
JSON_VERSION = 1


def to_json(data: ExportData) -> str:
    """Every model and relation with every property, as one JSON document."""
    doc = {
        "format": JSON_FORMAT, "version": JSON_VERSION,
        "nodes": [{"id": n.id, "labels": ["Model"], "properties": n.props} for n in data.nodes],
        "edges": [{"source": e.source, "target": e.target, "type": e.type, "properties": e.props} for e in data.edges],
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def from_json(text: str) -> ExportData:
    doc = json.loads(text)
    if doc.get("format") != JSON_FORMAT:
        raise ValueError(f"not a {JSON_FORMAT} document")
    return ExportData([Node(n["id"], dict(n.get("properties") or {})) for n in doc["nodes"]],
                      [Edge(e["source"], e["target"], e["type"], dict(e.get("properties") or {})) for e in doc["edges"]])


def _scalar(v: Any) -> bool:
    return isinstance(v, (str, int, float, bool))


def to_graphml(data: ExportData) -> str:
    """The graph as GraphML text (a directed multigraph: two models may share several relations)."""
    import networkx as nx

    g = nx.MultiDiGraph()
    json_node, json_edge = set(), set()
    for n in data.nodes:
        attrs = {}
        for k, v in n.props.items():
            if v is None:
                continue
            if not _scalar(v):
                json_node.add(k)
                v = json.dumps(v, ensure_ascii=False)
            attrs[k] = v
        g.add_node(n.id, label=str(n.props.get("name") or n.id), **attrs)
    for e in data.edges:
        attrs = {}
        for k, v in e.props.items():
            if v is None:
                continue
            if not _scalar(v):
                json_edge.add(k)
                v = json.dumps(v, ensure_ascii=False)
            attrs[k] = v
        g.add_edge(e.source, e.target, type=e.type, **attrs)
    g.graph["lineage_json_node_keys"] = json.dumps(sorted(json_node))
    g.graph["lineage_json_edge_keys"] = json.dumps(sorted(json_edge))
    buf = io.BytesIO()
    nx.write_graphml(g, buf, encoding="utf-8")
    return buf.getvalue().decode("utf-8")


def from_graphml(text: str) -> ExportData:
    import networkx as nx

    g = nx.read_graphml(io.BytesIO(text.encode("utf-8")), force_multigraph=True)
    json_node = set(json.loads(g.graph.get("lineage_json_node_keys", "[]")))
    json_edge = set(json.loads(g.graph.get("lineage_json_edge_keys", "[]")))

    def props(attrs: dict, json_keys: set, drop: str) -> dict:
        return {k: (json.loads(v) if k in json_keys else v) for k, v in attrs.items() if k != drop}

    nodes = [Node(str(i), props(a, json_node, "label")) for i, a in g.nodes(data=True)]
    edges = [Edge(str(s), str(t), a["type"], props(a, json_edge, "type")) for s, t, a in g.edges(data=True)]
    return ExportData(nodes, edges)
