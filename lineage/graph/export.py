"""Governance exports and reports read from the graph: the I/O edge of :mod:`lineage.export`.

:func:`read_export_data` reads models and relations (``export_models``,
``export_edges``); :func:`export_graph` writes them as CycloneDX, SPDX, GraphML or
JSON; :func:`write_reports` writes the per-model HTML reports. The conversions
themselves are pure (:mod:`lineage.export`).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from lineage.errors import CacheError, ConfigError, GraphError, InputError
from lineage.export import FORMATS, from_format, to_format
from lineage.export.data import EDGE_TYPES, LINEAGE_EDGE_TYPES, Edge, ExportData, Node, sorted_edges
from lineage.export.report import ReportData, render_index, render_report, report_filename
from lineage.settings import Settings


_SIMPLE = frozenset((str, int, float, bool, type(None)))


def _plain(v: Any) -> Any:
    """Driver values as plain Python: temporal values as ISO text."""
    if type(v) in _SIMPLE:  # nearly every value: skips the checks below
        return v
    if hasattr(v, "iso_format"):
        return v.iso_format()
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def _one_row(graph, name: str, **params: Any) -> list:
    """The single value of a read query that returns one row holding one list.

    Not :meth:`Graph.query`: it turns each record into a dict with the driver's
    ``Record.data()``, which walks every value again through abstract-class checks
    (~13 of 35 s for the 138k relations of a 10,000-model graph); the export rows are
    plain values already.
    """
    from lineage.graph.store import _translated

    q = graph.library.get(name)
    with _translated(graph.settings, f"query {name!r}"):
        records, _, _ = graph.driver.execute_query(q.text, q.bind(params), routing_="r",
                                                   database_=q.database or graph.settings.neo4j_database)
    return records[0][0] if records else []


def _edges(graph, model_ids: Sequence[str] | None, types: Sequence[str]) -> list[Edge]:
    rows = _one_row(graph, "export_edges", model_ids=model_ids, types=list(types))
    return [Edge(s, t, typ, {k: _plain(v) for k, v in props.items()}) for s, t, typ, props in rows]


def _models(graph, model_ids: Sequence[str] | None) -> list[Node]:
    rows = _one_row(graph, "export_models", model_ids=model_ids)
    return [Node(i, {k: _plain(v) for k, v in pairs}) for i, pairs in rows]


def read_export_data(graph, model_ids: Sequence[str] | None = None, *,
                     types: Sequence[str] = EDGE_TYPES) -> ExportData:
    """Models and relations from the graph.

    With ``model_ids``, the relations touching those models and every model they touch
    (so a parent is present beside its child); otherwise the whole graph.
    """
    ids = list(model_ids) if model_ids else None
    edges = _edges(graph, ids, types)
    if ids is not None:
        present = {n.id for n in _models(graph, ids)}
        missing = [m for m in ids if m not in present]
        if missing:
            raise GraphError(f"no model {missing[0]!r} in the graph",
                              hint="run `lineage query models` to see the model ids")
        ids = sorted(set(ids) | {e.source for e in edges} | {e.target for e in edges})
    return ExportData(_models(graph, ids), edges)


def export_graph(format: str, *, model: Sequence[str] | None = None, out: str | Path | None = None,
                 settings: Settings | None = None, graph=None) -> str:
    """Export the lineage graph (or the models ``model`` and their relations) as ``format``.

    Parameters
    ----------
    format : {"cyclonedx", "spdx", "graphml", "json"}
        CycloneDX 1.6 JSON, SPDX 3.0.1 JSON-LD (AI profile), GraphML, or plain JSON.
    model : list of str, optional
        Model ids; default every model.
    out : path, optional
        Write the document there (atomically) as well as returning it.

    Returns
    -------
    str
        The document.
    """
    from lineage import __version__
    from lineage.graph.store import Graph

    if format not in FORMATS:
        raise ConfigError(f"unknown export format {format!r}", hint=f"use one of: {', '.join(FORMATS)}")
    types = EDGE_TYPES if format in ("graphml", "json") else LINEAGE_EDGE_TYPES
    if graph is None:
        if settings is None:
            from lineage.settings import load_settings

            settings = load_settings()
        with Graph(settings) as g:
            data = read_export_data(g, model, types=types)
    else:
        data = read_export_data(graph, model, types=types)
    kw = {} if format in ("graphml", "json") else {"timestamp": datetime.now(timezone.utc), "tool_version": __version__}
    text = to_format(data, format, **kw)
    if out is not None:
        _write(Path(out), text)
    return text


def read_report_data(graph, model_id: str, *, k: int = 10) -> ReportData:
    """Everything a model's report shows, from the shipped queries."""
    rows = _models(graph, [model_id])
    if not rows:
        raise GraphError(f"no model {model_id!r} in the graph", hint="run `lineage query models` to see the model ids")
    props = rows[0].props
    prov = graph.query("provenance", model_id=model_id)
    lineage_edges = [Edge(r["source"], r["target"], r["type"], _plain(r["props"]))
                     for r in graph.query("report_lineage_edges", model_id=model_id)]
    touching = sorted_edges(_edges(graph, [model_id], LINEAGE_EDGE_TYPES))
    nearest: list[dict] = []
    if props.get("status") == "ok" and not props.get("degenerate"):
        nearest = [_plain(r) for r in graph.query("nearest", model_id=model_id, k=k)]
    ids = {model_id} | {e.source for e in lineage_edges + touching} | {e.target for e in lineage_edges + touching}
    names = {n.id: n.props.get("name") or n.id for n in _models(graph, sorted(ids))}
    return ReportData(model_id=model_id, props=props, provenance=_plain(prov[0]) if prov else {},
                      lineage_edges=lineage_edges, touching_edges=touching, nearest=nearest, names=names,
                      licence_obligations=[_plain(r) for r in graph.query("obligations", model_id=model_id)])


def write_reports(model: str | None = None, *, all: bool = False, out: str | Path | None = None,
                  settings: Settings | None = None, graph=None) -> list[Path]:
    """Write the HTML report of ``model`` (to ``out``, default ``report.html``), or with
    ``all`` one report per model plus ``index.html`` into the folder ``out`` (default ``reports``).

    Returns the paths written.
    """
    from lineage.graph.store import Graph

    if (model is None) == (not all):
        raise ConfigError("name one MODEL, or pass --all (not both)", hint="e.g. `lineage report smol-instruct`")
    if graph is None:
        if settings is None:
            from lineage.settings import load_settings

            settings = load_settings()
        with Graph(settings) as g:
            return write_reports(model, all=all, out=out, graph=g)
    if not all:
        path = Path(out) if out is not None else Path("report.html")
        _write(path, render_report(read_report_data(graph, model)))
        return [path]
    folder = Path(out) if out is not None else Path("reports")
    if os.path.lexists(folder) and not folder.is_dir():
        raise InputError(f"{folder} exists and is not a folder; --all writes one report per model into a folder",
                         hint="give --out a new or existing folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create the folder {folder}: {e.strerror}", hint="choose a writable --out path") from None
    written, index = [], []
    for row in graph.query("models", limit=10_000_000):
        data = read_report_data(graph, row["model"])
        name = report_filename(row["model"])
        _write(folder / name, render_report(data))
        written.append(folder / name)
        index.append((data, name))
    _write(folder / "index.html", render_index(index))
    return [*written, folder / "index.html"]


def _write(path: Path, text: str) -> None:
    from lineage.io import atomic_write_text

    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except (OSError, CacheError) as e:
        why = e.strerror if isinstance(e, OSError) else e.message
        raise InputError(f"cannot write {path}: {why}", hint="choose a writable --out path") from None


def parse_export(text: str, format: str) -> ExportData:
    """Read an export back (for checks): the same models and relations it was made from."""
    return from_format(text, format)
