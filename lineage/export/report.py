"""The per-model HTML report: one self-contained file (inline CSS and SVG, no scripts,
nothing fetched) that a reviewer can attach to a governance review.

Sections, in the order a reviewer reads them: a plain-language summary with the key facts;
the lineage picture (declared parents solid green, inferred parents dashed red, contradicted
declarations orange with a cross; ancestors above, descendants below); the findings
(:data:`FINDING_SECTIONS`: contradicted declarations, undocumented relations), each saying
what the evidence says instead; the evidence for each edge, p-values and confidences in
words ("p < 1e-12", "weights identical up to fine-tuning noise") with the raw JSON folded
beneath, and the nearest models; then the technical provenance (metadata sources, every
stored property, how the DNA was measured) folded away in ``<details>``. Tables wrap to
the page (1100 px) and a print stylesheet lays it out for a PDF. Every value from the graph
is escaped (ids may hold quotes, ``<``, ``&`` or any unicode).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html import escape
from typing import Any, Callable, Sequence
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
    #: rows of the ``obligations`` query: what the model must honour, its own licence's and inherited
    licence_obligations: list[dict] = field(default_factory=list)

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
            f"confidence {confidence_words(p.get('confidence')) or 'not recorded'}")


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


# -- words a reviewer reads -----------------------------------------------------------------
def p_words(p: Any) -> str:
    """A p-value as a reviewer reads it: ``p < 1e-12`` rather than ``1.00e-300``, with a word for its strength."""
    if p is None or isinstance(p, bool):
        return "no p-value recorded"
    p = float(p)
    if math.isnan(p):
        return "no p-value recorded"
    # below 1e-12 the nulls' tails are extrapolations: smaller numbers would claim a precision they lack
    if p < 1e-12:
        return "p < 1e-12 (beyond doubt)"
    if p < 1e-3:
        return f"p = {p:.0e} (strong)"
    if p < 0.01:
        return f"p = {p:.3f} (significant)"
    return f"p = {p:.2f} ({'weak' if p < 0.05 else 'not significant'})"


def confidence_words(c: Any) -> str:
    """An inferred parent's confidence (0-1) in words, the number beside it."""
    if c is None or isinstance(c, bool):
        return ""
    c = float(c)
    if math.isnan(c):
        return ""
    word = "near certain" if c >= 0.99 else "high" if c >= 0.9 else "moderate" if c >= 0.7 else "low"
    return f"{word} ({c:.2f})"


def _weights_words(it: dict) -> str:
    dist, cos = it.get("distance"), it.get("cosine")
    if dist is not None and dist < 1e-6:
        what = "weights identical"
    # fine-tunes in the zoos sit at a relative distance of 0.01-0.07 from their parent, cosine above 0.99
    elif dist is not None and dist < 0.1 and (cos is None or cos >= 0.99):
        what = "weights identical up to fine-tuning noise"
    elif cos is not None and cos >= 0.9:
        what = "weights clearly share their origin"
    else:
        what = "weights related"
    facts = [f"relative distance {dist:.3g}" if dist is not None else "",
             f"cosine {cos:.4f}" if cos is not None else "",
             f"{it['n_matched']} matrices compared" if it.get("n_matched") else "",
             "layers matched into a deeper model" if it.get("layer_map") else ""]
    facts = [f for f in facts if f]
    return f"{what} ({', '.join(facts)})" if facts else what


def evidence_words(evidence: Any) -> list[str]:
    """One sentence per evidence channel recorded on an inferred edge (its JSON list)."""
    try:
        items = json.loads(evidence) if isinstance(evidence, str) else evidence
    except ValueError:
        return [str(evidence)]
    out = []
    for it in items if isinstance(items, list) else []:
        if not isinstance(it, dict):
            continue
        ch = it.get("channel")
        if ch == "weights":
            s = _weights_words(it)
        elif ch == "logits" and it.get("top1_agreement") is not None:
            s = (f"next tokens agree at {float(it['top1_agreement']):.0%} of {it.get('n_positions', '?')} positions"
                 + (f", shared mistakes {float(it['shared_mistakes']):.0%}" if it.get("shared_mistakes") is not None else ""))
        elif ch == "dna" and it.get("distance") is not None:
            s = f"answers' DNA distance {float(it['distance']):.3g}"
        else:
            s = f"{ch or 'evidence'}"
        out.append(f"{s}; {p_words(it.get('p_value'))}")
    return out


# -- the page -------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;color:#212121;padding:0 1em;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
h3{font-size:1.05em;margin:1.2em 0 .3em}
.id{font-family:ui-monospace,Menlo,Consolas,monospace;color:#555;overflow-wrap:anywhere}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0;width:100%;table-layout:auto}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top;overflow-wrap:anywhere;min-width:5.5em}
th{background:#f5f5f5} table.facts{width:auto} table.facts th{width:12em}
.summary{background:#f1f8e9;border-left:4px solid #7cb342;padding:.8em 1em}
.finding{border-left:4px solid #ef6c00;background:#fff8f0;padding:.6em 1em;margin:.6em 0}
.finding.undocumented{border-color:#f9a825;background:#fffde7}
.finding h3{margin-top:0} .finding p{margin:.3em 0}
.conflict{background:#fff3e0} pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85em;margin:0;max-width:100%}
ul.words{margin:.2em 0;padding-left:1.2em}
.none{color:#777;font-style:italic} .figure{overflow-x:auto;border:1px solid #eee;padding:.5em}
.figure svg{max-width:100%;height:auto}
details.technical{margin-top:2em;border-top:1px solid #ccc;padding-top:.5em} details.technical>summary{font-size:1.25em;font-weight:bold;cursor:pointer}
footer{margin-top:3em;color:#777;font-size:.8em}
@media print{
 body{margin:0;max-width:none;font-size:10pt;color:#000}
 @page{size:A4;margin:15mm}
 h2{break-after:avoid} tr,.finding,.figure{break-inside:avoid}
 .figure{border:none;overflow:visible}
 details:not(.technical){display:none}
 a{color:#000;text-decoration:none}
}
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
        body.append(f'<tr class="{r.get("_cls") or cls}">' + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class _Raw:
    """Already escaped HTML for a table cell."""

    def __init__(self, html: str):
        self.html = html


def _evidence(text: Any) -> _Raw:
    """The evidence in words, with the raw JSON folded beneath."""
    if text in (None, "", "[]"):
        return _Raw('<span class="none">none recorded</span>')
    try:
        pretty = json.dumps(json.loads(text), indent=1, ensure_ascii=False) if isinstance(text, str) else \
            json.dumps(text, indent=1, ensure_ascii=False)
    except (TypeError, ValueError):
        pretty = str(text)
    words = "".join(f"<li>{_e(w)}</li>" for w in evidence_words(text))
    return _Raw((f'<ul class="words">{words}</ul>' if words else "")
                + f"<details><summary>raw evidence</summary><pre>{_e(pretty)}</pre></details>")


def _kv(d: dict, cls: str = "") -> str:
    if not d:
        return '<p class="none">none recorded</p>'
    return f'<table class="{cls}">' + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in sorted(d.items())
                                             if v is not None) + "</table>"


#: metadata a reviewer reads first, beside the summary (the rest is technical provenance)
KEY_FACTS = ("name", "family", "organisation", "release_date", "licence", "architecture", "params", "source", "status",
             "error")


def _facts(d: ReportData) -> str:
    rows = "".join(f"<tr><th>{_e(k.replace('_', ' '))}</th><td>{_e(d.props[k])}</td></tr>" for k in KEY_FACTS
                   if d.props.get(k) not in (None, "", []))
    return f'<table class="facts">{rows}</table>' if rows else ""


def _all_edges(d: ReportData) -> list[Edge]:
    return list({(e.type, e.source, e.target): e for e in d.lineage_edges + d.touching_edges}.values())


def conflicts_section(d: ReportData) -> str:
    """Finding: declarations touching the model that the evidence contradicts, each with what the evidence says instead."""
    all_edges = _all_edges(d)
    items = []
    for e in d.touching_edges:
        if e.type != "DECLARED_PARENT" or not e.props.get("contradicted"):
            continue
        p = e.props
        alt = [i for i in all_edges if i.type == "INFERRED_PARENT" and i.source == e.source]
        instead = ("; ".join(f"The evidence places it under {d.name(i.target)} as a {_relation_word(i.props.get('kind'))} "
                             f"({i.props.get('channel') or 'dna'} evidence, confidence {confidence_words(i.props.get('confidence'))})"
                             for i in alt) + ".") if alt else "The evidence names no other parent."
        items.append(
            f'<div class="finding conflict-finding"><h3>{_e(d.name(e.source))}: declared {_e(_relation_word(p.get("relation")))} '
            f'of {_e(d.name(e.target))} (in the {_e(str(p.get("source") or "metadata").replace("_", " "))}), contradicted</h3>'
            f"<p>Why: {_e(p.get('reason') or 'no reason recorded')}. Relatedness of the model and its declared parent: "
            f"{_e(p_words(p.get('p_value')))}.</p>"
            f"<p>{_e(instead)}</p>"
            + (f"<div>{_evidence(alt[0].props.get('evidence')).html}</div>" if alt else "") + "</div>")
    body = "".join(items) or '<p class="none">no conflicts: no declaration touching this model is contradicted</p>'
    return f'<section id="conflicts"><h3>Contradicted declarations</h3>{body}</section>'


def undocumented_section(d: ReportData) -> str:
    """Finding: relations the evidence supports that no metadata declares, one block per related model."""
    m = d.model_id
    all_edges = _all_edges(d)
    items = []
    for e in d.touching_edges:
        if e.type != "UNDOCUMENTED_RELATION":
            continue
        other = e.target if e.source == m else e.source
        inf = [i for i in all_edges if i.type == "INFERRED_PARENT" and {i.source, i.target} == {e.source, e.target}]
        if inf:
            i = inf[0]
            what = (f"{d.name(i.source)} derives from {d.name(i.target)} as a {_relation_word(i.props.get('kind'))} "
                    f"({i.props.get('channel') or 'dna'} evidence, confidence {confidence_words(i.props.get('confidence'))}); "
                    "no model card or manifest says so.")
        else:
            what = f"{d.name(m)} and {d.name(other)} are related by the evidence; no metadata connects them."
        items.append(f'<div class="finding undocumented"><h3>{_e(d.name(other))}</h3><p>{_e(what)}</p>'
                     f"<p>Strength: {_e(p_words(e.props.get('p_value')))}.</p>"
                     + (f"<div>{_evidence(inf[0].props.get('evidence')).html}</div>" if inf else "") + "</div>")
    body = "".join(items) or '<p class="none">no undocumented relations</p>'
    return f'<section id="undocumented"><h3>Undocumented relations</h3>{body}</section>'


def _licence_path(d: ReportData, r: dict) -> str:
    """The path that carries an obligation, drawn as a chain: each model, and on each step
    where the claim comes from (a declaration, or the evidence channel with its confidence)."""
    path, sources = list(r.get("path") or []), list(r.get("sources") or [])
    parts = [f'<span class="hop-model">{_e(d.name(path[0]))}</span>'] if path else []
    for node, src in zip(path[1:], sources):
        cls = "hop inferred" if str(src).startswith("inferred:") else "hop declared"
        parts.append(f'<span class="{cls}"> &rarr; ({_e(str(src).replace("_", " "))}) &rarr; </span>'
                     f'<span class="hop-model">{_e(d.name(node))}</span>')
    return f'<p class="licence-path">{"".join(parts)}</p>'


def licence_section(d: ReportData) -> str:
    """Finding: licence obligations the model's own licence drops (licence conflicts) or that cannot
    be checked (its licence, or an ancestor's, is unknown), and gated ancestors whose weights it
    re-publishes without a gate, each with the clause and the path drawn; then every obligation
    it owes, its own licence's and inherited, in one table."""
    rows = d.licence_obligations
    if not rows:
        body = '<p class="none">no licence obligations recorded: no licence, or the graph predates licence inheritance</p>'
        return f'<section id="licences"><h3>Licence obligations</h3>{body}</section>'
    items = []
    for r in [x for status in ("dropped", "ungated", "unverified") for x in rows if x.get("status") == status]:
        via = (" Reached only through inferred, undeclared edges: no model card says so."
               if r.get("inferred_only") else "")
        if r["status"] == "ungated":
            head = f'{_e(d.name(d.model_id))} has no access gate, but the weights come from the gated {_e(d.name(r.get("origin") or ""))}'
        else:
            what = "drops" if r["status"] == "dropped" else "cannot be checked against"
            head = (f'{_e(d.name(d.model_id))} {what} the {_e(str(r.get("kind") or "").replace("_", " "))} terms of '
                    f'{_e(r.get("licence") or "an unknown licence")} from {_e(d.name(r.get("origin") or ""))}')
        items.append(
            f'<div class="finding licence-finding {_e(r["status"])}"><h3>{head}</h3>'
            f'<p>{_e(r.get("reason") or "")}.{_e(via)}</p><p>Clause: {_e(r.get("clause") or "n/a")}'
            + (f' (<a href="{_e(r["url"])}">{_e(r["url"])}</a>)' if r.get("url") else "") + "</p>"
            f"{_licence_path(d, r)}</div>")
    table = _table([{**r, "origin": d.name(r.get("origin") or ""), "path": " -> ".join(map(str, r.get("path") or []))}
                    for r in rows],
                   [("kind", "obligation"), ("status", "status"), ("licence", "licence"), ("clause", "clause"),
                    ("origin", "from"), ("path", "path"), ("summary", "what it asks")], cls="obligations")
    body = ("".join(items) or '<p class="none">no licence conflict: every inherited obligation is kept or carried</p>') + table
    return f'<section id="licences"><h3>Licence obligations</h3>{body}</section>'


#: The findings, in order: each renders one ``<section>`` of the Findings part from the report's data.
#: A new kind of finding (licences) adds its function here.
FINDING_SECTIONS: list[Callable[[ReportData], str]] = [conflicts_section, undocumented_section, licence_section]


def _edge_rows(d: ReportData) -> list[dict]:
    gen = _generations(d)
    rows = []
    for e in sorted(d.lineage_edges, key=lambda e: (gen.get(e.source, 0), e.type, e.source, e.target)):
        p = e.props
        declared = e.type == "DECLARED_PARENT"
        if declared:
            claim = f"declared in the {str(p.get('source') or 'metadata').replace('_', ' ')}"
            strength = ("contradicted: " + str(p.get("reason") or "") if p.get("contradicted") else
                        ("consistent with the evidence" + (f" ({p_words(p.get('p_value'))})" if p.get("p_value") is not None else "")))
        else:
            claim = f"inferred from {p.get('channel') or 'dna'} evidence"
            strength = f"confidence {confidence_words(p.get('confidence'))}; {p_words(p.get('p_value'))}"
        rows.append({
            "edge": f"{d.name(e.source)} \u2192 {d.name(e.target)}", "claim": claim,
            "what": _relation_word(p.get("relation") if declared else p.get("kind")),
            "strength": strength, "evidence": _evidence(p.get("evidence")) if not declared else _Raw(""),
            "_cls": "conflict" if declared and p.get("contradicted") else "",
        })
    return rows


def render_report(d: ReportData, *, generated: datetime | None = None, tool_version: str = "") -> str:
    """The report as one HTML document, in the order a reviewer reads it: summary, picture,
    findings (:data:`FINDING_SECTIONS`), the evidence per edge, and technical provenance folded away."""
    m = d.model_id
    nearest = [{**r, "model": d.name(r.get("model")) if r.get("model") in d.names else r.get("model"),
                "distance": None if r.get("distance") is None else f"{float(r['distance']):.3g}",
                "direct_relation": "yes" if r.get("direct_relation") else "no"} for r in d.nearest]
    edges = _edge_rows(d)
    edge_table = _table(edges, [("edge", "child \u2192 parent"), ("claim", "claim"), ("what", "relation"),
                                ("strength", "how sure"), ("evidence", "evidence")],
                        empty="no declared or inferred parents or children")
    technical = "".join(technical_sections(d))
    title = d.name(m)
    when = (generated or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lineage report: {_e(title)}</title>
<style>{_CSS}</style></head>
<body>
<header><h1>Lineage report: {_e(title)}</h1><div class="id">model id: {_e(m)}</div></header>
<section id="summary"><h2>Summary</h2><p class="summary">{_e(summarise(d))}</p>{_facts(d)}</section>
<section id="lineage"><h2>Lineage: declared and inferred ancestors and descendants</h2>
<div class="figure">{lineage_svg(d)}</div></section>
<section id="findings"><h2>Findings</h2>
{''.join(f(d) for f in FINDING_SECTIONS)}
</section>
<section id="evidence"><h2>Evidence for each edge</h2>
{edge_table}
<h3 id="nearest">Nearest models by DNA</h3>
{_table(nearest, [("model", "model"), ("family", "family"), ("distance", "DNA distance"), ("direct_relation", "declared or inferred relative")],
        empty="no DNA neighbours (no valid DNA)")}</section>
<details class="technical" id="technical"><summary>Technical provenance</summary>
{technical}
</details>
<footer>Generated by lineage {_e(tool_version)} on {_e(when)}. Declared claims come from metadata (manifest, model card or file header);
inferred claims come from evidence (the DNA of the model's behaviour, its weights or its next tokens).</footer>
</body></html>
"""


def technical_sections(d: ReportData) -> list[str]:
    """What a reviewer seldom needs and an auditor may: where each metadata value was read, every
    stored property, and how the DNA was measured."""
    return [
        '<section id="metadata-sources"><h3>Where the metadata comes from</h3>'
        + _table(metadata_sources(d), [("field", "field"), ("value", "value"), ("source", "source")],
                 empty="no metadata recorded")
        + _table([dict(warning=w) for w in d.props.get("metadata_warnings") or []],
                 [("warning", "ignored or contradicted metadata")], cls="conflict",
                 empty="no metadata was ignored and no sources disagree") + "</section>",
        f'<section id="metadata"><h3>Every stored property</h3>{_kv(d.props)}</section>',
        f'<section id="provenance"><h3>DNA provenance</h3>{_kv(d.provenance)}</section>',
    ]


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
