"""What an export holds: models (nodes) and the relations between them (edges), with
every property as plain Python values (str, int, float, bool, lists of them; dates as
ISO strings)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

#: The relations an export carries. SIMILAR_TO and WEIGHTS_MATCH go only to the
#: graph formats (GraphML, JSON); the bills of materials carry the lineage kinds.
EDGE_TYPES = ("DECLARED_PARENT", "INFERRED_PARENT", "UNDOCUMENTED_RELATION", "WEIGHTS_MATCH", "SIMILAR_TO")
LINEAGE_EDGE_TYPES = ("DECLARED_PARENT", "INFERRED_PARENT", "UNDOCUMENTED_RELATION")


@dataclass(frozen=True)
class Node:
    """A model: its id and every stored property except the DNA vector."""

    id: str
    props: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Edge:
    """A relation ``source -> target`` (child -> parent for the parent kinds)."""

    source: str
    target: str
    type: str
    props: dict[str, Any] = field(default_factory=dict)

    @property
    def claim(self) -> str:
        """Where the claim comes from: ``metadata`` (a declaration) or ``evidence`` (inferred)."""
        return "metadata" if self.type == "DECLARED_PARENT" else "evidence"

    def sort_key(self) -> tuple:
        return (self.type, self.source, self.target, json.dumps(self.props, sort_keys=True, default=str))


def _triple(e: Edge) -> tuple[str, str, str]:
    return (e.type, e.source, e.target)


def sorted_edges(edges: list[Edge]) -> list[Edge]:
    """``edges`` in :meth:`Edge.sort_key` order. Only relations of one type between the same
    pair (rare) are told apart by their properties: serialising every edge's properties for
    the key took ~1 s of a 138k-relation export, and :meth:`ExportData.only` paid it again."""
    out = sorted(edges, key=_triple)
    i, n = 0, len(out)
    while i < n:
        j, key = i + 1, _triple(out[i])
        while j < n and _triple(out[j]) == key:
            j += 1
        if j - i > 1:
            out[i:j] = sorted(out[i:j], key=Edge.sort_key)
        i = j
    return out


@dataclass
class ExportData:
    """Models and relations, in a stable order (models by id, edges by type, source, target,
    then properties)."""

    nodes: list[Node]
    edges: list[Edge]

    def __post_init__(self) -> None:
        self.nodes = sorted(self.nodes, key=lambda n: n.id)
        self.edges = sorted_edges(self.edges)

    def only(self, types: tuple[str, ...]) -> "ExportData":
        """The same models with only the edges of ``types``."""
        return ExportData(list(self.nodes), [e for e in self.edges if e.type in types])

    def node(self, model_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == model_id), None)


def dumps_value(v: Any) -> str:
    """A property value as compact JSON (how the BOM formats carry typed values)."""
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@lru_cache(maxsize=1)
def _spdx_licensing():
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


@lru_cache(maxsize=4096)
def spdx_licence(text: str) -> str | None:
    """``text`` as a normalised SPDX licence expression, or None when it is not one.
    (Cached: building the SPDX licence index costs ~0.1 s, a validation a few ms.)"""
    try:
        parsed = _spdx_licensing().validate(text)
    except Exception:  # the parser raises on some malformed strings instead of reporting them
        return None
    return parsed.normalized_expression if not parsed.errors and not parsed.invalid_symbols else None
