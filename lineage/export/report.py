"""The per-model HTML report: one self-contained file (inline CSS and SVG, no scripts,
nothing fetched) that a reviewer can attach to a governance review.

Sections: a plain-language summary; metadata; DNA provenance; the lineage picture
(declared parents solid green, inferred parents dashed red, contradicted declarations
orange with a cross; ancestors above, descendants below); nearest models with
distances; conflicts and undocumented relations touching the model, each with the
evidence behind it. Every value from the graph is escaped (ids may hold quotes, ``<``,
``&`` or any unicode).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html import escape
from typing import Any, Sequence
from urllib.parse import quote

from lineage.export.data import Edge


@dataclass
class ReportData:
    """What a report shows, as read from the graph."""

    model_id: str
    props: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)
    #: DECLARED_PARENT / INFERRED_PARENT edges on lineage paths through the model (child -> parent)
    lineage_edges: list[Edge] = field(default_factory=list)
    #: lineage-kind edges with the model at one end (declared, inferred, undocumented)
    touching_edges: list[Edge] = field(default_factory=list)
    nearest: list[dict] = field(default_factory=list)
    #: model id -> display name, for every model the report mentions
    names: dict[str, str] = field(default_factory=dict)

    def name(self, model_id: str) -> str:
        return str(self.names.get(model_id) or model_id)


def report_filename(model_id: str) -> str:
    """A file name safe on every file system, unique per id (a readable stem plus a hash)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("._")[:60] or "model"
    return f"{stem}-{hashlib.sha256(model_id.encode('utf-8')).hexdigest()[:10]}.html"


def _num(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return "" if v is None else ("yes" if v else "no")
    if isinstance(v, float):
        if math.isnan(v):
            return "n/a"
        return f"{v:.2e}" if v != 0 and abs(v) < 1e-3 else f"{v:.3g}"
    return str(v)


def _e(v: Any) -> str:
    """Escape any value for HTML text and attributes."""
    return escape(v if isinstance(v, str) else _num(v) if not isinstance(v, (list, dict)) else json.dumps(v, ensure_ascii=False), quote=True)


# -- the summary ----------------------------------------------------------------------------
def _relation_word(rel: str | None) -> str:
    return {"finetune": "fine-tune", "adapter": "adapter", "merge": "merge", "quantized": "quantised copy",
            "distillation": "distillation", "pruned": "pruned copy"}.get(str(rel or ""), "derivative")


def _backing(i: Edge) -> str:
    p = i.props
    return (f"{p.get('channel') or 'dna'} evidence, kind {p.get('kind') or 'unknown'}, "
            f"confidence {_num(p.get('confidence'))}")


def summarise(d: ReportData) -> str:
    """One paragraph in plain language: what is declared, what the evidence says, what disagrees."""
    m = d.model_id
    if d.props.get("status") == "failed":
        return (f"{d.name(m)}: its DNA could not be made ({d.props.get('error') or 'no reason recorded'}), "
                "so no evidence about its lineage exists; only its declared metadata is shown.")
    edges = d.touching_edges
    declared = [e for e in edges if e.type == "DECLARED_PARENT" and e.source == m]
    inferred = [e for e in edges if e.type == "INFERRED_PARENT" and e.source == m]
    out: list[str] = []
    for dec in declared:
        p = dec.props
        s = (f"Declared as a {_relation_word(p.get('relation'))} of {d.name(dec.target)} "
             f"(in the {str(p.get('source') or 'metadata').replace('_', ' ')})")
        same = [i for i in inferred if i.target == dec.target]
        other = [i for i in inferred if i.target not in {x.target for x in declared}]
        if p.get("contradicted"):
            s += f"; the evidence contradicts this declaration ({p.get('reason') or 'no reason recorded'})"
            if other:
                s += f" and points instead to {d.name(other[0].target)} ({_backing(other[0])})"
        elif same:
            s += f"; the evidence agrees ({_backing(same[0])})"
        elif other:
            s += f"; the evidence points instead to {d.name(other[0].target)} ({_backing(other[0])})"
        else:
            s += "; the evidence names no parent for it, so it neither confirms nor contradicts the declaration"
        out.append(s + ".")
    refs = declared_elsewhere(d)
    if refs:
        out.append(f"Its metadata ({str(d.props.get('declared_base_models_source') or 'metadata')}) names "
                   + ", ".join(refs) + " as its base: declared, not in the graph, so no edge is drawn.")
    if not declared:
        if inferred:
            out.append("No parent is declared; the evidence suggests it derives from "
                       + " and ".join(f"{d.name(i.target)} ({_backing(i)})" for i in inferred)
                       + ", a relation no model card documents.")
        else:
            out.append("No parent is declared and the evidence finds none: in this graph it looks like an "
                       "original (from-scratch) model.")
    children = {e.source for e in d.lineage_edges if e.target == m}
    if children:
        out.append(f"{len(children)} model{'s' if len(children) != 1 else ''} "
                   f"{'are' if len(children) != 1 else 'is'} declared or inferred to derive from it directly.")
    against = [e for e in edges if e.type == "DECLARED_PARENT" and e.target == m and e.props.get("contradicted")]
    if against:
        out.append(f"{len(against)} declaration{'s' if len(against) != 1 else ''} naming it as a parent "
                   f"{'are' if len(against) != 1 else 'is'} contradicted by the evidence.")
    und = [e for e in edges if e.type == "UNDOCUMENTED_RELATION"]
    if und:
        out.append(f"The evidence relates it to {len(und)} model{'s' if len(und) != 1 else ''} that no metadata "
                   "connects it to (see Undocumented relations).")
    return " ".join(out)


def declared_elsewhere(d: ReportData) -> list[str]:
    """Declared base models of the model that are not in the graph (no DECLARED_PARENT edge)."""
    drawn = {e.target for e in d.touching_edges if e.type == "DECLARED_PARENT" and e.source == d.model_id}
    bases = d.props.get("declared_base_models") or []
    return [str(b) for b in bases if b not in drawn] if isinstance(bases, list) else []


#: Metadata shown with where each value was read, in this order.
SOURCED_FIELDS = ("licence", "architecture", "params", "quantisation", "context_length", "n_layers", "hidden_size",
                  "weights_dtype", "name", "organisation", "family", "release_date", "gating_prompt", "tags",
                  "adapter_base")


def metadata_sources(d: ReportData) -> list[dict]:
    """Rows ``{field, value, source}`` for each metadata value and its source, then one row per
    declared base model (``in the graph`` or ``declared, not in the graph``)."""
    p = d.props
    rows = [{"field": f, "value": p.get(f), "source": p.get(f"{f}_source")} for f in SOURCED_FIELDS
            if p.get(f) is not None]
    refs = set(declared_elsewhere(d))
    for b in p.get("declared_base_models") or []:
        rows.append({"field": "declared base model", "value": b,
                     "source": f"{p.get('declared_base_models_source') or p.get('declared_source') or 'metadata'}; "
                               + ("declared, not in the graph" if b in refs else "in the graph")})
    return rows


# -- the picture ----------------------------------------------------------------------------
def _generations(d: ReportData) -> dict[str, int]:
    gen = {d.model_id: 0}
    frontier = [d.model_id]
    while frontier:
        nxt = []
        for x in frontier:
            for e in d.lineage_edges:
                for a, b, step in ((e.source, e.target, -1), (e.target, e.source, 1)):
                    if a == x and b not in gen:
                        gen[b] = gen[x] + step
                        nxt.append(b)
        frontier = nxt
    return gen


def lineage_svg(d: ReportData) -> str:
    """The model's ancestors (above) and descendants (below) as an inline SVG."""
    gen = _generations(d)
    layers: dict[int, list[str]] = {}
    for mid, g in sorted(gen.items(), key=lambda kv: (kv[1], d.name(kv[0]), kv[0])):
        layers.setdefault(g, []).append(mid)
    box_w, box_h, gap_x, gap_y, pad = 170, 40, 30, 80, 20
    widest = max(len(v) for v in layers.values())
    width = max(widest * (box_w + gap_x) + 2 * pad, 660)
    levels = sorted(layers)
    height = len(levels) * (box_h + gap_y) - gap_y + 2 * pad + 40
    pos: dict[str, tuple[float, float]] = {}
    for row, g in enumerate(levels):
        ids = layers[g]
        span = len(ids) * (box_w + gap_x) - gap_x
        x0 = (width - span) / 2
        for j, mid in enumerate(ids):
            pos[mid] = (x0 + j * (box_w + gap_x), pad + row * (box_h + gap_y))
    parts = [f'<svg id="lineage-svg" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="lineage of {_e(d.model_id)}">',
             '<defs>'
             '<marker id="arrow-declared" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#2e7d32"/></marker>'
             '<marker id="arrow-inferred" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c62828"/></marker>'
             '<marker id="arrow-conflict" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#ef6c00"/></marker>'
             '</defs>']
    for e in d.lineage_edges:
        if e.source not in pos or e.target not in pos:
            continue
        (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
        # child -> parent: from the child's top edge to the parent's bottom edge (or sideways within a layer)
        sx, sy = x1 + box_w / 2, (y1 if y2 < y1 else y1 + box_h if y2 > y1 else y1 + box_h / 2)
        tx, ty = x2 + box_w / 2, (y2 + box_h if y2 < y1 else y2 if y2 > y1 else y2 + box_h / 2)
        declared = e.type == "DECLARED_PARENT"
        conflict = declared and bool(e.props.get("contradicted"))
        off = -18 if declared else 18
        mx, my = (sx + tx) / 2 + off, (sy + ty) / 2
        cls = "conflict" if conflict else "declared" if declared else "inferred"
        colour = {"conflict": "#ef6c00", "declared": "#2e7d32", "inferred": "#c62828"}[cls]
        dash = ' stroke-dasharray="7 5"' if not declared else ""
        label = (f"declared {e.props.get('relation') or ''} ({e.props.get('source') or 'metadata'})"
                 + (f"; CONTRADICTED: {e.props.get('reason') or ''}" if conflict else "")) if declared else \
            (f"inferred {e.props.get('kind') or ''} ({e.props.get('channel') or 'dna'}, "
             f"confidence {_num(e.props.get('confidence'))})")
        parts.append(f'<path class="edge {cls}" d="M{sx:.1f},{sy:.1f} Q{mx:.1f},{my:.1f} {tx:.1f},{ty:.1f}" '
                     f'fill="none" stroke="{colour}" stroke-width="2"{dash} marker-end="url(#arrow-{cls})">'
                     f'<title>{_e(d.name(e.source))} \u2192 {_e(d.name(e.target))}: {_e(label)}</title></path>')
        if conflict:
            parts.append(f'<text class="conflict-mark" x="{mx:.1f}" y="{my + 5:.1f}" text-anchor="middle" '
                         f'font-size="16" fill="#ef6c00">\u2717</text>')
    for mid, (x, y) in pos.items():
        focal = mid == d.model_id
        name = d.name(mid)
        short = name if len(name) <= 22 else name[:21] + "\u2026"
        parts.append(f'<g class="node{" focal" if focal else ""}"><title>{_e(mid)}</title>'
                     f'<rect x="{x:.1f}" y="{y:.1f}" width="{box_w}" height="{box_h}" rx="6" '
                     f'fill="{"#1565c0" if focal else "#e3f2fd"}" stroke="#1565c0" stroke-width="1.5"/>'
                     f'<text x="{x + box_w / 2:.1f}" y="{y + box_h / 2 + 5:.1f}" text-anchor="middle" font-size="13" '
                     f'fill="{"#fff" if focal else "#0d47a1"}">{_e(short)}</text></g>')
    ly = height - 18
    parts.append(f'<g class="legend" font-size="12"><line x1="{pad}" y1="{ly}" x2="{pad + 40}" y2="{ly}" stroke="#2e7d32" stroke-width="2"/>'
                 f'<text x="{pad + 46}" y="{ly + 4}">declared (metadata)</text>'
                 f'<line x1="{pad + 190}" y1="{ly}" x2="{pad + 230}" y2="{ly}" stroke="#c62828" stroke-width="2" stroke-dasharray="7 5"/>'
                 f'<text x="{pad + 236}" y="{ly + 4}">inferred (evidence)</text>'
                 f'<line x1="{pad + 370}" y1="{ly}" x2="{pad + 410}" y2="{ly}" stroke="#ef6c00" stroke-width="2"/>'
                 f'<text x="{pad + 416}" y="{ly + 4}">contradicted declaration</text></g>')
    parts.append("</svg>")
    return "".join(parts)


# -- the page -------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;color:#212121;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
.id{font-family:ui-monospace,Menlo,Consolas,monospace;color:#555}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0} th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f5f5f5} .summary{background:#f1f8e9;border-left:4px solid #7cb342;padding:.8em 1em}
.conflict{background:#fff3e0} pre{white-space:pre-wrap;word-break:break-all;font-size:.85em;margin:0;max-width:60em}
.none{color:#777;font-style:italic} .figure{overflow-x:auto;border:1px solid #eee;padding:.5em}
footer{margin-top:3em;color:#777;font-size:.8em}
"""


def _table(rows: Sequence[dict], cols: Sequence[tuple[str, str]], *, cls: str = "", empty: str = "none") -> str:
    if not rows:
        return f'<p class="none">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(title)}</th>" for _, title in cols)
    body = []
    for r in rows:
        cells = []
        for key, _ in cols:
            v = r.get(key)
            cells.append(f"<td>{v.html if isinstance(v, _Raw) else _e(v)}</td>")
        body.append(f'<tr class="{cls}">' + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class _Raw:
    """Already escaped HTML for a table cell."""

    def __init__(self, html: str):
        self.html = html


def _evidence(text: Any) -> _Raw:
    if text in (None, ""):
        return _Raw('<span class="none">none recorded</span>')
    try:
        pretty = json.dumps(json.loads(text), indent=1, ensure_ascii=False) if isinstance(text, str) else \
            json.dumps(text, indent=1, ensure_ascii=False)
    except (TypeError, ValueError):
        pretty = str(text)
    return _Raw(f"<details><summary>evidence</summary><pre>{_e(pretty)}</pre></details>")


def _kv(d: dict) -> str:
    if not d:
        return '<p class="none">none recorded</p>'
    return "<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in sorted(d.items())
                               if v is not None) + "</table>"


def render_report(d: ReportData, *, generated: datetime | None = None, tool_version: str = "") -> str:
    """The report as one HTML document."""
    m = d.model_id
    gen = _generations(d)
    lin_rows = []
    for e in sorted(d.lineage_edges, key=lambda e: (gen.get(e.source, 0), e.type, e.source, e.target)):
        p = e.props
        lin_rows.append({
            "child": d.name(e.source), "parent": d.name(e.target),
            "kind": "declared" if e.type == "DECLARED_PARENT" else "inferred",
            "claim": e.claim, "what": p.get("relation") if e.type == "DECLARED_PARENT" else p.get("kind"),
            "from": p.get("source") if e.type == "DECLARED_PARENT" else p.get("channel") or "dna",
            "confidence": p.get("confidence"), "p_value": p.get("p_value"), "distance": p.get("distance"),
            "contradicted": p.get("contradicted") if e.type == "DECLARED_PARENT" else None,
            "evidence": _evidence(p.get("evidence")) if e.type == "INFERRED_PARENT" else _Raw(""),
        })
    all_edges = list({(e.type, e.source, e.target): e for e in d.lineage_edges + d.touching_edges}.values())
    conflicts = []
    for e in d.touching_edges:
        if e.type == "DECLARED_PARENT" and e.props.get("contradicted"):
            alt = [i for i in all_edges if i.type == "INFERRED_PARENT" and i.source == e.source]
            conflicts.append({
                "child": d.name(e.source), "declared_parent": d.name(e.target), "relation": e.props.get("relation"),
                "declared_in": e.props.get("source"), "reason": e.props.get("reason"),
                "p_value": e.props.get("p_value"), "distance": e.props.get("distance"),
                "suggests": ", ".join(d.name(i.target) for i in alt) or None,
                "suggested_kind": ", ".join(str(i.props.get("kind") or "") for i in alt) or None,
                "evidence": _evidence(alt[0].props.get("evidence") if alt else None),
            })
    undocumented = []
    for e in d.touching_edges:
        if e.type == "UNDOCUMENTED_RELATION":
            other = e.target if e.source == m else e.source
            inf = [i for i in all_edges if i.type == "INFERRED_PARENT" and {i.source, i.target} == {e.source, e.target}]
            undocumented.append({
                "model": d.name(other), "relation": f"{d.name(e.source)} \u2192 {d.name(e.target)}",
                "kind": e.props.get("kind"), "score": e.props.get("score"), "p_value": e.props.get("p_value"),
                "derivation": inf[0].props.get("kind") if inf else None,
                "channel": inf[0].props.get("channel") if inf else None,
                "evidence": _evidence(inf[0].props.get("evidence") if inf else None),
            })
    nearest = [{**r, "model": d.name(r.get("model")) if r.get("model") in d.names else r.get("model")} for r in d.nearest]
    title = d.name(m)
    when = (generated or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lineage report: {_e(title)}</title>
<style>{_CSS}</style></head>
<body>
<header><h1>Lineage report: {_e(title)}</h1><div class="id">model id: {_e(m)}</div></header>
<section id="summary"><h2>Summary</h2><p class="summary">{_e(summarise(d))}</p></section>
<section id="metadata"><h2>Metadata</h2>{_kv(d.props)}</section>
<section id="metadata-sources"><h2>Where the metadata comes from</h2>
{_table(metadata_sources(d), [("field", "field"), ("value", "value"), ("source", "source")], empty="no metadata recorded")}
{_table([dict(warning=w) for w in d.props.get("metadata_warnings") or []], [("warning", "ignored or contradicted metadata")],
        cls="conflict", empty="no metadata was ignored and no sources disagree")}</section>
<section id="provenance"><h2>DNA provenance</h2>{_kv(d.provenance)}</section>
<section id="lineage"><h2>Lineage: declared and inferred ancestors and descendants</h2>
<div class="figure">{lineage_svg(d)}</div>
{_table(lin_rows, [("child", "child"), ("parent", "parent"), ("kind", "edge"), ("claim", "claim from"),
                   ("what", "relation / kind"), ("from", "declared in / channel"), ("confidence", "confidence"),
                   ("p_value", "p-value"), ("distance", "distance"), ("contradicted", "contradicted"),
                   ("evidence", "evidence")], empty="no declared or inferred parents or children")}
</section>
<section id="nearest"><h2>Nearest models (DNA)</h2>
{_table(nearest, [("model", "model"), ("family", "family"), ("distance", "distance"), ("direct_relation", "direct relation")],
        empty="no DNA neighbours (no valid DNA)")}</section>
<section id="conflicts"><h2>Conflicts</h2>
{_table(conflicts, [("child", "model"), ("declared_parent", "declared parent"), ("relation", "declared relation"),
                    ("declared_in", "declared in"), ("reason", "why the evidence contradicts it"), ("p_value", "p-value"),
                    ("distance", "distance"), ("suggests", "evidence suggests"), ("suggested_kind", "kind"),
                    ("evidence", "evidence")], cls="conflict", empty="no conflicts: no declaration touching this model is contradicted")}</section>
<section id="undocumented"><h2>Undocumented relations</h2>
{_table(undocumented, [("model", "related model"), ("relation", "direction"), ("kind", "kind"), ("score", "score"),
                       ("p_value", "p-value"), ("derivation", "derivation"), ("channel", "channel"), ("evidence", "evidence")],
        empty="no undocumented relations")}</section>
<footer>Generated by lineage {_e(tool_version)} on {_e(when)}. Declared claims come from metadata (manifest, model card or file header);
inferred claims come from evidence (the DNA of the model's behaviour, or its weights).</footer>
</body></html>
"""


def render_index(reports: Sequence[tuple[ReportData, str]], *, generated: datetime | None = None) -> str:
    """An index page linking each model's report (``(data, file name)`` pairs)."""
    rows = []
    for d, fname in sorted(reports, key=lambda r: (str(r[0].props.get("family") or ""), r[0].model_id)):
        m = d.model_id
        rows.append(
            f'<tr><td><a href="{_e(quote(fname))}">{_e(d.name(m))}</a><div class="id">{_e(m)}</div></td>'
            f'<td>{_e(d.props.get("family") or "")}</td><td>{_e(d.props.get("status") or "")}</td>'
            f'<td>{sum(e.type == "DECLARED_PARENT" and e.props.get("contradicted") for e in d.touching_edges)}</td>'
            f'<td>{sum(e.type == "UNDOCUMENTED_RELATION" for e in d.touching_edges)}</td>'
            f"<td>{_e(summarise(d))}</td></tr>")
    when = (generated or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Lineage reports</title><style>{_CSS}</style></head>
<body><h1>Lineage reports</h1><p>{len(rows)} models.</p>
<table><thead><tr><th>model</th><th>family</th><th>status</th><th>conflicts</th><th>undocumented</th><th>summary</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table><footer>Generated on {_e(when)}.</footer></body></html>
"""
