"""Placement: a new batch decided against the stored graph, without recomputing it.

UShER (Turakhia et al. 2021) places new genomes on a tree of millions in milliseconds
each and re-optimises the global tree only now and then; pplacer / EPA-ng place query
sequences on a fixed reference. ``lineage ingest`` does the same for models: after a
full analysis the graph keeps what a later batch needs (:func:`state_props`), and a
batch is then *placed*:

1. **Candidates.** Each new model's nearest models come from the ``model_dna`` vector
   index (``2k + 5`` of them: the index is approximate) plus the batch itself; exact
   distances are re-measured here.
2. **Who changes.** A stored model changes only when a new model comes closer to it
   than its stored k-th neighbour (``knn_radius``), or when it declares a new model as
   its base. Those and the new models are *decided*; everyone else keeps its edges.
3. **The part.** The decided models, all their candidates, the reference sample of the
   local test (the models with the smallest ``sample_key``, the very set a full analysis
   uses) and their declared parents are read back and analysed together under a
   :class:`~lineage.core.infer.analysis.Frame`: the null of the last full analysis,
   ``N - 1`` candidates in every correction (``N`` the whole graph), "documented" from
   the stored declared-lineage components. Each decided model's candidate list is exact
   (its stored neighbours plus the batch), so its parent, relations and conflicts are
   the ones a full analysis would find, up to: the vector index's recall, the null
   (refitted by a full analysis, kept here), and the corrections of models not decided
   (a full analysis would count the larger ``N`` for everyone).
   ``benchmarks/bench_placement.py`` measures the agreement.
4. **Local writes, one transaction.** The decided models' outgoing similarity,
   inferred-parent and declared-parent edges and their undocumented relations are
   replaced; new models hang in the stored tree beside their nearest model (a polytomy,
   branch marked ``placed``); family speeds, clades and the null stay those of the last
   full analysis until ``lineage ingest --full``.

When placement does not apply, ingest runs the full analysis and says why
(:func:`placement_refusal`): no analysis stored by this version, a full analysis whose
write stopped half-way (its ``:Analysis`` node still says ``writing``), other settings, a
graph smaller than ``place_min_models`` (a full analysis is cheap there), a batch larger
than the graph (the stored null would describe the minority), or evidence channels
other than the DNA (weights and next-token tests fit population-wide groups and nulls;
graphs with open-weight evidence hold hundreds of models, where extraction dominates).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import numpy as np

from lineage.core.channels.relatedness import NullDistribution
from lineage.core.infer.selection import REFERENCE_SIZE, sample_key

#: Placement needs a stored analysis of at least this many models; below it a full
#: analysis takes about a second (``docs/benchmarks.md``) and is what runs.
PLACE_MIN_MODELS = 1000
STATE_VERSION = 1


@dataclass
class PlacementResult:
    """What a placement decided (ids) and wrote."""

    n_new: int = 0
    n_affected: int = 0
    n_part: int = 0
    n_cycles_dropped: int = 0
    decided: list[str] = field(default_factory=list)


def state_props(analysis, *, k: int, fpr: float, method: str, root: str, n_models: int) -> dict:
    """Node properties of the :Analysis node written with a full analysis."""
    null: NullDistribution = analysis.null
    return {
        "version": STATE_VERSION, "k": int(k), "fpr": float(fpr), "method": method, "root": root,
        "metric": analysis.metric, "channels": list(analysis.channels), "n_models": int(n_models),
        "null_sample": [float(x) for x in null.sample], "null_location": float(null.location),
        "null_scale": float(null.scale), "null_source": null.source, "null_method": null.method,
        "analysed": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "n_placed": 0,
        "mode": "full", "tree_method": analysis.tree_method,
    }


def null_from_state(state: dict) -> NullDistribution:
    return NullDistribution(sample=np.asarray(state["null_sample"], dtype=np.float64),
                            location=float(state["null_location"]), scale=float(state["null_scale"]),
                            source=state["null_source"], method=state["null_method"], metric=state["metric"])


def placement_refusal(state: dict | None, *, k: int, fpr: float, method: str, root: str, n_before: int,
                      n_new: int, new_rows: list[dict], min_models: int = PLACE_MIN_MODELS) -> str | None:
    """Why this batch must be analysed in full (None: it can be placed)."""
    if state is not None and state.get("status") == "writing":
        return (f"the last full analysis ({state.get('analysis_id')}) stopped before it finished writing; "
                "it is written again in full")
    if state is None or state.get("version") != STATE_VERSION:
        return "no analysis stored by this version of lineage"
    if (state["k"], state["fpr"], state["method"], state["root"]) != (k, fpr, method, root):
        return (f"settings differ from the stored analysis (k={state['k']}, fpr={state['fpr']:g}, "
                f"method={state['method']}, root={state['root']})")
    if list(state["channels"]) != ["dna"] or any(r.get("weights_key") or r.get("logits_key") for r in new_rows):
        return "weight or next-token evidence is analysed in full"
    if n_before < min_models:
        return f"a graph under {min_models} models is analysed in full"
    if n_new > n_before:
        return f"a batch larger than the graph ({n_new} > {n_before}) is analysed in full"
    return None


def place(g, new_ids: list[str], state: dict, *, k: int, fpr: float, emit=lambda *a: None,
          n_total: int | None = None, new_rows: list[dict] | None = None):
    """Place ``new_ids`` (already written with their DNA) onto the analysed graph.

    Returns the :class:`PlacementResult` and the derived rows to write (see
    :func:`write_placement`). Reads the graph (``n_total``: the number of valid models,
    counted when not given; ``new_rows``: the new models' ``population_of`` rows, read when
    not given); writes nothing.
    """
    from lineage.core.infer.analysis import Frame, analyse_population
    from lineage.core.measure.distances import pair_distances

    res = PlacementResult(n_new=len(new_ids))
    if n_total is None:
        n_total = int(g.query("population_count")[0]["n"])
    if new_rows is None:
        new_rows = g.query("population_of", ids=sorted(new_ids))
    new_rows = sorted(new_rows, key=lambda r: r["id"])
    new_set = {r["id"] for r in new_rows}
    if not new_rows:
        return res, None
    Xn = np.asarray([r["dna"] for r in new_rows], dtype=np.float32)

    # 1. candidates: the vector index, re-measured exactly
    kc = 2 * k + 5
    cand_rows = g.query("vector_candidates", rows=[{"id": r["id"], "dna": r["dna"]} for r in new_rows], k=kc)
    cand = sorted({c for r in cand_rows for c in r["candidates"]} - new_set)
    rows = {r["id"]: r for r in new_rows}
    for r in g.query("population_of", ids=cand):
        rows[r["id"]] = r
    cand = [c for c in cand if c in rows]

    # 2. who changes: a new model inside a stored model's k-th-neighbour radius, or a declarer of a new model
    affected: set[str] = set()
    if cand:
        Xc = np.asarray([rows[c]["dna"] for c in cand], dtype=np.float32)
        radius = np.array([np.inf if rows[c]["knn_radius"] is None else rows[c]["knn_radius"] for c in cand])
        for i in range(0, len(new_rows), 256):  # (batch block) x candidates, never batch x graph
            ii = np.repeat(np.arange(i, min(i + 256, len(new_rows))), len(cand))
            jj = np.tile(np.arange(len(cand)), min(256, len(new_rows) - i))
            d = pair_distances(np.vstack([Xn, Xc]), ii, jj + len(new_rows)).reshape(-1, len(cand))
            hit = (d < radius[None, :]).any(axis=0)
            affected.update(c for c, h in zip(cand, hit.tolist()) if h)
    names = sorted(new_set | {p for r in new_rows for p in r["declared_parents"]})
    links = g.query("declared_links", names=names)
    declarers = {r["id"] for r in links if r["valid"] and r["id"] not in new_set
                 and set(r["declared_parents"]) & new_set}
    affected |= declarers
    decided = new_set | affected
    res.n_affected = len(affected)

    # 3. the part: decided models, their stored neighbours, candidates, declared parents, the reference sample
    stored = {r["id"]: r for r in g.query("stored_neighbours", ids=sorted(affected))}
    reference = [r["id"] for r in g.query("reference_models", size=REFERENCE_SIZE + 1)]
    part = set(decided) | set(cand) | set(reference)
    part |= {x for r in stored.values() for x in r["neighbours"]}
    part |= {p for m in decided if m in rows for p in rows[m]["declared_parents"]}
    missing = sorted(part - set(rows))
    for r in g.query("population_of", ids=missing):
        rows[r["id"]] = r
    ids = sorted(m for m in part if m in rows)
    res.n_part = len(ids)
    labels = _components(ids, rows, new_set, links)
    pos = {m: i for i, m in enumerate(ids)}
    sample = np.array(sorted(pos[m] for m in reference if m in pos), dtype=np.int64)
    frame = Frame(n_total=n_total, null=null_from_state(state), sample=sample, components=[labels[m] for m in ids])
    X = np.asarray([rows[m]["dna"] for m in ids], dtype=np.float32)
    emit("phase", {"name": f"place {len(new_set)} new models ({len(affected)} stored ones change; part of {len(ids)})"})
    an = analyse_population(
        ids, X, release_dates=[_date(rows[m]["release_date"]) for m in ids], families=[rows[m]["family"] for m in ids],
        declared_parents=[list(rows[m]["declared_parents"]) for m in ids],
        declared_relations=[rows[m]["declared_relation"] for m in ids],
        k=min(k, len(ids) - 1), fpr=fpr, metric=state["metric"], tree_source="none", frame=frame)

    # 4. keep what concerns the decided models, as a full analysis would find it
    nn_of: dict[str, set[str]] = {}
    for nb in an.neighbours:
        if nb.a in decided:
            nn_of.setdefault(nb.a, set()).add(nb.b)
    touching = [u for u in an.undocumented if u.a in decided or u.b in decided]
    # an undecided end examined the pair when it is in its stored list: only those pairs are read
    asked = sorted({(x, y) for u in touching for x, y in ((u.a, u.b), (u.b, u.a)) if x not in decided})
    stored_pairs = {(r["a"], r["b"]) for r in g.query("stored_similar_pairs", pairs=[{"a": x, "b": y} for x, y in asked])} \
        if asked else set()

    def examined(a: str, b: str) -> bool:  # the pair is in a's list (exact for decided models, stored otherwise)
        return b in nn_of.get(a, set()) if a in decided else (a, b) in stored_pairs

    parents = [p for p in an.parents if p.child in decided]
    parents, res.n_cycles_dropped = _drop_cycles(g, parents, decided)
    undocumented = [u for u in touching if examined(u.a, u.b) or examined(u.b, u.a)]
    conflicts = [c for c in an.conflicts if c.child in decided]
    res.decided = sorted(decided)
    return res, {"analysis": an, "parents": parents, "undocumented": undocumented, "conflicts": conflicts,
                 "rows": rows, "labels": labels, "new": sorted(new_set), "decided": sorted(decided),
                 "merged_labels": _merged(labels, rows, ids),
                 "old_parents": sorted({p for r in stored.values() for p in r["parents"]})}


def _date(s):
    return dt.date.fromisoformat(s) if s else None


def _components(ids, rows, new_set, links) -> dict[str, str]:
    """Declared-lineage labels of the part: stored labels, with new models joined to every
    component their declarations reach (through present models or shared absent names).
    A group's label is its smallest stored label, else its smallest model id."""
    parent: dict[str, str] = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for m in ids:
        find("m:" + m)
        label = rows[m].get("declared_component")
        if label is not None and m not in new_set:
            union("c:" + label, "m:" + m)
    for r in links:
        if r["declared_component"] is not None and r["id"] not in new_set:
            union("c:" + r["declared_component"], "m:" + r["id"])
    for m in sorted(new_set):
        names = set(rows[m]["declared_parents"])
        for p in names:
            union("m:" + m, "m:" + p)  # present or absent, a shared name joins
        for r in links:
            if m in r["declared_parents"] or names & set(r["declared_parents"]):
                union("m:" + m, "m:" + r["id"])
    stored: dict[str, str] = {}
    smallest: dict[str, str] = {}
    for x in list(parent):
        root = find(x)
        if x.startswith("c:"):
            stored[root] = min(stored.get(root, x[2:]), x[2:])
        else:
            smallest[root] = min(smallest.get(root, x[2:]), x[2:])
    return {m: stored.get(find("m:" + m)) or smallest[find("m:" + m)] for m in ids}


def _merged(labels: dict[str, str], rows: dict, ids) -> list[tuple[list[str], str]]:
    """Stored components a new model joined together: (old labels, new label)."""
    groups: dict[str, set[str]] = {}
    for m in ids:
        old = rows[m].get("declared_component")
        if old is not None and old != labels[m]:
            groups.setdefault(labels[m], set()).add(old)
    return [(sorted(v), k) for k, v in sorted(groups.items())]


def _drop_cycles(g, parents, decided) -> tuple[list, int]:
    """A decided edge that would close a loop through stored parent edges is dropped ("no parent
    found" over a loop; the local arborescence cannot see edges outside the part)."""
    chosen = {p.child: p.parent for p in parents}
    up_ids = sorted({p.parent for p in parents} - set(decided))
    stored: dict[str, str] = {}
    # stored parents upwards from each, at most 64 generations (one query), up to a decided model
    for r in (g.query("stored_parent_chains", ids=up_ids) if up_ids else []):
        chain = r["chain"]
        for x, up in zip(chain, chain[1:]):
            if x in decided:
                break
            stored[x] = up

    def parent_of(x):
        return chosen.get(x) if x in decided else stored.get(x)

    kept, dropped = [], 0
    for p in parents:
        x, seen, loop = p.parent, set(), False
        while x is not None and x not in seen:
            if x == p.child:
                loop = True
                break
            seen.add(x)
            x = parent_of(x)
        if loop:
            dropped += 1
            chosen.pop(p.child, None)
        else:
            kept.append(p)
    return kept, dropped


def knn_radii(neighbours) -> dict[str, float]:
    """Each model's distance to its farthest kept neighbour (its k-th nearest): a model placed
    later changes its neighbour list only when it comes closer than that."""
    out: dict[str, float] = {}
    for nb in neighbours:
        out[nb.a] = max(out.get(nb.a, 0.0), float(nb.distance))
    return out


def _json_num(x):
    return None if x != x else float(x)  # NaN -> null


def placement_rows(result: dict, *, fpr: float) -> dict[str, list[dict]]:
    """Rows for the write queries, for the decided models only (pure)."""
    an, rows, decided = result["analysis"], result["rows"], set(result["decided"])
    conflicts = {(c.child, c.declared_parent): c for c in result["conflicts"]}
    out: dict[str, list[dict]] = {}
    out["write_declared_parents"] = []
    for m in sorted(decided):
        for p in rows[m]["declared_parents"]:
            if p in rows:
                c = conflicts.get((m, p))
                out["write_declared_parents"].append({
                    "child": m, "parent": p, "relation": rows[m]["declared_relation"],
                    "source": rows[m]["declared_source"] or "manifest", "contradicted": c is not None,
                    "distance": c.distance if c else None, "p_value": c.p_value if c else None,
                    "reason": c.reason if c else None})
    declared = {(m, p) for m in decided for p in rows[m]["declared_parents"]}
    out["write_similar"] = [{"a": n.a, "b": n.b, "distance": float(n.distance), "rank": int(n.rank)}
                            for n in an.neighbours if n.a in decided]
    out["write_inferred_parents"] = [
        {"child": p.child, "parent": p.parent, "confidence": float(p.confidence), "p_value": float(p.p_value),
         "distance": float(p.distance), "method": p.method, "documented": (p.child, p.parent) in declared,
         "channel": p.channel, "kind": p.kind,
         "evidence": json.dumps([e.as_dict() for e in p.evidence], sort_keys=True, default=_json_num)}
        for p in result["parents"]]
    out["write_undocumented"] = [
        {"a": u.a, "b": u.b, "score": float(u.score), "p_value": float(u.p_value), "kind": u.kind, "rank": None}
        for u in result["undocumented"]]
    radius = knn_radii([n for n in an.neighbours if n.a in decided])
    out["set_placed_stats"] = [{"id": m, "knn_radius": radius.get(m), "declared_component": result["labels"][m],
                                "sample_key": sample_key(m)} for m in sorted(decided)]
    nearest: dict[str, tuple[float, str]] = {}
    new = set(result["new"])
    for n in an.neighbours:  # the nearest model already in the tree
        if n.a in new and n.b not in new and (n.a not in nearest or n.distance < nearest[n.a][0]):
            nearest[n.a] = (float(n.distance), n.b)
    out["attach_placed_leaves"] = [{"id": m, "nearest": b, "length": d / 2} for m, (d, b) in sorted(nearest.items())]
    out["join_families"] = [{"id": m, "family": rows[m]["family"]} for m in sorted(new) if rows[m]["family"]]
    return out


def write_placement(g, result: dict, rows: dict[str, list[dict]], state: dict, *, n_total: int) -> None:
    """Replace the decided models' derived edges in one transaction, then refresh counts."""
    decided = result["decided"]
    old_parents = result["old_parents"]  # the decided models' stored parents (new models have none)
    state = {**state, "n_models": int(n_total), "n_placed": int(state.get("n_placed", 0)) + len(result["new"]),
             "mode": "placed", "placed": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}

    def tx_work(tx):
        for i in range(0, len(decided), 5000):
            g.run_in(tx, "clear_placed_edges", ids=decided[i:i + 5000])
        if result["merged_labels"]:  # one round trip (27 in the 20,000-model benchmark)
            g.run_in(tx, "relabel_components", rows=[{"old": old, "new": new} for old, new in result["merged_labels"]])
        for name in ("write_declared_parents", "write_similar", "write_inferred_parents", "write_undocumented",
                     "set_placed_stats", "attach_placed_leaves", "join_families"):
            batch = rows[name]
            for i in range(0, len(batch), 5000):
                g.run_in(tx, name, rows=batch[i:i + 5000])
        g.run_in(tx, "refresh_descendants", ids=sorted(set(decided) | set(old_parents)))
        g.run_in(tx, "write_analysis_state", props=state)

    g.unit_of_work(tx_work)
