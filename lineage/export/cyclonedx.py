"""CycloneDX 1.6 JSON, checked with ``cyclonedx-python-lib``'s schema validator.

One ``machine-learning-model`` component per model (bom-ref ``model:<id>``): name,
version (the release date where known), licence, SHA-256 hashes where a property holds
one, a ``modelCard`` with what is known (:func:`model_card`), and properties. Its
``pedigree.ancestors`` lists every parent claim, declared (``DECLARED_PARENT``, claim
``metadata``) or inferred (``INFERRED_PARENT``, claim ``evidence``); each ancestor is a
stub component whose properties say which model it is (``lineage:model-id``,
``lineage:ref``), where the claim comes from and what backs it (confidence, p-value,
distance, channel, kind, contradicted and reason, and all edge properties as JSON in
``lineage:edge-properties``). Undocumented relations and conflicts are properties of the
model's component (``lineage:undocumented-relation``, ``lineage:conflict``, JSON
values); a declared base model absent from the graph is a reference
(``lineage:declared-base-not-in-graph``), and the metadata's sources are readable
properties (``lineage:licence-source``, ``lineage:quantisation``, ...).

Every value a property carries is text; ``lineage:properties`` holds the model's
properties as one JSON map, so a document parses back into the same models and relations
(:func:`from_cyclonedx`).

The document is built here as plain dicts in the shape ``cyclonedx-python-lib`` writes
(keys in its order, properties, hashes, ancestors and components sorted as its sorted
sets sort them, every model listed under ``dependencies``): its object model cost ~7 ms
a component (sorted sets, py-serializable), 36-75 s for 10,000 models, and its ``Bom``
registers dependencies with a linear scan, quadratic in components. The tests validate
the documents with the library's own JSON-schema validator, and check that the library
reads one into its object model and writes the same document back.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any
from uuid import uuid4

from lineage.export.data import LINEAGE_EDGE_TYPES, Edge, ExportData, Node, dumps_value, spdx_licence

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ML = "machine-learning-model"
_HASH_PROPS = ("weights_sha256", "source_sha256")  # weights_key is a cache key, not a file hash
#: Edge properties repeated as their own readable CycloneDX property (all of them are in lineage:edge-properties).
_READABLE_EDGE = ("relation", "source", "confidence", "p_value", "distance", "channel", "kind", "method",
                  "documented", "contradicted", "reason")
#: Model properties repeated as readable CycloneDX properties.
_READABLE_NODE = ("family", "architecture", "params", "status", "source_fingerprint", "quantisation", "context_length",
                  "licence_source", "architecture_source", "params_source", "quantisation_source",
                  "declared_base_models_source", "gating_prompt")
#: How the model's DNA was measured: model property -> model-card property.
_DNA_PROVENANCE = {"probe_set": "lineage:dna-probe-set", "n_probes": "lineage:dna-n-probes",
                   "encoder": "lineage:dna-encoder", "dna_dim": "lineage:dna-dim", "dtype": "lineage:dna-dtype",
                   "provenance_key": "lineage:dna-provenance-key"}
#: Architecture family of the model types whose family is not in doubt (Hugging Face
#: ``model_type`` names, compared without ``_``; an architecture class name such as
#: ``LlamaForCausalLM`` is reduced to its type first). Anything else gets no family.
_FAMILIES = {
    **dict.fromkeys(("llama", "gpt2", "gptneox", "gptj", "gptneo", "mistral", "mixtral", "qwen2", "qwen2moe", "qwen3",
                     "qwen3moe", "gemma", "gemma2", "gemma3", "phi", "phi3", "opt", "bloom", "falcon", "olmo", "olmo2",
                     "stablelm", "starcoder2", "gptbigcode", "granite", "cohere", "mpt", "smollm3"), "transformer"),
    **dict.fromkeys(("mamba", "mamba2"), "state-space model"),
    "rwkv": "recurrent neural network",
}
_CLASS_SUFFIX = re.compile(r"(forcausallm|lmheadmodel|forconditionalgeneration|model)$")


def model_ref(model_id: str) -> str:
    return f"model:{model_id}"


def _prop(name: str, value: Any) -> tuple[str, str]:
    return (name, value if isinstance(value, str) else dumps_value(value))


def _props(pairs) -> list[dict]:
    """Properties as the library writes its sorted set of them: by name, then value, no repeats."""
    return [{"name": k, "value": v} for k, v in sorted(set(pairs))]


def _licence(text: str) -> dict:
    expr = spdx_licence(text)
    if expr is None:  # an unusual licence string: kept as a name
        return {"license": {"name": text}}
    return {"expression": expr} if " " in expr else {"license": {"id": expr}}


def _licences(p: dict) -> list[dict]:
    """The declared licence (the card's) and the concluded ones (every licence whose terms reach
    the model along its lineage, ``licence_expression`` from the licence inheritance), each
    with its CycloneDX ``acknowledgement``. A declared compound SPDX expression stays the one
    ``expression`` entry (CycloneDX allows no other entry beside one); the concluded licences
    are then in the ``lineage:licence-concluded`` property only."""
    declared = _licence(str(p["licence"])) if p.get("licence") else None
    if declared is not None and "expression" in declared:
        return [{"acknowledgement": "declared", **declared}]
    out = [] if declared is None else [{"license": {"acknowledgement": "declared", **declared["license"]}}]
    for token in str(p.get("licence_expression") or "").split(" AND "):
        if token:
            key = "id" if spdx_licence(token) == token else "name"
            out.append({"license": {"acknowledgement": "concluded", key: token}})
    # the library's order: acknowledgement, then id, then name (a missing value last)
    return sorted(out, key=lambda x: (x["license"]["acknowledgement"], "id" not in x["license"],
                                      x["license"].get("id", ""), x["license"].get("name", "")))


def _licence_props(p: dict) -> list[tuple[str, str]]:
    """The licence inheritance's summary as readable properties."""
    names = {"licence_expression": "lineage:licence-concluded", "licence_status": "lineage:licence-status",
             "n_licence_conflicts": "lineage:licence-conflicts", "n_inferred_obligations": "lineage:licence-inferred-obligations"}
    return [_prop(name, p[k]) for k, name in names.items() if p.get(k) is not None]


def _ancestor(child: str, i: int, e: Edge, refs: dict[str, str], names: dict[str, str]) -> dict:
    props = [_prop("lineage:model-id", e.target), _prop("lineage:ref", refs.get(e.target, model_ref(e.target))),
             _prop("lineage:edge-type", e.type), _prop("lineage:claim", e.claim)]
    if e.type == "DECLARED_PARENT":
        props.append(_prop("lineage:declared-in", e.props.get("source", "metadata")))
    else:
        props.append(_prop("lineage:evidence-channel", e.props.get("channel", "dna")))
    props += [_prop(f"lineage:{k.replace('_', '-')}", e.props[k]) for k in _READABLE_EDGE
              if k in e.props and k != "source"]
    props.append(_prop("lineage:edge-properties", e.props))
    return {"bom-ref": f"ancestor:{i}:{model_ref(child)}", "name": names.get(e.target, e.target),
            "properties": _props(props), "type": _ML}


def architecture_family(architecture: str) -> str | None:
    """The family (``transformer``, ...) of a model type or architecture class, when known."""
    key = architecture.strip().lower().replace("_", "").replace("-", "")
    return _FAMILIES.get(key) or _FAMILIES.get(_CLASS_SUFFIX.sub("", key))


def model_card(p: dict) -> dict | None:
    """A CycloneDX model card from what the graph knows about a model, or None when it knows nothing.

    ``modelParameters``: the architecture and its family (where the type is one whose
    family is known), and the task ``text-generation`` with text in and out when the
    model's DNA was made from its own answers to probe prompts (``n_probes`` > 0).
    ``considerations.technicalLimitations``: probe prompts it answered with nothing.
    ``properties``: how its DNA was measured (``lineage:dna-*``).
    """
    params: dict = {}
    arch = p.get("architecture")
    if arch:
        params["modelArchitecture"] = str(arch)
        family = architecture_family(str(arch))
        if family:
            params["architectureFamily"] = family
    n_probes, n_empty = p.get("n_probes"), p.get("n_empty")
    generated = type(n_probes) is int and n_probes > 0
    if generated:
        params.update(task="text-generation", inputs=[{"format": "string"}], outputs=[{"format": "string"}])
    limits = []
    some_empty = type(n_empty) is int and n_empty > 0
    if generated and (some_empty or p.get("degenerate")):
        text = f"{n_empty} of its {n_probes}" if some_empty else "Most of its"
        text += " answers to the lineage probe prompts were empty"
        limits.append(text + (": its DNA is not a valid fingerprint, so evidence about its lineage is unreliable."
                              if p.get("degenerate") else "."))
    props = [_prop(name, p[k]) for k, name in _DNA_PROVENANCE.items() if p.get(k) is not None]
    card: dict = {}
    if limits:
        card["considerations"] = {"technicalLimitations": limits}
    if params:
        card["modelParameters"] = dict(sorted(params.items()))  # keys in the order the library writes (by name)
    if props:
        card["properties"] = _props(props)
    return card or None


def _component_order(c: dict) -> tuple:
    """The library's component order: type, group, name, version, bom-ref (a missing value last)."""
    group, version = c.get("group"), c.get("version")
    return (group is None, group or "", c["name"], version is None, version or "", c["bom-ref"])


def to_cyclonedx(data: ExportData, *, timestamp: datetime | None = None, tool_version: str = "") -> str:
    """A CycloneDX 1.6 JSON BOM of the models and their lineage (one component per model)."""
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
        c: dict = {"bom-ref": refs[n.id]}
        if p.get("organisation"):
            c["group"] = str(p["organisation"])
        hashes = sorted({str(p[k]) for k in _HASH_PROPS if isinstance(p.get(k), str) and _SHA256.match(p[k])})
        if hashes:
            c["hashes"] = [{"alg": "SHA-256", "content": h} for h in hashes]
        if p.get("licence") or p.get("licence_expression"):
            c["licenses"] = _licences(p)
        card = model_card(p)
        if card:
            c["modelCard"] = card
        c["name"] = names[n.id]
        ancestors = [_ancestor(n.id, i, e, refs, names) for i, e in enumerate(parents.get(n.id, []))]
        if ancestors:
            c["pedigree"] = {"ancestors": sorted(ancestors, key=_component_order)}
        props = [_prop("lineage:model-id", n.id)]
        props += [_prop(f"lineage:{k.replace('_', '-')}", p[k]) for k in _READABLE_NODE if p.get(k) is not None]
        props += extra.get(n.id, [])
        props += _licence_props(p)
        drawn = {e.target for e in parents.get(n.id, []) if e.type == "DECLARED_PARENT"}
        props += [_prop("lineage:declared-base-not-in-graph", str(b)) for b in p.get("declared_base_models") or []
                  if b not in drawn]
        props.append(_prop("lineage:properties", p))
        c["properties"] = _props(props)
        c["type"] = _ML
        if p.get("release_date"):
            c["version"] = str(p["release_date"])
        components.append(c)
    components.sort(key=_component_order)
    tool = {"name": "lineage", "type": "application", **({"version": tool_version} if tool_version else {})}
    doc: dict = {}
    if components:
        doc["components"] = components
        doc["dependencies"] = [{"ref": r} for r in sorted(c["bom-ref"] for c in components)]
    doc["metadata"] = {
        "properties": _props([_prop("lineage:n-models", len(data.nodes)),
                              _prop("lineage:n-relations", len(data.edges))]),
        "timestamp": (timestamp or datetime.now(timezone.utc)).isoformat(),
        "tools": {"components": [tool]},
    }
    doc.update({"serialNumber": f"urn:uuid:{uuid4()}", "version": 1,
                "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json", "bomFormat": "CycloneDX",
                "specVersion": "1.6"})
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
