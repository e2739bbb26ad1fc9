"""Plain JSON (``{"nodes": [...], "edges": [...]}`` with every property) and GraphML
(opens in Gephi, yEd, Cytoscape and networkx).

GraphML attributes are scalars, so a list or map property (``declared_base_models``)
is written as JSON text and its name listed in the graph attribute
``lineage_json_node_keys`` / ``lineage_json_edge_keys``; reading it back restores it.
Each node also gets a ``label`` attribute (its name, else its id) for the viewers, and
each edge a ``type`` attribute (its relation type).

The GraphML text is written here, byte for byte what ``networkx.write_graphml`` writes
for the same ``MultiDiGraph`` (a test compares the two): networkx builds an ElementTree
element per node, edge and value first, 15 s of a 20 s export of 10,000 models and
138k relations.

Characters XML 1.0 forbids (C0 controls but tab, line feed and carriage return; lone
surrogates; U+FFFE and U+FFFF) cannot be written in any XML document, escaped or not
(#21: a model id holding one made a file networkx refused). When any id, name or value
holds one, every string of the document (ids, attribute names and values, relation
types) is written escaped: ``\\`` for a backslash and ``\\uXXXX`` (four lowercase hex
digits) for a forbidden character, and the graph attribute ``lineage_escape`` says so
(value ``backslash-u``). :func:`from_graphml` undoes it, so ids and properties come back
exactly; other readers see the escapes as text. A document without such characters is
unchanged (no ``lineage_escape``, no doubled backslashes).
"""

from __future__ import annotations

import io
import json
import re
from typing import Any, Callable

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


#: Python type -> GraphML ``attr.type``, as networkx maps them (bool before int: a bool is an int).
_XML_TYPES = {str: "string", int: "long", float: "double", bool: "boolean"}
_GRAPHML_HEAD = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">'
)


#: What XML 1.0 cannot hold (its ``Char`` production's complement below U+10000).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_UNESCAPE = re.compile(r"\\(\\|u[0-9a-f]{4})")
#: The graph attribute that marks an escaped document, and its value (the scheme).
ESCAPE_ATTR, ESCAPE_SCHEME = "lineage_escape", "backslash-u"


def escape_xml_invalid(text: str) -> str:
    """``text`` with ``\\`` doubled and each character XML 1.0 forbids as ``\\uXXXX``."""
    return _XML_INVALID.sub(lambda m: f"\\u{ord(m.group()):04x}", text.replace("\\", "\\\\"))


def unescape_xml_invalid(text: str) -> str:
    """The inverse of :func:`escape_xml_invalid`."""
    return _UNESCAPE.sub(lambda m: "\\" if m.group(1) == "\\" else chr(int(m.group(1)[1:], 16)), text)


def _same(text: str) -> str:
    return text


def _attrs(props: dict, json_keys: set, esc: Callable[[str], str] = _same) -> list[tuple[str, Any]]:
    out = []
    for k, v in props.items():
        if v is None:
            continue
        if not _scalar(v):
            json_keys.add(k)
            v = json.dumps(v, ensure_ascii=False)
        out.append((esc(k), esc(v) if isinstance(v, str) else v))
    return out


def _xml_attr(text: str) -> str:
    """ElementTree's attribute escaping (what networkx's writer produces)."""
    text = _xml_text(text)
    for raw, escaped in (('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;")):
        if raw in text:
            text = text.replace(raw, escaped)
    return text


def _xml_text(text: str) -> str:
    """ElementTree's text escaping."""
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        if raw in text:
            text = text.replace(raw, escaped)
    return text


def to_graphml(data: ExportData) -> str:
    """The graph as GraphML text (a directed multigraph: two models may share several relations).

    A graph holding characters XML 1.0 forbids is written escaped (see the module's notes):
    the plain document is checked once, in one pass, so graphs without them cost nothing more.
    """
    text = _graphml(data, _same)
    if _XML_INVALID.search(text):
        text = _graphml(data, escape_xml_invalid)
    return text


def _graphml(data: ExportData, esc: Callable[[str], str]) -> str:
    json_node: set[str] = set()
    json_edge: set[str] = set()
    # Nodes and edges in networkx's order: nodes as added (an edge's unknown end is added
    # bare), edges grouped by source node, then by target in first-seen order, keyed 0, 1, ...
    node_attrs: dict[str, list | None] = {}
    for n in data.nodes:
        node_attrs[esc(n.id)] = [("label", esc(str(n.props.get("name") or n.id))), *_attrs(n.props, json_node, esc)]
    out_edges: dict[str, dict[str, list]] = {}
    for e in data.edges:
        src, tgt = esc(e.source), esc(e.target)
        for end in (src, tgt):
            node_attrs.setdefault(end, None)
        out_edges.setdefault(src, {}).setdefault(tgt, []).append(
            [("type", esc(e.type)), *_attrs(e.props, json_edge, esc)])
    # the key lists hold escaped names; ensure_ascii keeps them ASCII, esc doubles their backslashes
    graph_attrs = [("lineage_json_node_keys", esc(json.dumps(sorted(json_node)))),
                   ("lineage_json_edge_keys", esc(json.dumps(sorted(json_edge))))]
    if esc is not _same:
        graph_attrs.append((ESCAPE_ATTR, ESCAPE_SCHEME))

    keys: dict[tuple, str] = {}  # (name, attr.type, scope) -> key id, numbered in first-use order
    key_lines: list[str] = []

    def data_lines(attrs: list, scope: str, indent: str) -> list[str]:
        lines = []
        for k, v in attrs:
            kind = _XML_TYPES.get(type(v))
            if kind is None:
                raise TypeError(f"GraphML does not support type {type(v)} as data values.")
            kid = keys.get((k, kind, scope))
            if kid is None:
                kid = keys[(k, kind, scope)] = f"d{len(keys)}"
                key_lines.append(f'  <key id="{kid}" for="{scope}" attr.name="{_xml_attr(k)}" attr.type="{kind}" />')
            text = _xml_text(str(v))
            lines.append(f'{indent}<data key="{kid}">{text}</data>' if text else f'{indent}<data key="{kid}" />')
        return lines

    graph_data = data_lines(graph_attrs, "graph", "    ")
    body: list[str] = []
    for nid, attrs in node_attrs.items():
        if attrs is None:
            body.append(f'    <node id="{_xml_attr(nid)}" />')
            continue
        body.append(f'    <node id="{_xml_attr(nid)}">')
        body += data_lines(attrs, "node", "      ")
        body.append("    </node>")
    for src in node_attrs:
        for tgt, edges in out_edges.get(src, {}).items():
            head = f'    <edge source="{_xml_attr(src)}" target="{_xml_attr(tgt)}" id="'
            for key, attrs in enumerate(edges):
                body.append(f'{head}{key}">')
                body += data_lines(attrs, "edge", "      ")
                body.append("    </edge>")
    return "\n".join([_GRAPHML_HEAD, *reversed(key_lines), '  <graph edgedefault="directed">', *body, *graph_data,
                      "  </graph>", "</graphml>", ""])


def from_graphml(text: str) -> ExportData:
    import networkx as nx

    g = nx.read_graphml(io.BytesIO(text.encode("utf-8")), force_multigraph=True)
    escaped = g.graph.get(ESCAPE_ATTR)
    if escaped not in (None, ESCAPE_SCHEME):
        raise ValueError(f"unknown GraphML escape scheme {escaped!r} (this version reads {ESCAPE_SCHEME!r})")
    un = unescape_xml_invalid if escaped else _same

    def value(v):
        return un(v) if isinstance(v, str) else v

    json_node = set(json.loads(un(g.graph.get("lineage_json_node_keys", "[]"))))
    json_edge = set(json.loads(un(g.graph.get("lineage_json_edge_keys", "[]"))))

    def props(attrs: dict, json_keys: set, drop: str) -> dict:
        out = {}
        for k, v in attrs.items():
            if k == drop:
                continue
            k, v = un(k), value(v)
            out[k] = json.loads(v) if k in json_keys else v
        return out

    nodes = [Node(un(str(i)), props(a, json_node, "label")) for i, a in g.nodes(data=True)]
    edges = [Edge(un(str(s)), un(str(t)), un(a["type"]), props(a, json_edge, "type")) for s, t, a in g.edges(data=True)]
    return ExportData(nodes, edges)
