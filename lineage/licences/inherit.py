"""Licence obligations inherited along the lineage (pure: rows in, rows out).

A model owes the obligations of its own licence and those of every ancestor's licence
that travel to derivatives. Ancestors are reached over parent edges, declared
(``DECLARED_PARENT``: manifest or model card) and inferred (``INFERRED_PARENT``: the
evidence channel that decided, with its confidence); a merge inherits from each of its
parents. One step from a child to a parent is a *hop*; a hop is an *outputs* hop when
its relation (the declared one, else the inferred kind) is ``distillation``, and a
*weights* hop otherwise (fine-tune, adapter, merge, quantized, pruned, and a DNA-only
inference whose kind is unknown: when in doubt an obligation travels, and the finding
says it rests on inference). An obligation crosses an outputs hop only when it travels
to models trained on outputs (:attr:`~lineage.licences.table.Obligation.via_outputs`).

For each model and each obligation of an ancestor licence (its kind and clause: a licence
may ask two things of one kind, as the Qwen Research licence asks for a copy of the
agreement on redistribution and for "Built with Qwen" on any model made with its outputs)
the path kept is the one with the fewest undeclared hops, then the fewest hops, then the
smallest ids: an
obligation is flagged ``inferred_only`` exactly when every path that carries it crosses
an inferred edge nothing declares, the finding no card-based tool can make.

Status of each inherited obligation against the model's own licence:

- ``kept``: non-commercial terms under a licence that forbids commercial use too;
  share-alike or use restrictions under the same licence; a name that starts as the
  naming rule requires.
- ``dropped``: the model's licence drops it (a **licence conflict**): commercial use
  allowed under a non-commercial ancestor, another licence than a share-alike or
  use-restricted ancestor's, a name without the required prefix, or a model trained
  only on the outputs of a licence that forbids improving other models with them,
  published under another licence.
- ``unverified``: the model's own licence is missing, unknown or ``other``, so whether
  it keeps the obligation cannot be read; also ancestors whose own terms are unknown
  (kind ``unknown_terms``).
- ``carried``: attribution, NOTICE files, user thresholds: owed on redistribution,
  not something a graph can check (and outputs restrictions reached by weights).

Access gates (kind ``gated_access``, :data:`GATE_KIND`): a model whose weights descend
from a *gated* ancestor (its card sets ``extra_gated_prompt``, or a Hub dump says
``gated``) is ``ungated`` when it carries no gate itself: the weights users had to accept
terms for are downloadable without them. It is ``kept`` when the model is gated too. A gate
follows weights hops only, the hops licence obligations follow: it controls who may
download the weights, and a model trained on the outputs does not re-publish them. A gate
is not a licence term (a licence may allow redistribution without any gate), so an
``ungated`` finding is not a licence conflict (``conflict`` false); it has its own query
(``ungated_copies``) and policy rule. Ancestors behind one gate prompt count once (the best
path kept, as for a licence's obligation); a gate without a prompt counts per ancestor.
"""

from __future__ import annotations

import heapq
import json
import re
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

from lineage.licences.table import KINDS, LicenceMatch, LicenceTable, Obligation

_ALNUM = re.compile(r"[^a-z0-9]")
#: The kind of an inherited access gate (not a licence table kind: gates come from the cards).
GATE_KIND = "gated_access"
#: How much of a gating prompt a finding quotes.
_PROMPT_CHARS = 200


@dataclass(frozen=True)
class Hop:
    """One child -> parent step, merged from the declared and inferred edges of the pair."""

    child: str
    parent: str
    declared: bool
    inferred: bool
    source: str | None = None          # manifest | model_card (declared)
    relation: str | None = None        # declared relation
    contradicted: bool = False
    channel: str | None = None         # inferred: the deciding channel (weights, dna, ...)
    confidence: float | None = None
    kind: str | None = None            # inferred derivation kind

    @property
    def outputs(self) -> bool:
        how = self.relation if self.declared and self.relation else self.kind
        return how == "distillation"

    @property
    def label(self) -> str:
        if self.declared:
            return self.source or "manifest"
        conf = "" if self.confidence is None else f" (confidence {self.confidence:.2f})"
        return f"inferred:{self.channel or 'dna'}{conf}"


def merge_hops(edges: Iterable[dict]) -> dict[tuple[str, str], Hop]:
    """Declared and inferred edge rows (``{child, parent, type, ...}``) as one hop per pair."""
    parts: dict[tuple[str, str], dict] = {}
    for e in edges:
        key = (e["child"], e["parent"])
        h = parts.setdefault(key, {"child": key[0], "parent": key[1], "declared": False, "inferred": False})
        if e["type"] == "DECLARED_PARENT":
            h.update(declared=True, source=e.get("source") or "manifest", relation=e.get("relation"),
                     contradicted=bool(e.get("contradicted")))
        elif e["type"] == "INFERRED_PARENT":
            h.update(inferred=True, channel=e.get("channel"), kind=e.get("kind"),
                     confidence=None if e.get("confidence") is None else float(e["confidence"]))
        else:
            raise ValueError(f"not a parent edge type: {e['type']!r}")
    return {k: Hop(**v) for k, v in parts.items()}


def _best_paths(model: str, parents: dict[str, list[Hop]], *, outputs: bool) -> dict[str, tuple[Hop, ...]]:
    """Ancestor -> the hops of its best path from ``model`` (fewest weak hops, then
    fewest hops, then smallest ids); ``outputs=False`` never crosses an outputs hop."""
    best: dict[str, tuple[Hop, ...]] = {}
    heap: list = [(0, 0, (model,), model, ())]
    while heap:
        undeclared, length, ids, node, hops = heapq.heappop(heap)
        if node in best:
            continue
        best[node] = hops
        for h in parents.get(node, ()):
            if (h.outputs and not outputs) or h.parent in best or h.parent in ids:
                continue
            weak = not h.declared or h.contradicted
            heapq.heappush(heap, (undeclared + weak, length + 1, ids + (h.parent,), h.parent, hops + (h,)))
    del best[model]
    return best


@dataclass(frozen=True)
class _Judged:
    status: str
    reason: str


def _name_key(text: str) -> str:
    return _ALNUM.sub("", text.lower())


def judge(o: Obligation, origin: LicenceMatch, own: LicenceMatch, name: str, *, weights_path: bool) -> _Judged:
    """The status of obligation ``o`` of ``origin``'s licence for a model with licence ``own``
    and name ``name``; ``weights_path``: the model descends from the origin by weights."""
    lo = origin.licence
    assert lo is not None
    mine = own.licence if own.status == "known" else None
    what = f"{lo.name} ({o.clause})"
    if o.kind == "naming":
        if not o.prefix:
            return _Judged("carried", f"naming rule of {what}")
        if _name_key(name).startswith(_name_key(o.prefix)):
            return _Judged("kept", f"its name starts with {o.prefix!r} as {what} requires")
        return _Judged("dropped", f"its name {name!r} does not start with {o.prefix!r} as {what} requires")
    if o.kind == "outputs_restriction" and weights_path:
        return _Judged("carried", f"a derivative of {lo.name} by its weights: owed by its users ({o.clause})")
    if o.kind in ("attribution", "notice", "user_threshold"):
        return _Judged("carried", f"owed when it is redistributed or used at scale: {what}")
    if mine is None:
        says = "no licence" if own.status == "none" else f"the licence {own.raw!r}, which the table does not identify"
        return _Judged("unverified", f"it declares {says}, so whether it keeps the {o.kind.replace('_', ' ')} "
                                     f"terms of {what} cannot be read")
    if o.kind == "non_commercial":
        if mine.commercial is False:
            return _Judged("kept", f"its own licence {mine.name} is non-commercial too")
        return _Judged("dropped", f"its licence {mine.name} allows commercial use; {what} allows none for derivatives")
    if mine.id == lo.id:
        return _Judged("kept", f"it carries the same licence, {lo.name}")
    if o.kind == "share_alike":
        return _Judged("dropped", f"its licence {mine.name} is not the one {what} requires for adaptations")
    if o.kind == "use_restrictions":
        return _Judged("dropped", f"its licence {mine.name} does not carry the use restrictions {what} requires "
                                  "every derivative's terms to include")
    if o.kind == "outputs_restriction":
        return _Judged("dropped", f"it was trained on outputs of a {lo.name} model and is published as another model "
                                  f"under {mine.name}; {what} forbids improving other models with them")
    raise AssertionError(o.kind)


def _gated(m: dict) -> bool:
    """Whether a model row carries an access gate: a gating prompt from its card, or the Hub's flag."""
    return bool(m.get("gated")) or bool((m.get("gating_prompt") or "").strip())


def _gate_row(model: str, name: str, anc: dict, hops: Sequence[Hop], model_gated: bool) -> dict:
    """The ``gated_access`` finding of ``model`` (gated or not) below the gated ancestor ``anc``."""
    prompt = " ".join((anc.get("gating_prompt") or "").split())
    quoted = prompt if len(prompt) <= _PROMPT_CHARS else prompt[:_PROMPT_CHARS - 3] + "..."
    if prompt:
        clause = "card: extra_gated_prompt"
        summary = (f"{anc['id']} is gated: users accept its terms before they can download the weights "
                   f"(its prompt: {quoted!r}); a copy of those weights keeps a gate")
    else:
        clause = f"Hub: gated ({anc.get('gated_mode') or 'auto'})"
        summary = (f"{anc['id']} is gated on the Hub ({anc.get('gated_mode') or 'auto'} approval): users accept "
                   "its terms before they can download the weights; a copy of those weights keeps a gate")
    steps = "inferred, undeclared edges only" if any(not h.declared for h in hops) else "declared edges"
    if model_gated:
        status, reason = "kept", f"it is gated too, as {anc['id']} is"
    else:
        status, reason = "ungated", (f"{name} descends by its weights from the gated {anc['id']} ({len(hops)} "
                                     f"generation(s), through {steps}) and no gate is recorded for it (no "
                                     "extra_gated_prompt on its card, no gated flag from the Hub): anyone can "
                                     f"download what {anc['id']} asks users to accept terms for")
    row = _row(model, anc["id"], LicenceMatch(None, None, "none"), GATE_KIND, summary, clause, hops, status, reason)
    row["licence_name"] = f"access gate of {anc['id']}"
    return row


def _hop_dict(h: Hop) -> dict:
    d = asdict(h)
    d["outputs"] = h.outputs
    return {k: v for k, v in d.items() if v is not None}


def _row(model: str, origin: str, match: LicenceMatch, kind: str, summary: str, clause: str,
         hops: Sequence[Hop], status: str, reason: str) -> dict:
    lic = match.licence
    return {
        "model": model, "origin": origin, "licence": lic.id if lic else None, "licence_raw": match.raw,
        "licence_name": lic.name if lic else match.raw, "licence_url": lic.url if lic else None,
        "kind": kind, "summary": summary, "clause": clause, "generations": len(hops),
        "path": [model] + [h.parent for h in hops], "sources": [h.label for h in hops],
        "hops": json.dumps([_hop_dict(h) for h in hops], sort_keys=True),
        "inferred_only": any(not h.declared for h in hops), "via_outputs": any(h.outputs for h in hops),
        "via_contradicted": any(h.contradicted for h in hops),
        "status": status, "conflict": status == "dropped", "reason": reason,
    }


def _path_key(hops: Sequence[Hop]) -> tuple:
    # a declaration the evidence contradicts is trusted no more than an inference
    return (sum(not h.declared or h.contradicted for h in hops), len(hops), tuple(h.parent for h in hops))


def inherit_obligations(models: Sequence[dict], edges: Iterable[dict], table: LicenceTable) -> dict[str, list[dict]]:
    """Every model's obligations (own and inherited) and its licence summary.

    Parameters
    ----------
    models : sequence of dict
        ``{id, name, licence}``: the licence string as the card or manifest gives it (or None);
        optionally ``gated`` (the Hub's flag), ``gating_prompt`` (the card's
        ``extra_gated_prompt``) and ``gated_mode``, for the access-gate findings.
    edges : iterable of dict
        Parent edges ``{child, parent, type}`` with ``type`` ``DECLARED_PARENT`` (and
        ``source``, ``relation``, ``contradicted``) or ``INFERRED_PARENT`` (and ``channel``,
        ``confidence``, ``kind``). Edges to models not in ``models`` are ignored.
    table : LicenceTable

    Returns
    -------
    dict
        ``obligations``: one row per model and obligation (:func:`_row` keys: path,
        sources, hops as JSON, inferred_only, status, conflict, reason);
        ``models``: one row per model (``id, licence_id, licence_status, licence_concluded,
        licence_expression, n_obligations, n_licence_conflicts, n_inferred_obligations,
        n_ungated``: the gated ancestors whose gate it drops).
    """
    ids = {m["id"] for m in models}
    match = {m["id"]: table.lookup(m.get("licence")) for m in models}
    names = {m["id"]: m.get("name") or m["id"] for m in models}
    rows_by_id = {m["id"]: m for m in models}
    gated = {m["id"] for m in models if _gated(m)}
    parents: dict[str, list[Hop]] = {}
    for h in sorted(merge_hops(e for e in edges if e["child"] in ids and e["parent"] in ids).values(),
                    key=lambda h: (h.child, h.parent)):
        if h.child != h.parent:
            parents.setdefault(h.child, []).append(h)
    rows: list[dict] = []
    stats: list[dict] = []
    order = {k: i for i, k in enumerate(KINDS + ("unknown_terms", GATE_KIND))}
    for m in sorted(ids):
        own = match[m]
        mine: list[dict] = []
        if own.licence is not None:
            for o in own.licence.obligations:
                mine.append(_row(m, m, own, o.kind, o.summary, o.clause, (), "own", f"its own licence, {own.licence.name}"))
        reach_all = _best_paths(m, parents, outputs=True)
        reach_w = _best_paths(m, parents, outputs=False) if reach_all else {}
        best: dict[tuple[str, str], tuple[tuple, dict]] = {}

        def offer(key, hops, row):
            k = _path_key(hops)
            if key not in best or k < best[key][0]:
                best[key] = (k, row)

        for anc, hops_all in reach_all.items():
            am = match[anc]
            if am.licence is None or not am.licence.known:
                what = "no licence" if am.status == "none" else f"the licence {am.raw!r}, which the table does not identify"
                offer((f"?{anc}", "unknown_terms", ""), hops_all, _row(
                    m, anc, am, "unknown_terms", f"{anc} declares {what}: its terms are unknown",
                    "n/a", hops_all, "unverified", f"an ancestor's terms are unknown ({anc} declares {what})"))
                continue
            for o in am.licence.obligations:
                if not o.inherits:
                    continue
                hops = hops_all if o.via_outputs else reach_w.get(anc)
                if hops is None:
                    continue
                j = judge(o, am, own, names[m], weights_path=anc in reach_w)
                offer((am.licence.id, o.kind, o.clause), hops, _row(m, anc, am, o.kind, o.summary, o.clause, hops, j.status,
                                                          j.reason))
        for anc, hops in reach_w.items():  # access gates travel with the weights
            if anc in gated:
                prompt = " ".join((rows_by_id[anc].get("gating_prompt") or "").split())
                offer((GATE_KIND, prompt or f"@{anc}", ""), hops,
                      _gate_row(m, names[m], rows_by_id[anc], hops, m in gated))
        inherited = sorted((r for _, r in best.values()), key=lambda r: (order[r["kind"]], r["licence"] or "", r["origin"]))
        rows += mine + inherited
        # the licences whose terms reach the model: its own (when identified), then every ancestor's
        concluded = ([own.licence.id] if own.licence is not None and own.licence.known else []) + sorted(
            {r["licence"] for r in inherited if r["kind"] not in ("unknown_terms", GATE_KIND)} - {own.id})
        exprs = [table.get(c).expression for c in concluded]
        stats.append({
            "id": m, "licence_id": own.id, "licence_status": own.status, "licence_concluded": concluded,
            "licence_expression": " AND ".join(exprs) if exprs else None,
            "n_obligations": len(mine) + len(inherited),
            "n_licence_conflicts": sum(r["conflict"] for r in inherited),
            "n_inferred_obligations": sum(r["inferred_only"] for r in inherited),
            "n_ungated": sum(r["status"] == "ungated" for r in inherited)})
    return {"obligations": rows, "models": stats}
