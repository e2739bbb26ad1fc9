"""``lineage ingest``: a batch of models into the lineage graph.

Order of work, and why:

1. Validate the whole manifest first (nothing is written for a bad manifest).
2. Connect, bootstrap the schema, take the graph-wide ingest lock (one ingest
   at a time; a second one fails at once with the holder's name).
3. Refuse a batch whose DNA settings differ from the graph's (DNAs made under
   different provenance are never compared).
4. Per model: skip it when the graph already holds its DNA from the same source
   and settings (``force=True`` re-extracts); otherwise extract (the response
   cache means a rerun after a crash only generates what is missing) and write
   the node *with* its DNA in one statement, at once. A model that fails is
   recorded with its reason and the batch carries on. So an interrupted ingest
   leaves no model without its DNA, and a rerun completes it.
5. Place the new models onto the stored analysis (:mod:`lineage.pipeline.place`;
   its local writes in one transaction), or recompute, over every valid model in
   the graph (earlier batches too): the tree, k-nearest similarity edges, inferred
   parents, undocumented relations, conflicts and family speeds, and replace the
   old ones in bounded transactions under the write protocol of
   :func:`write_full_analysis` (the ``:Analysis`` node says ``writing`` until the
   last one; a write that stopped half-way is redone by the next ingest).

Rerunning the same batch changes nothing: ids are merged, the run id is a hash
of the batch and the settings, and derived structure is deterministic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from lineage.core.infer.selection import sample_key
from lineage.pipeline.place import _json_num, knn_radii
from lineage.dna.files import check_dna_vector
from lineage.dna.record import DNA, Provenance
from lineage.graph.lock import IngestLock
from lineage.errors import DegenerateModelError, LineageError, ProvenanceMismatch
from lineage.manifest import Manifest, ManifestEntry, load_manifest
from lineage.settings import Settings

PROVENANCE_FIELDS = ("probe_set", "probe_hash", "n_probes", "encoder", "row_reduction", "row_dim",
                     "dna_dim", "projection_seed", "dtype", "tool_version")


@dataclass
class IngestReport:
    """What one ingest did."""

    run_id: str
    n_models: int = 0
    n_extracted: int = 0
    n_skipped: int = 0
    n_degenerate: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    unknown_parents: list[tuple[str, str]] = field(default_factory=list)
    n_population: int = 0
    n_parents: int = 0
    n_similar: int = 0
    n_undocumented: int = 0
    n_conflicts: int = 0
    n_families: int = 0
    seconds: float = 0.0
    seconds_extract: float = 0.0
    seconds_analyse: float = 0.0
    seconds_write: float = 0.0
    analysis: str = "full"  # "full", "placed" (lineage.pipeline.place) or "unchanged"
    analysis_note: str = ""  # why the full analysis ran, or what placement changed
    n_affected: int = 0  # stored models a placement re-decided
    loaded_ids: list[str] = field(default_factory=list)
    reloaded: int = 0  # models that had a DNA in the graph before this run and got a new one

    @property
    def n_failed(self) -> int:
        return len(self.failures)

    def summary_rows(self) -> list[dict]:
        return [{"item": k, "value": v} for k, v in (
            ("run", self.run_id), ("models in batch", self.n_models), ("extracted", self.n_extracted),
            ("already in graph (skipped)", self.n_skipped), ("degenerate", self.n_degenerate),
            ("failed", self.n_failed), ("declared parents not found (no edge drawn)", len(self.unknown_parents)),
            ("valid models in graph", self.n_population),
            ("inferred parents", self.n_parents), ("similarity edges", self.n_similar),
            ("undocumented relations", self.n_undocumented), ("conflicts", self.n_conflicts),
            ("families with a speed", self.n_families),
            ("analysis", f"{self.analysis}: {self.analysis_note}" if self.analysis_note else self.analysis),
            ("seconds", round(self.seconds, 1)))]


ProgressHook = Callable[[str, dict], None]


def _source_string(e: ManifestEntry) -> str:
    if e.dna is not None:
        return f"dna:{e.dna}"
    if e.endpoint:
        return f"{e.endpoint}#{e.endpoint_model}"
    if e.hub_id:
        return f"hub:{e.hub_id}"
    if e.path is not None:
        return str(e.path)
    raise AssertionError("a validated entry always has a source")


def _source_fingerprint(e: ManifestEntry) -> str:
    """A cheap stamp of what the source holds now (file names, sizes, mtimes), so a model
    replaced at the same path is re-extracted. The response cache keys on a content hash."""
    target = Path(e.dna) if e.dna is not None else (Path(e.path) if e.path is not None else None)
    if target is None:
        return _source_string(e)
    try:
        files = sorted(target.iterdir()) if target.is_dir() else [target]
        stamp = [(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.is_file()]
    except OSError:
        return "unreadable"
    return hashlib.sha256(json.dumps([_source_string(e), stamp]).encode()).hexdigest()[:16]


def _props(e: ManifestEntry, d: DNA | None, declared_source: str | None, meta: dict | None = None) -> dict:
    """Node properties of one model: its metadata (``meta``: what :func:`lineage.modelcard.describe`
    read from its files, each value with its ``<field>_source``) and its DNA's provenance."""
    from lineage.modelcard import NODE_PROPS

    p: dict = {**dict.fromkeys(NODE_PROPS), **(meta or {}),
        "name": e.name or e.id, "family": e.family, "organisation": e.organisation,
        "architecture": e.architecture, "params": e.params, "licence": e.licence,
        "source": _source_string(e), "source_kind": e.source_kind, "source_fingerprint": _source_fingerprint(e),
        "declared_base_models": list(e.base_model), "declared_relation": e.base_model_relation,
        "declared_source": declared_source, "sample_key": sample_key(e.id),
    }
    if d is not None:
        prov = d.provenance
        p.update({k: getattr(prov, k) for k in PROVENANCE_FIELDS})
        p.update(provenance_key=prov.comparability_key(),
                 generation=json.dumps(prov.generation.model_dump(mode="json"), sort_keys=True),
                 n_empty=d.n_empty, degenerate=d.degenerate,
                 # a DNA file is the user's claim, an extracted DNA our measurement: reports must tell them apart
                 dna_source="file" if e.source_kind == "dna" else "extracted")
    return p


def _run_id(manifest: Manifest, key: str) -> str:
    blob = json.dumps([key, sorted(manifest.ids())]).encode()
    return "run:" + hashlib.sha256(blob).hexdigest()[:16]


@dataclass
class _Existing:
    """What ingest checks against the models already in the graph, read in two queries
    (``existing_overview``: one row of lists over every model; ``existing_models_of``: the
    batch's own models) rather than a row per stored model."""

    ids: list[str]
    provenance_keys: set[str]  # of the models with a DNA
    n_with_dna: int
    n_valid: int  # status ok, with a DNA: the population before this batch
    declared: dict[str, list[str]]  # id -> declared parents, of the models that declare any
    batch: dict[str, dict]  # the batch's models already in the graph (existing_models_of rows)

    @classmethod
    def read(cls, g, batch_ids: list[str]) -> "_Existing":
        o = g.query("existing_overview")[0]
        found = g.query("existing_models_of", ids=sorted(set(batch_ids))) if batch_ids else []
        return cls(ids=list(o["ids"]), provenance_keys={k for k in o["provenance_keys"] if k},
                   n_with_dna=int(o["n_with_dna"]), n_valid=int(o["n_valid"]),
                   declared={r["id"]: list(r["parents"]) for r in o["declared"]},
                   batch={r["id"]: r for r in found})


def _check_provenance(existing: _Existing, prov: Provenance | None) -> None:
    keys = existing.provenance_keys
    if prov is not None and keys and prov.comparability_key() not in keys:
        raise ProvenanceMismatch(
            f"this batch's DNA settings (key {prov.comparability_key()}) differ from those of the "
            f"{existing.n_with_dna} models already in the graph (key {', '.join(sorted(keys))})",
            hint="use the graph's probes, encoder and generation settings (see `lineage query provenance`), or another database",
        )


def ingest(
    manifest: str | Path | Manifest,
    *,
    settings: Settings,
    extract_config=None,
    k: int = 10,
    fpr: float = 0.01,
    method: str = "nj",
    root: str = "midpoint",
    force: bool = False,
    full: bool = False,
    tree_dir: str | Path | None = None,
    progress: ProgressHook | None = None,
    executor: str = "local",
    address: str | None = None,
) -> IngestReport:
    """Ingest a batch of models into the graph and recompute the lineage structure.

    Parameters
    ----------
    manifest : path or Manifest
        YAML/JSONL manifest (see :mod:`lineage.manifest`).
    settings : Settings
    extract_config : lineage.dna.extract.ExtractConfig, optional
        DNA settings for models without a precomputed DNA (default settings when omitted).
    k : int
        Similarity edges per model.
    fpr : float
        False-positive rate for relatedness (undocumented relations, conflicts).
    method, root : str
        Tree method (``nj`` | ``upgma``) and rooting (``midpoint`` | ``outgroup``).
    force : bool
        Re-extract models the graph already holds.
    full : bool
        Re-analyse the whole graph even when the batch could be placed onto the stored
        analysis (:mod:`lineage.pipeline.place`, which says when it applies).
    tree_dir : path, optional
        Where to write the tree (Newick, PNG, SVG); default ``<cache_dir>/trees``.
    progress : callable, optional
        ``progress(event, info)`` with events ``batch_start`` (``n_models``), ``model_start``,
        ``model_done``, ``model_failed``, ``extract_progress``, ``phase``.
    executor : {"local", "ray"}
        Where models are extracted (:mod:`lineage.dna.executors`); the graph is written here either way.
    address : str, optional
        Ray cluster address (``executor="ray"`` only; default ``RAY_ADDRESS`` or a local cluster).
    """
    from lineage.dna.executors import make_executor
    from lineage.graph.store import Graph

    t0 = time.perf_counter()
    emit = progress or (lambda event, info: None)
    m = manifest if isinstance(manifest, Manifest) else load_manifest(manifest, api_key_prefixes=settings.api_key_prefixes)
    runner = make_executor(executor, address)
    batch = _prepare_batch(m, settings, runner.configure(extract_config, dna_dim=settings.dna_dim), emit)
    with Graph(settings) as g:
        g.bootstrap_schema()
        with IngestLock(g):
            existing = _Existing.read(g, [e.id for e, _ in batch.entries])
            _check_provenance(existing, batch.provenance)
            _check_declarations(batch, existing)
            rep = _start_run(g, m, batch)
            rep.unknown_parents = list(batch.unknown_parents)
            try:
                _load_models(g, batch, existing, rep, settings, force=force, emit=emit, runner=runner)
                emit("phase", {"name": "analyse"})
                _analyse(g, settings, rep, full=full, k=k, fpr=fpr, method=method, root=root, tree_dir=tree_dir,
                         emit=emit, n_before=existing.n_valid)
            except BaseException as e:
                _abort_run(g, rep, "interrupted" if isinstance(e, KeyboardInterrupt) else "failed")
                raise
            _finish_run(g, rep)
    rep.seconds = time.perf_counter() - t0
    return rep


def _check_declarations(batch: "_Batch", existing: _Existing) -> None:
    """Refuse declared cycles through the graph; note declared parents found nowhere (no edge is drawn)."""
    from lineage.manifest import check_declared_lineage, unknown_parents

    in_batch = {e.id for e, _ in batch.entries}
    import logging

    from lineage.manifest import lookalike_ids

    known = existing.ids
    known_set = set(known)
    for new, other in lookalike_ids([e.id for e, _ in batch.entries if e.id not in known_set], known):
        logging.getLogger("lineage").warning("warning: model id %s looks like the id %s but is another model (invisible, look-alike or "
                    "compatibility characters); check the manifest", ascii(new), ascii(other))
    graph_parents = {m: ps for m, ps in existing.declared.items() if m not in in_batch}
    check_declared_lineage([e for e, _ in batch.entries], graph_parents, origin="manifest")
    enriched = Manifest(models=[e for e, _ in batch.entries]) if batch.entries else batch.manifest
    batch.unknown_parents = unknown_parents(enriched, known_ids=known)


@dataclass
class _Batch:
    """A validated batch ready to load: entries with where their declared parents came from,
    the extractor (None when every DNA is precomputed) and the DNA settings it produces."""

    entries: list[tuple[ManifestEntry, str | None]]
    extractor: object | None
    provenance: Provenance | None
    manifest: Manifest
    unknown_parents: list[tuple[str, str]] = field(default_factory=list)
    meta: dict[str, dict] = field(default_factory=dict)  # id -> node properties read from its files


def _prepare_batch(m: Manifest, settings: Settings, extract_config, emit: ProgressHook) -> _Batch:
    from lineage.modelcard import describe

    described = [describe(e) for e in m.models]
    entries = [(d.entry, d.declared_source) for d in described]
    meta = {d.entry.id: d.props for d in described}
    if not any(e.source_kind != "dna" for e, _ in entries):
        return _Batch(entries, None, None, m, meta=meta)
    from lineage.dna.extract import ExtractConfig, Extractor

    def on_extract(model_id, done, total, tokens):
        emit("extract_progress", {"model": model_id, "done": done, "total": total, "tokens": tokens})

    extractor = Extractor(extract_config or ExtractConfig(dna_dim=settings.dna_dim),
                          cache_dir=settings.cache_dir, progress=on_extract)
    prov = extractor.provenance_
    if prov.dna_dim != settings.dna_dim:
        raise ProvenanceMismatch(f"extraction makes {prov.dna_dim}-d DNAs, the graph uses {settings.dna_dim}")
    return _Batch(entries, extractor, prov, m, meta=meta)


def _start_run(g, m: Manifest, batch: _Batch) -> "IngestReport":
    prov = batch.provenance
    rep = IngestReport(run_id=_run_id(m, prov.comparability_key() if prov else "precomputed"),
                       n_models=len(batch.entries))
    props = {"started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "status": "running",
             "n_models": len(batch.entries)}
    if prov is not None:
        props.update({f: getattr(prov, f) for f in PROVENANCE_FIELDS}, provenance_key=prov.comparability_key(),
                     generation=json.dumps(prov.generation.model_dump(mode="json"), sort_keys=True))
    g.query("upsert_run", run_id=rep.run_id, props=props)
    return rep


def _finish_run(g, rep: "IngestReport") -> None:
    props = {"finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
             "status": "partial" if rep.failures else "ok", "n_failed": rep.n_failed}
    g.query("upsert_run", run_id=rep.run_id, props=props)


def _abort_run(g, rep: "IngestReport", status: str) -> None:
    """Mark a run that stopped half-way as ``failed`` or ``interrupted``: a run left ``running``
    looks alive forever (#21). Best effort: the graph may be what failed."""
    props = {"finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "status": status,
             "n_failed": rep.n_failed}
    try:
        g.query("upsert_run", run_id=rep.run_id, props=props)
    except LineageError:
        pass


def _already_loaded(prev: dict | None, entry: ManifestEntry, prov: Provenance | None) -> bool:
    """The graph holds this model's valid DNA from the same source and settings."""
    # degenerate and failed models carry status 'failed', so they are retried on every run
    return bool(prev and prev["status"] == "ok" and prev["has_dna"]
                and prev["source_fingerprint"] == _source_fingerprint(entry)
                and (prov is None or prev["provenance_key"] == prov.comparability_key()))


def _precomputed_dna(entry: ManifestEntry, settings: Settings, prov: Provenance | None, graph_keys: set) -> DNA:
    """A DNA file named by the manifest, checked against the batch's and the graph's settings."""
    from lineage.loaders.precomputed import load_precomputed

    d = load_precomputed(entry.dna, model_id=entry.id)
    if d.provenance.dna_dim != settings.dna_dim:
        raise ProvenanceMismatch(
            f"DNA file {entry.dna} has dimension {d.provenance.dna_dim}, the graph uses {settings.dna_dim}")
    pk = d.provenance.comparability_key()
    if (prov and pk != prov.comparability_key()) or (graph_keys and pk not in graph_keys):
        raise ProvenanceMismatch(f"DNA file {entry.dna} was made with other settings than this graph's DNAs")
    graph_keys.add(pk)
    return d


def _load_models(g, batch: _Batch, existing: _Existing, rep: "IngestReport", settings: Settings, *,
                 force: bool, emit: ProgressHook, runner) -> None:
    """Step 4: each model written with its DNA at once, or recorded as failed; the batch goes on."""
    t_ex = time.perf_counter()
    done = existing.batch
    pending: list[dict] = []
    graph_keys = set(existing.provenance_keys)

    def flush():
        if pending:
            g.write("upsert_models", pending, run_id=rep.run_id)
            pending.clear()

    def fail(entry, declared_source, message, props=None, error=None, **extra):
        rep.failures.append((entry.id, message))
        props = props or _props(entry, None, declared_source, batch.meta.get(entry.id))
        g.write("record_failed_models", [{"id": entry.id, "error": error or message, "props": {**props, **extra}}],
                run_id=rep.run_id)
        emit("model_failed", {"model": entry.id, "error": message})

    todo = [e for e, _ in batch.entries if e.source_kind != "dna"
            and (force or not _already_loaded(done.get(e.id), e, batch.provenance))]
    run = runner.submit(batch.extractor, todo) if todo else None  # ray: every task starts now
    emit("batch_start", {"n_models": len(batch.entries)})
    for entry, declared_source in batch.entries:
        if not force and _already_loaded(done.get(entry.id), entry, batch.provenance):
            rep.n_skipped += 1
            emit("model_done", {"model": entry.id, "skipped": True})
            continue
        emit("model_start", {"model": entry.id})
        try:
            if entry.source_kind == "dna":
                d = _precomputed_dna(entry, settings, batch.provenance, graph_keys)  # checked when read
            else:
                d = run.result(entry)
                check_dna_vector(d.vector, origin=entry.id)  # an extracted DNA is checked like a DNA file
        except DegenerateModelError as e:
            fail(entry, declared_source, e.message, degenerate=True)
            continue
        except LineageError as e:
            fail(entry, declared_source, e.message)
            continue
        props = {**_props(entry, d, declared_source, batch.meta.get(entry.id)), **_weight_props(entry, settings)}
        if d.degenerate:
            rep.n_degenerate += 1
            fail(entry, declared_source, f"degenerate: {d.n_empty} of {d.n_probes} answers empty", props=props,
                 error="degenerate DNA (mostly empty answers)")
            continue
        rep.loaded_ids.append(entry.id)
        if (done.get(entry.id) or {}).get("has_dna"):
            rep.reloaded += 1
        pending.append({"id": entry.id, "props": props, "dna": [float(x) for x in d.vector],
                        "release_date": entry.release_date.isoformat() if entry.release_date else None})
        rep.n_extracted += 1
        # Extracted models are written at once (seconds of work each); precomputed ones in batches.
        if entry.source_kind != "dna" or len(pending) >= 2000:
            flush()
        emit("model_done", {"model": entry.id, "skipped": False})
    flush()
    runner.close()
    rep.seconds_extract = time.perf_counter() - t_ex


def _weight_props(entry, settings: Settings) -> dict:
    """The evidence channels of one model (:func:`lineage.evidence.profiles.model_evidence`, its
    profiles cached) as node properties. Policy: record. A channel that fails, or an endpoint
    without logprobs, leaves ``weights_error`` / ``logits_error`` on the node and the channel
    absent; the model keeps its DNA."""
    from lineage.evidence.profiles import model_evidence
    from lineage.evidence.weights import profile_summary, weights_sha256

    ev = model_evidence(entry, cache_dir=settings.cache_dir, on_error="record")
    if ev.weights is not None:
        props = {**profile_summary(ev.weights), "weights_path": str(Path(entry.path).resolve()),
                 "weights_sha256": weights_sha256(entry.path)}
    else:
        props = {"weights_key": None}
        if "weights" in ev.errors:
            return {**props, "weights_error": ev.errors["weights"]}
    if ev.logits is not None:
        props["logits_key"] = ev.logits.key
    elif "logits" in ev.errors or "logits" in ev.notes:
        props.update(logits_key=None, logits_error=ev.errors.get("logits") or ev.notes["logits"])
    return props


def population_from_graph(g, settings: Settings | None = None):
    """Every valid model in the graph as a :class:`~lineage.core.infer.population.Population`.

    With ``settings``, weight profiles come from this machine's cache (``weights_key`` on
    each node) and near-ties can be re-measured from the model folders still on disk;
    models whose profile is not cached here have no weights channel.
    """
    from lineage.core.infer.population import Population

    rows = g.query("population")
    ids = [r["id"] for r in rows]
    X = np.asarray([r["dna"] for r in rows], dtype=np.float32).reshape(len(rows), -1 if rows else 0)
    weights, logits, refine = None, None, None
    if settings is not None:
        from lineage.evidence.logits import cached_logits
        from lineage.evidence.weights import cached_profile, exact_refiner

        # a profile missing here or not trusted is rebuilt from the model folder when it is still
        # on this machine (same content key only): a tampered cache never changes the answer
        weights = [cached_profile(settings.cache_dir, r.get("weights_key"), r.get("weights_path")) for r in rows]
        logits = [cached_logits(settings.cache_dir, r.get("logits_key"), r.get("weights_path")) for r in rows]
        refine = exact_refiner([r.get("weights_path") for r in rows])
    return Population(
        ids=ids, X=X,
        release_dates=[dt.date.fromisoformat(r["release_date"]) if r["release_date"] else None for r in rows],
        families=[r["family"] for r in rows], declared_parents=[list(r["declared_parents"]) for r in rows],
        declared_relations=[r["declared_relation"] for r in rows],
        declared_sources=[r["declared_source"] for r in rows], weights=weights or (), logits=logits or (),
        refine=refine)


def _analyse(g, settings: Settings, rep: IngestReport, *, full: bool, k, fpr, method, root, tree_dir, emit,
             n_before: int) -> None:
    """Step 5: place the batch onto the stored analysis when that gives the full analysis's answer
    (:mod:`lineage.pipeline.place`), else recompute everything; ``rep.analysis`` says which and why."""
    from lineage.pipeline import place as pl

    if full:
        rep.analysis_note = "asked for (--full)"
        return _recompute(g, settings, rep, k=k, fpr=fpr, method=method, root=root, tree_dir=tree_dir, emit=emit)
    found = g.query("analysis_state")
    state = found[0]["state"] if found else None
    n_now = int(g.query("population_count")[0]["n"])
    new_ids = list(dict.fromkeys(rep.loaded_ids))
    new_rows = g.query("population_of", ids=new_ids) if new_ids else []
    why = pl.placement_refusal(state, k=k, fpr=fpr, method=method, root=root, n_before=n_before,
                               n_new=len(new_rows), new_rows=new_rows, min_models=settings.place_min_models)
    if why is None and rep.reloaded:
        why = f"{rep.reloaded} models already in the graph got a new DNA"
    if why is None and state["n_models"] + len(new_rows) != n_now:
        why = (f"the graph holds {n_now} valid models, the stored analysis {state['n_models']} "
               f"and this batch {len(new_rows)} new ones (an earlier run stopped before its analysis?)")
    if why is not None:
        rep.analysis_note = why
        return _recompute(g, settings, rep, k=k, fpr=fpr, method=method, root=root, tree_dir=tree_dir, emit=emit)
    rep.n_population = n_now
    if not new_rows:
        rep.analysis, rep.analysis_note = "unchanged", "no new models; the stored analysis stands"
        return
    t_an = time.perf_counter()
    res, result = pl.place(g, [r["id"] for r in new_rows], state, k=k, fpr=fpr, emit=emit, n_total=n_now,
                           new_rows=new_rows)
    rows = pl.placement_rows(result, fpr=fpr)
    rep.seconds_analyse = time.perf_counter() - t_an
    t_w = time.perf_counter()
    emit("phase", {"name": "write"})
    pl.write_placement(g, result, rows, state, n_total=n_now)
    from lineage.graph.licences import recompute_licences

    # obligations follow the parent edges just written: only the decided models' (and their
    # descendants') can change (docs/licences.md)
    recompute_licences(g, ids=result["decided"])
    rep.seconds_write = time.perf_counter() - t_w
    rep.analysis, rep.n_affected = "placed", res.n_affected
    rep.analysis_note = (f"{res.n_new} new models placed onto {state['n_models']}; {res.n_affected} stored models "
                         f"re-decided (use --full to re-analyse everything)")
    rep.n_parents = len(rows["write_inferred_parents"])
    rep.n_similar = len(rows["write_similar"])
    rep.n_undocumented = len(rows["write_undocumented"])
    rep.n_conflicts = sum(1 for r in rows["write_declared_parents"] if r["contradicted"])


def _recompute(g, settings: Settings, rep: IngestReport, *, k, fpr, method, root, tree_dir, emit) -> None:
    from lineage.core.infer.population import analyse
    from lineage.pipeline.place import state_props

    rep.analysis = "full"
    pop = population_from_graph(g, settings)
    ids = pop.ids
    rep.n_population = len(ids)
    t_an = time.perf_counter()
    analysis = analyse(pop, k=k, method=method, root=root, fpr=fpr) if len(ids) >= 3 else None
    rep.seconds_analyse = time.perf_counter() - t_an
    t_w = time.perf_counter()
    rows = derived_rows(pop, analysis)
    rep.n_parents, rep.n_similar = len(rows["write_inferred_parents"]), len(rows["write_similar"])
    rep.n_undocumented, rep.n_conflicts = len(rows["write_undocumented"]), sum(
        1 for r in rows["write_declared_parents"] if r["contradicted"])
    rep.n_families = sum(1 for r in rows["write_families"] if r["speed"] is not None)  # families with a valid speed

    state = None
    if analysis is not None:  # what a later batch is placed against (lineage.pipeline.place)
        state = state_props(analysis, k=k, fpr=fpr, method=method, root=root, n_models=len(ids))
    emit("phase", {"name": "write"})
    write_full_analysis(g, rows, state, analysis_id=f"{rep.run_id}@{dt.datetime.now(dt.timezone.utc).isoformat()}",
                        chunk_rows=settings.write_chunk_rows, emit=emit)
    rep.seconds_write = time.perf_counter() - t_w
    if analysis is not None and len(ids) <= 2000:
        out = Path(tree_dir) if tree_dir else settings.cache_dir / "trees"
        try:
            from lineage.pipeline.treeplot import save_tree

            save_tree(analysis.tree, out / "lineage-tree", families=dict(zip(ids, pop.families)))
        except (LineageError, ImportError):
            pass  # the picture is a convenience; the graph is the product


#: The derived writes of a full analysis, in the order they run.
FULL_WRITES = ("write_declared_parents", "write_similar", "write_inferred_parents", "write_weight_matches",
               "write_undocumented", "write_clades", "write_clade_branches", "write_leaf_branches", "write_families",
               "set_model_stats")


def write_full_analysis(g, rows: dict[str, list[dict]], state: dict | None, *, analysis_id: str,
                        chunk_rows: int = 5000, emit: ProgressHook = lambda *a: None) -> None:
    """Replace every derived edge, the tree and the families with a full analysis's ``rows``,
    in transactions of at most ``chunk_rows`` rows each, so the server's transaction memory
    stays bounded whatever the graph's size (one transaction for 20,000 models outgrew a 1 GB
    heap: ``MemoryPoolOutOfMemoryError``, docs/benchmarks.md).

    The write protocol (docs/guarantees.md, "A full analysis's write"):

    1. One transaction replaces the ``:Analysis`` node with ``{status: 'writing', analysis_id}``:
       from here on no stored analysis exists to place onto.
    2. The old derived edges, clades and families are deleted (``CALL ... IN TRANSACTIONS`` of
       ``chunk_rows``), then each write query runs over ``chunk_rows`` rows per transaction
       (event ``write_chunk`` after each, ``{query, done, total}``).
    3. Licence obligations are recomputed from the parent edges just written (chunked too,
       :func:`lineage.graph.licences.recompute_licences`).
    4. One last transaction writes the analysis state (``state``, with ``status: 'complete'``
       and the same ``analysis_id``): only now is the graph a complete analysis.

    A process that dies anywhere in 1-3 leaves the ``:Analysis`` node ``writing``; the next
    ingest sees it (:func:`lineage.pipeline.place.placement_refusal`), refuses to place onto
    it, and runs the full analysis again, which rewrites everything (even with no new
    models). The ingest lock is held throughout, so no second writer interleaves; readers
    (queries) may see a partly written graph while the node says ``writing``. With
    ``state=None`` (fewer than three models: nothing to analyse) no state is written at the end.
    """
    from lineage.graph.licences import recompute_licences

    chunk_rows = max(1, int(chunk_rows))
    g.query("write_analysis_state", props={"status": "writing", "analysis_id": analysis_id,
                                            "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
    g.query("clear_derived_edges", batch=chunk_rows)
    g.query("clear_tree", batch=chunk_rows)
    total = sum(-(-len(rows[name]) // chunk_rows) for name in FULL_WRITES)
    done = 0
    for name in FULL_WRITES:
        batch = rows[name]
        for i in range(0, len(batch), chunk_rows):
            g.write(name, batch[i:i + chunk_rows], batch_size=chunk_rows)
            done += 1
            emit("write_chunk", {"query": name, "done": done, "total": total})
    recompute_licences(g)  # licence obligations follow the parent edges just written (docs/licences.md)
    if state is not None:
        g.query("write_analysis_state", props={**state, "status": "complete", "analysis_id": analysis_id})
    else:
        g.query("clear_analysis_state")


def derived_rows(pop, analysis) -> dict[str, list[dict]]:
    """Rows for every derived write query, from a Population and its analysis (pure)."""
    ids = pop.ids
    index = {m: i for i, m in enumerate(ids)}
    out: dict[str, list[dict]] = {n: [] for n in (
        "write_declared_parents", "write_similar", "write_inferred_parents", "write_undocumented",
        "write_clades", "write_clade_branches", "write_leaf_branches", "write_families", "set_model_stats",
        "write_weight_matches")}
    conflicts = {}
    if analysis is not None:
        conflicts = {(c.child, c.declared_parent): c for c in analysis.conflicts}
    for m, parents, rel, src in zip(ids, pop.declared_parents, pop.declared_relations, pop.declared_sources):
        for p in parents:
            if p in index:
                c = conflicts.get((m, p))
                out["write_declared_parents"].append({
                    "child": m, "parent": p, "relation": rel, "source": src or "manifest",
                    "contradicted": c is not None, "distance": c.distance if c else None,
                    "p_value": c.p_value if c else None, "reason": c.reason if c else None})
    if analysis is None:
        return out
    declared_pairs = {(m, p) for m, ps in zip(ids, pop.declared_parents) for p in ps}
    out["write_similar"] = [{"a": n.a, "b": n.b, "distance": float(n.distance), "rank": int(n.rank)}
                            for n in analysis.neighbours]
    out["write_inferred_parents"] = [
        {"child": p.child, "parent": p.parent, "confidence": float(p.confidence), "p_value": float(p.p_value),
         "distance": float(p.distance), "method": p.method, "documented": (p.child, p.parent) in declared_pairs,
         "channel": p.channel, "kind": p.kind,
         "evidence": json.dumps([e.as_dict() for e in p.evidence], sort_keys=True, default=_json_num)}
        for p in analysis.parents]
    pairs = getattr(analysis, "pairs", None)
    out["write_weight_matches"] = [] if pairs is None else [
        {"a": ids[a], "b": ids[b], "distance": float(c.distance), "p_value": float(c.p_value),
         "cosine": float(c.cosine), "n_matched": int(c.n_matched)}
        for (a, b), c in sorted(pairs.weights.items()) if c.applicable and c.p_value <= analysis.fpr]
    out["write_undocumented"] = [
        {"a": u.a, "b": u.b, "score": float(u.score), "p_value": float(u.p_value), "kind": u.kind, "rank": i + 1}
        for i, u in enumerate(analysis.undocumented)]
    tree = analysis.tree
    leaves = set(tree.leaves)
    n_leaves = tree.leaf_counts()
    out["write_clades"] = [{"id": c, "n_leaves": n_leaves[c], "is_root": c == tree.root}
                           for c in tree.nodes if c not in leaves]
    for parent, child, length in tree.edges:
        name = "write_leaf_branches" if child in leaves else "write_clade_branches"
        out[name].append({"parent": parent, "child": child, "length": float(length)})
    members: dict[str, list[str]] = {}
    for m, f in zip(ids, pop.families):
        if f:
            members.setdefault(f, []).append(m)
    speeds = {s.family: s for s in analysis.family_speeds}
    out["write_families"] = [
        {"name": f, "members": ms, "speed": float(speeds[f].speed) if f in speeds and speeds[f].valid else None,
         "slope": float(speeds[f].speed) if f in speeds else None, "speed_note": speeds[f].note if f in speeds else None,
         "n_models": len(ms), "r2": float(speeds[f].r2) if f in speeds else None,
         "span_days": int(speeds[f].span_days) if f in speeds else None}
        for f, ms in sorted(members.items())]
    children: dict[str, list[str]] = {}
    for p in analysis.parents:
        children.setdefault(p.parent, []).append(p.child)
    radius = knn_radii(analysis.neighbours)
    labels = component_labels(ids, pop.declared_parents)
    out["set_model_stats"] = [{"id": m, "n_descendants": _count_descendants(m, children), "knn_radius": radius.get(m),
                               "declared_component": labels[m], "sample_key": sample_key(m)} for m in ids]
    return out


def component_labels(ids, declared_parents) -> dict[str, str]:
    """Declared-lineage component of each model, labelled by its smallest member id (see
    :func:`lineage.core.infer.analysis.lineage_components`)."""
    from lineage.core.infer.analysis import lineage_components

    comp = lineage_components(list(ids), [list(p) for p in declared_parents])
    first: dict[int, str] = {}
    for m in sorted(ids):
        first.setdefault(comp[m], m)
    return {m: first[comp[m]] for m in ids}


def _count_descendants(m: str, children: dict[str, list[str]]) -> int:
    seen, stack = set(), list(children.get(m, []))
    while stack:
        c = stack.pop()
        if c not in seen:
            seen.add(c)
            stack.extend(children.get(c, []))
    return len(seen)
