"""Governance exports and reports, as pure conversions.

Every function here turns an :class:`ExportData` (models and the relations between
them, as read from the graph) into a document, or a document back into an
:class:`ExportData`; none reads the graph, a file or the network. The Neo4j side lives in
:mod:`lineage.graph.export`.

- :mod:`.data`: the :class:`ExportData` rows and the edge kinds.
- :mod:`.plain`: plain JSON (nodes and edges with every property) and GraphML.
- :mod:`.cyclonedx`: CycloneDX 1.6 JSON (``cyclonedx-python-lib``).
- :mod:`.spdx`: SPDX 3.0.1 JSON-LD with the AI profile (``spdx-python-model``).
- :mod:`.report`: the per-model HTML report (inline SVG, no network).
"""

from lineage.export.data import EDGE_TYPES, LINEAGE_EDGE_TYPES, Edge, ExportData, Node

__all__ = ["EDGE_TYPES", "LINEAGE_EDGE_TYPES", "Edge", "ExportData", "Node", "to_format", "from_format", "FORMATS"]

FORMATS = ("cyclonedx", "spdx", "graphml", "json")


def to_format(data: ExportData, format: str, **kw) -> str:
    """``data`` as a document in ``format`` (one of :data:`FORMATS`)."""
    from importlib import import_module

    mod = import_module(_MODULES[format][0])
    return getattr(mod, _MODULES[format][1])(data, **kw)


def from_format(text: str, format: str) -> ExportData:
    """Parse a document written by :func:`to_format` back into :class:`ExportData`."""
    from importlib import import_module

    mod = import_module(_MODULES[format][0])
    return getattr(mod, _MODULES[format][2])(text)


_MODULES = {
    "cyclonedx": ("lineage.export.cyclonedx", "to_cyclonedx", "from_cyclonedx"),
    "spdx": ("lineage.export.spdx", "to_spdx", "from_spdx"),
    "graphml": ("lineage.export.plain", "to_graphml", "from_graphml"),
    "json": ("lineage.export.plain", "to_json", "from_json"),
}
