"""CycloneDX 1.6 JSON through ``cyclonedx-python-lib``.

One ``machine-learning-model`` component per model (bom-ref ``model:<id>``): name,
version (the release date where known), licence, SHA-256 hashes where a property holds
one, and properties. Its ``pedigree.ancestors`` lists every parent claim, declared
(``DECLARED_PARENT``, claim ``metadata``) or inferred (``INFERRED_PARENT``, claim
``evidence``); each ancestor is a stub component whose properties say which model it is
(``lineage:model-id``, ``lineage:ref``), where the claim comes from and what backs it
(confidence, p-value, distance, channel, kind, contradicted and reason, and all edge
properties as JSON in ``lineage:edge-properties``). Undocumented relations and conflicts
are properties of the model's component (``lineage:undocumented-relation``,
``lineage:conflict``, JSON values).

Every value a property carries is text; ``lineage:properties`` holds the model's
properties as one JSON map, so a document parses back into the same models and relations
(:func:`from_cyclonedx`).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from lineage.export.data import LINEAGE_EDGE_TYPES, Edge, ExportData, Node, dumps_value, spdx_licence

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 500
_HASH_PROPS = ("weights_sha256", "weights_key", "source_sha256")
#: Edge properties repeated as their own readable CycloneDX property (all of them are in lineage:edge-properties).
_READABLE_EDGE = ("relation", "source", "confidence", "p_value", "distance", "channel", "kind", "method",
                  "documented", "contradicted", "reason")
#: Model properties repeated as readable CycloneDX properties.
_READABLE_NODE = ("family", "architecture", "params", "status", "source_fingerprint")


def model_ref(model_id: str) -> str:
    return f"model:{model_id}"


def _prop(name: str, value: Any) -> Any:
    from cyclonedx.model import Property

    return Property(name=name, value=value if isinstance(value, str) else dumps_value(value))


def _licence(text: str):
    from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression

    expr = spdx_licence(text)
    if expr is None:  # an unusual licence string: kept as a name
        return DisjunctiveLicense(name=text)
    return LicenseExpression(expr) if " " in expr else DisjunctiveLicense(id=expr)


def _ancestor(child: str, i: int, e: Edge, refs: dict[str, str], names: dict[str, str]):
    from cyclonedx.model.component import Component, ComponentType

    props = [_prop("lineage:model-id", e.target), _prop("lineage:ref", refs.get(e.target, model_ref(e.target))),
             _prop("lineage:edge-type", e.type), _prop("lineage:claim", e.claim)]
    if e.type == "DECLARED_PARENT":
        props.append(_prop("lineage:declared-in", e.props.get("source", "metadata")))
    else:
        props.append(_prop("lineage:evidence-channel", e.props.get("channel", "dna")))
    props += [_prop(f"lineage:{k.replace('_', '-')}", e.props[k]) for k in _READABLE_EDGE
              if k in e.props and k != "source"]
    props.append(_prop("lineage:edge-properties", e.props))
    return Component(name=names.get(e.target, e.target), type=ComponentType.MACHINE_LEARNING_MODEL,
                     bom_ref=f"ancestor:{i}:{model_ref(child)}", properties=props)


def to_cyclonedx(data: ExportData, *, timestamp: datetime | None = None, tool_version: str = "") -> str:
    """A CycloneDX 1.6 JSON BOM of the models and their lineage (one component per model)."""
    from cyclonedx.model import HashAlgorithm, HashType
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType, Pedigree
    from cyclonedx.output.json import JsonV1Dot6

    data = data.only(LINEAGE_EDGE_TYPES)
    refs = {n.id: model_ref(n.id) for n in data.nodes}
    names = {n.id: str(n.props.get("name") or n.id) for n in data.nodes}
    parents: dict[str, list[Edge]] = {}
    extra: dict[str, list] = {}
    for e in data.edges:
        if e.type in ("DECLARED_PARENT", "INFERRED_PARENT"):
            parents.setdefault(e.source, []).append(e)
            if e.type == "DECLARED_PARENT" and e.props.get("contradicted"):
                extra.setdefault(e.source, []).append(_prop("lineage:conflict", {
                    "declared_parent": e.target, **{k: e.props.get(k) for k in ("relation", "source", "reason",
                                                                                  "p_value", "distance")}}))
        else:
            extra.setdefault(e.source, []).append(_prop("lineage:undocumented-relation", {
                "related_to": e.target, "direction": "out", "properties": e.props}))
            extra.setdefault(e.target, []).append(_prop("lineage:undocumented-relation", {
                "related_to": e.source, "direction": "in", "properties": e.props}))
    components = []
    for n in data.nodes:
        p = n.props
        hashes = [HashType(alg=HashAlgorithm.SHA_256, content=str(p[k])) for k in _HASH_PROPS
                  if isinstance(p.get(k), str) and _SHA256.match(p[k])]
        props = [_prop("lineage:model-id", n.id)]
        props += [_prop(f"lineage:{k.replace('_', '-')}", p[k]) for k in _READABLE_NODE if p.get(k) is not None]
        props += extra.get(n.id, [])
        props.append(_prop("lineage:properties", p))
        ancestors = [_ancestor(n.id, i, e, refs, names) for i, e in enumerate(parents.get(n.id, []))]
        components.append(Component(
            name=names[n.id], type=ComponentType.MACHINE_LEARNING_MODEL, bom_ref=refs[n.id],
            version=str(p["release_date"]) if p.get("release_date") else None,
            group=str(p["organisation"]) if p.get("organisation") else None,
            licenses=[_licence(str(p["licence"]))] if p.get("licence") else None,
            hashes=hashes or None, properties=props,
            pedigree=Pedigree(ancestors=ancestors) if ancestors else None,
        ))
    from cyclonedx.model.tool import ToolRepository

    def bom_json(chunk: list, *, with_meta: bool) -> dict:
        meta = BomMetaData(
            timestamp=timestamp or datetime.now(timezone.utc),
            tools=ToolRepository(components=[Component(name="lineage", version=tool_version or None,
                                                       type=ComponentType.APPLICATION)]),
            properties=[_prop("lineage:n-models", len(data.nodes)), _prop("lineage:n-relations", len(data.edges))],
        ) if with_meta else None
        writer = JsonV1Dot6(Bom(components=chunk, metadata=meta))
        writer.generate()
        return writer._bom_json  # the generated document as a dict (saves a dumps/loads per chunk)

    # The library's Bom registers every component as a dependency with a linear scan (quadratic
    # in the number of components): serialise in chunks through it and join the component lists.
    doc = bom_json(components[:_CHUNK], with_meta=True)
    for i in range(_CHUNK, len(components), _CHUNK):
        part = bom_json(components[i:i + _CHUNK], with_meta=False)
        doc.setdefault("components", []).extend(part.get("components", []))
        doc.setdefault("dependencies", []).extend(part.get("dependencies", []))
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def _props_of(component: dict) -> list[tuple[str, str]]:
    return [(p["name"], p.get("value", "")) for p in component.get("properties", [])]


def from_cyclonedx(text: str) -> ExportData:
    """The models and lineage relations a document from :func:`to_cyclonedx` holds."""
    doc = json.loads(text)
    nodes, edges = [], []
    for c in doc.get("components", []):
        props = dict(_props_of(c))
        mid = props["lineage:model-id"]
        nodes.append(Node(mid, json.loads(props["lineage:properties"])))
        for a in (c.get("pedigree") or {}).get("ancestors", []):
            ap = dict(_props_of(a))
            edges.append(Edge(mid, ap["lineage:model-id"], ap["lineage:edge-type"], json.loads(ap["lineage:edge-properties"])))
        for name, value in _props_of(c):
            if name == "lineage:undocumented-relation":
                u = json.loads(value)
                if u["direction"] == "out":
                    edges.append(Edge(mid, u["related_to"], "UNDOCUMENTED_RELATION", u["properties"]))
    return ExportData(nodes, edges)
