"""Model metadata merged from every place a model keeps it.

Sources, strongest first (a weaker source only fills what a stronger one leaves empty):

1. ``manifest``: what the manifest entry says;
2. ``card``: the model card (``README.md`` front matter) in the folder, or beside the file;
3. ``header``: file headers: the GGUF header, ``config.json``, the safetensors
   ``__metadata__``, ``adapter_config.json``;
4. ``derived``: what is counted from headers (parameters from tensor shapes, the
   quantisation from GGUF tensor types).

The readers are in :mod:`lineage.loaders.metadata`. Every value that lands on the node
carries its source in ``<field>_source`` (``licence_source: gguf:general.license``), so a
reviewer sees where each claim came from. Two sources that disagree on a checked field
(licence, architecture, parameters, quantisation, context length, base models, release
date) give a ``warning:`` line naming both values and both sources, and the stronger one is
kept. A source that cannot be read (a truncated GGUF header, a card whose YAML is broken)
contributes what was valid, with a warning; it never stops the model from landing.

A declared base model from the card or the GGUF header fills ``base_model`` when the
manifest names none; one absent from the graph stays a reference (``declared_base_models``)
and draws no edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lineage.loaders.metadata import TIERS, Fact, Metadata, read_metadata
from lineage.manifest import MAX_ID_LENGTH, ManifestEntry, log

#: Entry fields a weaker source may fill.
_ENTRY_FIELDS = ("name", "family", "organisation", "release_date", "licence", "architecture", "params")
#: Node properties that exist only through the readers (no manifest field).
EXTRA_FIELDS = ("quantisation", "context_length", "n_layers", "hidden_size", "weights_dtype", "gating_prompt",
                "tags", "basename", "size_label", "adapter_base", "peft_type", "lora_rank", "safetensors_metadata")
#: Fields whose disagreeing sources are reported.
_CHECKED = ("licence", "architecture", "params", "quantisation", "context_length", "base_models", "release_date")
#: Where a declared parent came from, as DECLARED_PARENT edges name it.
_DECLARED_IN = {"manifest": "manifest", "card": "model_card", "header": "gguf_header"}
#: Every node property :func:`describe` may set (absent ones are cleared on re-ingest).
NODE_PROPS = (*EXTRA_FIELDS, *(f"{f}_source" for f in (*_ENTRY_FIELDS, *EXTRA_FIELDS)),
              "declared_base_models_source", "gated", "metadata_warnings")
#: Most warnings kept on a node.
MAX_NODE_WARNINGS = 20
_CLASS_SUFFIXES = ("forcausallm", "lmheadmodel", "forconditionalgeneration", "model")


@dataclass
class Described:
    """A manifest entry with its metadata filled, where its declared parents came from
    (``manifest``, ``model_card``, ``gguf_header`` or None), the node properties the
    metadata adds (values of :data:`EXTRA_FIELDS` and ``<field>_source`` for every value),
    and the warnings raised."""

    entry: ManifestEntry
    declared_source: str | None
    props: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _parents(ids: list[str], model_id: str, where: str, warnings: list[str]) -> list[str]:
    """Declared base ids as the graph takes them: a model named as its own parent, repeats,
    and empty or over-long ids are dropped with a warning."""
    out: list[str] = []
    for p in ids:
        if p == model_id:
            warnings.append(f"warning: {where}: declares the model as its own parent; ignored")
        elif not p or len(p) > MAX_ID_LENGTH:
            warnings.append(f"warning: {where}: base_model id of {len(p)} characters; ignored")
        elif p in out:
            warnings.append(f"warning: {where}: base_model {_short(p)} declared twice; kept once")
        else:
            out.append(p)
    return out


def _manifest_facts(entry: ManifestEntry) -> list[Fact]:
    facts = [Fact(f, getattr(entry, f), "manifest", "manifest") for f in _ENTRY_FIELDS
             if getattr(entry, f) is not None]
    if entry.base_model:
        facts.append(Fact("base_models", list(entry.base_model), "manifest", "manifest"))
    if entry.base_model_relation:
        facts.append(Fact("base_model_relation", entry.base_model_relation, "manifest", "manifest"))
    return facts


def _same(field_: str, a: Any, b: Any) -> bool:
    """Whether two sources agree (licence and architecture names compared loosely:
    ``MIT`` = ``mit``, ``LlamaForCausalLM`` = ``llama``)."""
    def norm(v):
        if field_ == "base_models":
            return sorted(str(x).strip().lower() for x in v)
        if field_ == "licence":  # `license: other` + `license_name: x` (stored `other: x`) agrees with `x`
            key = str(v).strip().lower()
            return key.split(":", 1)[1].strip() if key.startswith("other:") else key
        if field_ == "quantisation":
            return str(v).strip().lower()
        if field_ == "architecture":
            key = str(v).strip().lower().replace("_", "").replace("-", "")
            for suffix in _CLASS_SUFFIXES:
                if key.endswith(suffix) and len(key) > len(suffix):
                    return key[: -len(suffix)]
            return key
        return str(v)
    return norm(a) == norm(b)


def merge(facts: list[Fact], model_id: str) -> tuple[dict[str, Fact], list[str]]:
    """The winning fact per field (manifest > card > header > derived; the first read within
    a tier) and a warning for each source that disagrees with the winner on a checked field."""
    ranked = sorted(facts, key=lambda f: TIERS.index(f.tier))  # stable: reading order within a tier
    winners: dict[str, Fact] = {}
    warnings: list[str] = []
    for f in ranked:
        w = winners.setdefault(f.field, f)
        if w is not f and f.field in _CHECKED and not _same(f.field, w.value, f.value):
            warnings.append(f"warning: model {model_id!r}: {f.field}: {w.source} says {_short(w.value)}, "
                            f"{f.source} says {_short(f.value)}; {w.source} kept ({w.tier} over {f.tier})")
    return winners, warnings


def describe(entry: ManifestEntry) -> Described:
    """Fill the entry's empty metadata from the files at its path and record where each value came from.

    Every reader of :mod:`lineage.loaders.metadata` that applies to ``entry.path`` runs (a
    GGUF file: its header and the card beside it; a folder: card, ``config.json``,
    safetensors headers, adapter config); :func:`merge` orders their facts after the
    manifest's. Warnings are logged (one ``warning:`` line each) and kept on the node
    (``metadata_warnings``)."""
    md = Metadata(facts=_manifest_facts(entry))
    if entry.path is not None and entry.source_kind in ("gguf", "folder", "dna"):
        md.extend(read_metadata(entry.path))
    winners, conflicts = merge(md.facts, entry.id)
    warnings = md.warnings + conflicts
    update: dict = {f: winners[f].value for f in _ENTRY_FIELDS if getattr(entry, f) is None and f in winners}
    declared_source = "manifest" if entry.base_model else None
    bases = winners.get("base_models")
    if not entry.base_model and bases is not None:
        parents = _parents(list(bases.value), entry.id, f"{bases.source} of {entry.id!r}", warnings)
        if parents:
            update["base_model"] = parents
            declared_source = _DECLARED_IN.get(bases.tier, bases.tier)
    rel = winners.get("base_model_relation")
    if entry.base_model_relation is None and rel is not None and (entry.base_model or update.get("base_model")):
        update["base_model_relation"] = rel.value
    props: dict = {f: winners[f].value for f in EXTRA_FIELDS if f in winners}
    for f, fact in winners.items():
        if f in _ENTRY_FIELDS or f in EXTRA_FIELDS:
            props[f"{f}_source"] = fact.source
    if bases is not None and (entry.base_model or update.get("base_model")):
        props["declared_base_models_source"] = bases.source
    if "gating_prompt" in props:
        props["gated"] = True
    for w in warnings:
        log.warning("%s", w)
    if warnings:
        props["metadata_warnings"] = [w.removeprefix("warning: ")[:300] for w in warnings[:MAX_NODE_WARNINGS]]
    return Described(entry.model_copy(update=update) if update else entry, declared_source, props, warnings)


def enrich(entry: ManifestEntry) -> tuple[ManifestEntry, str | None]:
    """:func:`describe` without the node properties: the filled entry and where its declared
    parents came from (``"manifest"``, ``"model_card"``, ``"gguf_header"`` or None)."""
    d = describe(entry)
    return d.entry, d.declared_source
