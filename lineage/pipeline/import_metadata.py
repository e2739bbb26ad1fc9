"""`lineage import-metadata FILE`: the Hub's documented graph, without DNAs.

A dump of Hugging Face Hub model metadata (read and validated whole by
:mod:`lineage.loaders.hub_dump`) becomes ``:Model`` nodes with ``status: 'metadata'`` and no
DNA, and ``DECLARED_PARENT`` edges with ``source: 'hub-dump'``. The few models measured here
(with a DNA) then sit inside that documented graph: ``lineage query lineage`` walks from them
through metadata-only ancestors.

Which value wins
----------------
A model the graph already holds with a DNA (or a failed measurement: any status other than
``metadata``) was described by its manifest entry and its own files, which are the artefact
that was measured; a dump describes a Hub repository of the same id as it was on the dump's
day, which may have changed since. So the graph's values win: the model keeps its DNA, its
status and its own declared parents, and the dump fills only the properties that are empty
(a declaration only when the model declares no parent at all). A model that is
metadata-only is the dump's: a later dump overwrites its properties and redraws its edges.

Order of work
-------------
Nothing is written until the whole file has been read and validated, and the graph's own
declarations checked for a cycle through the dump's. Then, holding the ingest lock: the
nodes (:data:`BATCH_ROWS` rows per transaction), the removal of the edges a previous import
drew from these models, the dump's edges, and one statement connecting measured models to
their metadata-only bases. A failure part-way (the server stops) leaves a partial import,
which rerunning the same command completes: every step is idempotent.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from lineage.settings import Settings

#: Rows per write transaction (nodes or edges). 10,000 rows of a dozen small properties each
#: stay well inside the local server's 1 GB heap.
BATCH_ROWS = 10_000

#: The node properties a dump can fill, in the order docs/metadata.md lists them.
FILLABLE = ("licence", "licence_source", "organisation", "organisation_source", "release_date",
            "release_date_source", "created_at", "last_modified", "downloads", "likes", "library_name",
            "pipeline_tag", "tags", "gated", "gated_mode", "metadata_source")

#: The value of ``declared_source`` (on nodes) and ``source`` (on edges) for declarations read from a dump.
SOURCE = "hub-dump"

ProgressHook = Callable[[str, dict], None]


@dataclass
class ImportReport:
    """What an import did; ``summary_rows`` is what the command prints."""

    path: str
    n_records: int = 0
    n_created: int = 0
    n_refreshed: int = 0
    n_measured: int = 0
    n_filled: int = 0
    n_kept_declarations: int = 0
    n_edges: int = 0
    n_linked: int = 0
    n_not_in_graph: int = 0
    unknown_fields: Counter = field(default_factory=Counter)
    seconds_read: float = 0.0
    seconds_write: float = 0.0
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.n_records / self.seconds if self.seconds > 0 else 0.0

    def summary_rows(self) -> list[dict]:
        unknown = ", ".join(f"{k} ({n})" for k, n in self.unknown_fields.most_common(5))
        rows = [
            ("records in the dump", self.n_records),
            ("models created (metadata only)", self.n_created),
            ("metadata-only models refreshed", self.n_refreshed),
            ("models measured here (DNA or failed) in the dump", self.n_measured),
            ("  of them given some dump metadata (empty fields only)", self.n_filled),
            ("  of them keeping their own declared parents", self.n_kept_declarations),
            ("declared-parent edges drawn from the dump", self.n_edges),
            ("declared base models not in the graph (no edge)", self.n_not_in_graph),
            ("unknown fields ignored", sum(self.unknown_fields.values())),
            ("seconds (read + write)", f"{self.seconds_read:.1f} + {self.seconds_write:.1f}"),
            ("records per second", round(self.rows_per_second)),
        ]
        out = [{"what": k, "value": v} for k, v in rows]
        if unknown:
            out.insert(9, {"what": "  most frequent", "value": unknown})
        return out


def import_metadata(path: str | Path, *, settings: Settings, progress: ProgressHook | None = None,
                    batch_rows: int = BATCH_ROWS) -> ImportReport:
    """Import a Hub metadata dump into the graph.

    Parameters
    ----------
    path : path
        A ``.jsonl`` or ``.parquet`` dump (:func:`lineage.loaders.hub_dump.read_hub_dump`).
    settings : Settings
    progress : callable, optional
        ``progress(event, info)``; events ``read`` (``n``), ``phase`` (``name``) and ``written``
        (``name``, ``done``, ``total``), only after the dump has been validated, the graph's
        declarations included, so that a refused dump prints nothing but its error.
    batch_rows : int
        Rows per write transaction.

    Returns
    -------
    ImportReport

    Raises
    ------
    HubDumpError
        The dump is malformed, or its declarations close a cycle through the graph's; the graph
        is unchanged.
    GraphError
        Another ingest holds the lock, or Neo4j is unreachable.
    """
    from lineage.graph.lock import IngestLock
    from lineage.graph.store import Graph
    from lineage.loaders.hub_dump import read_hub_dump

    t0 = time.perf_counter()
    emit = progress or (lambda event, info: None)
    dump = read_hub_dump(path)
    rep = ImportReport(path=str(path), n_records=len(dump.records), unknown_fields=dump.unknown_fields)
    rep.seconds_read = time.perf_counter() - t0
    source = f"{SOURCE}:{dump.path.name}"
    with Graph(settings) as g:
        g.bootstrap_schema()
        with IngestLock(g):
            t_w = time.perf_counter()
            ids = [r.id for r in dump.records]
            in_dump = set(ids)
            bases = sorted({b for r in dump.records for b in r.base_models} - in_dump)
            targets = _targets(g, ids + bases, batch_rows)
            _check_cycles(g, dump.records, targets)
            plan = plan_import(dump.records, targets, source=source)
            rep.n_created = sum(1 for i in ids if i not in targets)
            rep.n_refreshed = sum(1 for i in ids if i in targets and targets[i]["status"] == "metadata")
            rep.n_measured, rep.n_filled, rep.n_kept_declarations = plan.n_measured, plan.n_filled, plan.n_kept
            present = in_dump | set(targets)
            edges = [e for e in plan.edges if e["parent"] in present]
            rep.n_not_in_graph = len({e["parent"] for e in plan.edges if e["parent"] not in present})
            rep.n_edges = len(edges)
            emit("read", {"n": len(dump.records)})  # only now: a refused dump prints its error line alone
            for name, rows in (("import_metadata_models", plan.nodes),
                               ("import_metadata_clear_edges", [{"id": i} for i in ids]),
                               ("import_metadata_edges", edges)):
                emit("phase", {"name": name, "total": len(rows)})
                for i in range(0, len(rows), batch_rows):
                    g.write(name, rows[i:i + batch_rows], batch_size=batch_rows)
                    emit("written", {"name": name, "done": min(i + batch_rows, len(rows)), "total": len(rows)})
            emit("phase", {"name": "import_metadata_link_measured", "total": 0})
            g.query("import_metadata_link_measured")
            rep.seconds_write = time.perf_counter() - t_w
    rep.seconds = time.perf_counter() - t0
    return rep


def _targets(g, ids: list[str], batch_rows: int) -> dict[str, dict]:
    """The graph's models among ``ids``: status, DNA, own declaration, which fillable fields are set."""
    out: dict[str, dict] = {}
    for i in range(0, len(ids), batch_rows):
        for row in g.query("import_metadata_targets", ids=ids[i:i + batch_rows], fields=list(FILLABLE)):
            out[row["id"]] = row
    return out


def _check_cycles(g, records, targets: dict[str, dict]) -> None:
    """Refuse declarations that close a cycle with the graph's own (nothing is written yet)."""
    from lineage.loaders.hub_dump import HubDumpError
    from lineage.manifest import find_cycle

    edges = {r["id"]: list(r["declared_parents"]) for r in g.query("import_metadata_declared")}
    where = {}
    for rec in records:
        if _declaration_is_the_dumps(targets.get(rec.id)):
            edges[rec.id] = list(rec.base_models)
            where[rec.id] = rec.where
    cycle = find_cycle((c, p) for c, ps in edges.items() for p in ps)
    if cycle:
        place = next((where[m] for m in cycle if m in where), "")
        raise HubDumpError(f"{place}: declared base models form a cycle with the graph's declarations: "
                           f"{' -> '.join(map(repr, cycle))}",
                           hint="a model cannot descend from itself; fix base_model in the dump or in the manifest "
                                "of the model measured here")


def _declaration_is_the_dumps(target: dict | None) -> bool:
    """Whether the dump decides a model's declared parents: new or metadata-only models, and measured
    models that declare none of their own."""
    return target is None or target["status"] == "metadata" or not target["declared_parents"]


@dataclass
class ImportPlan:
    """Rows for the write queries (pure output of :func:`plan_import`)."""

    nodes: list[dict]
    edges: list[dict]
    n_measured: int = 0
    n_filled: int = 0
    n_kept: int = 0


def plan_import(records, targets: dict[str, dict], *, source: str) -> ImportPlan:
    """Node and edge rows for a validated dump, given what the graph holds (pure).

    Parameters
    ----------
    records : list of HubRecord
    targets : dict
        id -> ``{status, has_dna, declared_parents, set_fields}`` for models already in the graph
        (``import_metadata_targets``).
    source : str
        ``hub-dump:<file name>``, stored as ``metadata_source`` and in each ``*_source``.

    Notes
    -----
    A metadata-only model (new, or from an earlier dump) gets every value the dump has. A
    measured model gets only the values whose property is empty, its declaration only when it
    declares no parent, and no edge rows: ``import_metadata_link_measured`` draws its edges from
    the declaration it ends up with.
    """
    plan = ImportPlan(nodes=[], edges=[])
    for rec in records:
        props, dates = _props(rec, source)
        t = targets.get(rec.id)
        owned = t is None or t["status"] == "metadata"
        if not owned:
            plan.n_measured += 1
            taken = set(t["set_fields"])
            props = {k: v for k, v in props.items() if k not in taken}
            dates = {k: (None if k in taken else v) for k, v in dates.items()}
            if t["declared_parents"]:
                plan.n_kept += bool(rec.base_models)
                for k in ("declared_base_models", "declared_relation", "declared_source", "declared_base_models_source"):
                    props.pop(k, None)
            filled = [k for k in props if k != "metadata_source"] + [k for k, v in dates.items() if v is not None]
            plan.n_filled += bool(filled)
            if filled:
                props["hub_filled"] = sorted(filled)
                props["hub_dump"] = source
            props.pop("metadata_source", None)
        if owned and not rec.base_models:
            props["declared_base_models"] = []  # a later dump that drops a declaration drops it here too
        plan.nodes.append({"id": rec.id, "props": props, **dates})
        if owned:
            plan.edges.extend({"child": rec.id, "parent": b, "relation": rec.relation} for b in rec.base_models)
    return plan


def _props(rec, source: str) -> tuple[dict, dict]:
    """A record as node properties (values that are empty are left out) and its three dates."""
    p = {
        "licence": rec.licence, "licence_source": f"{source}:{rec.licence_from}" if rec.licence else None,
        "organisation": rec.author, "organisation_source": f"{source}:author" if rec.author else None,
        "release_date_source": f"{source}:createdAt" if rec.created_at else None,
        "downloads": rec.downloads, "likes": rec.likes, "library_name": rec.library_name,
        "pipeline_tag": rec.pipeline_tag, "tags": list(rec.tags) or None,
        "gated": True if rec.gated else None, "gated_mode": rec.gated,
        "metadata_source": source,
    }
    if rec.base_models:
        p.update(declared_base_models=list(rec.base_models), declared_relation=rec.relation,
                 declared_source=SOURCE, declared_base_models_source=f"{source}:{rec.base_from}")
    props = {k: v for k, v in p.items() if v is not None}
    dates = {"release_date": rec.created_at[:10] if rec.created_at else None,
             "created_at": rec.created_at, "last_modified": rec.last_modified}
    return props, dates
