"""Licence obligations in the graph: the I/O edge of :mod:`lineage.licences`.

:func:`recompute_licences` reads every model's licence string and every parent edge,
computes the obligations (:func:`lineage.licences.inherit.inherit_obligations`, pure) and
replaces the ``OBLIGATION_FROM`` relations and the per-model licence summary (the old
ones removed in one transaction, the new ones written in batches). Ingest calls it right after it has written the derived structure, so the
obligations always follow the parent edges of the same ingest. With ``ids`` it recomputes
only those models and their descendants, in one transaction (incremental ingest).

:func:`check_policy` runs a policy (:mod:`lineage.licences.policy`) over the graph with
read-only transactions only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lineage.errors import GraphError, PolicyError, QueryError
from lineage.licences.policy import CheckResult, Policy, Rule, check_param_types, findings_from_rows, load_policy
from lineage.licences.table import LicenceTable, load_table
from lineage.settings import Settings


@dataclass
class LicenceCounts:
    n_obligations: int
    n_conflicts: int
    n_inferred_conflicts: int
    seconds: float
    n_rewritten: int = 0  # models whose stored obligations differed and were rewritten


def licence_scope(edges, ids) -> tuple[set[str], set[str]]:
    """The models a change to ``ids`` reaches, and the models their obligations are read from.

    Parameters
    ----------
    edges : iterable of dict
        Parent edge rows ``{child, parent, ...}`` (``licence_edges``).
    ids : iterable of str
        Models added or changed (a new model, a new or removed parent edge of a model, a new licence).

    Returns
    -------
    (affected, scope) : tuple of set
        ``affected``: ``ids`` and every descendant of one of them along the parent edges the
        inheritance follows (declared and inferred), whose obligations may change;
        ``scope``: ``affected`` and all their ancestors, everything those obligations depend on.
    """
    children: dict[str, set[str]] = {}
    parents: dict[str, set[str]] = {}
    for e in edges:
        children.setdefault(e["parent"], set()).add(e["child"])
        parents.setdefault(e["child"], set()).add(e["parent"])

    def closure(start, step) -> set[str]:
        seen, stack = set(start), list(start)
        while stack:
            for n in step.get(stack.pop(), ()):
                if n not in seen:
                    seen.add(n)
                    stack.append(n)
        return seen

    affected = closure(set(ids), children)
    return affected, closure(affected, parents)


def _subset_scope(g, ids) -> tuple[set[str], set[str], list[dict]]:
    """:func:`licence_scope` of ``ids`` read from the graph around them only (a placement
    must not read every model and edge): down to every descendant, then up from those to
    every ancestor, a level per query; returns ``(affected, scope, edges)`` with every parent
    edge out of a model in ``scope`` (the edges the inheritance over ``scope`` follows)."""
    affected, frontier = set(ids), sorted(set(ids))
    while frontier:
        nxt = {r["id"] for r in g.query("licence_children", ids=frontier)} - affected
        affected |= nxt
        frontier = sorted(nxt)
    scope, frontier, edges = set(affected), sorted(affected), []
    while frontier:
        up = g.query("licence_edges_up", ids=frontier)
        edges += up
        nxt = {r["parent"] for r in up} - scope
        scope |= nxt
        frontier = sorted(nxt)
    return affected, scope, edges


def recompute_licences(g, table: LicenceTable | None = None, ids=None) -> LicenceCounts:
    """Recompute licence obligations from the graph's parent edges and store them.

    Parameters
    ----------
    g : Graph
    table : LicenceTable, optional
        The licence table (default: the shipped one).
    ids : iterable of str, optional
        Recompute only these models and all their descendants (along the declared and
        inferred parent edges the inheritance follows), in one transaction: the models an
        incremental ingest added or whose parent edges or licence changed. The stored
        result equals a full recompute's. ``None``: every model.

    Either way a model whose stored obligations already match (the ``licence_digest`` of its
    rows and summary, and its count of ``OBLIGATION_FROM`` relations) is not rewritten.

    Returns
    -------
    LicenceCounts
        Counts of the obligations and conflicts computed (of the recomputed models only,
        when ``ids`` is given), and of the models rewritten.
    """
    from lineage.licences.inherit import inherit_obligations

    t0 = time.perf_counter()
    table = table or load_table()
    if ids is None:
        models, edges = g.query("licence_models"), g.query("licence_edges")
        affected = scope = {m["id"] for m in models}
    else:
        ids = [ids] if isinstance(ids, str) else list(ids)
        found = {m["id"] for m in g.query("licence_models_of", ids=sorted(set(ids)))}
        missing = sorted(set(ids) - found)
        if missing:
            raise GraphError(f"recompute_licences: no model {missing[0]!r} in the graph"
                             + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
                             hint="run `lineage query models` to see the model ids")
        affected, scope, edges = _subset_scope(g, ids)
        models = g.query("licence_models_of", ids=sorted(scope))
    # a model's obligations depend only on its ancestors: computing over the scope is exact
    out = inherit_obligations([m for m in models if m["id"] in scope], edges, table)
    held: dict[str, list[dict]] = {}
    for r in out["obligations"]:
        if r["model"] in affected:
            held.setdefault(r["model"], []).append(r)
    stats = [r for r in out["models"] if r["id"] in affected]
    for r in stats:
        r["licence_digest"] = _digest(held.get(r["id"], []), r)
    # only models whose stored obligations differ are rewritten (their digest or their count of
    # OBLIGATION_FROM relations): a re-ingest that changes nothing writes nothing
    stored = {m["id"]: (m.get("licence_digest"), m.get("n_stored")) for m in models}
    todo = [r for r in stats if stored[r["id"]] != (r["licence_digest"], len(held.get(r["id"], [])))]

    def replace(tx, chunk):
        done = [r["id"] for r in chunk]
        rows = [o for m in done for o in held.get(m, [])]
        g.run_in(tx, "clear_licence_obligations_of", ids=done)
        for i in range(0, len(rows), _BATCH):
            g.run_in(tx, "write_licence_obligations", rows=rows[i:i + _BATCH])
        g.run_in(tx, "set_licence_stats", rows=chunk)

    if ids is not None:
        g.unit_of_work(lambda tx: replace(tx, todo))
    else:
        # in chunks of models, each its own transaction (a model's obligations and summary change
        # together): at 10,000 models one transaction for ~10^5 obligations with their paths and
        # reasons passed the test server's transaction memory limit (1 GB heap: 717 MiB); ingest
        # holds the ingest lock throughout
        per_chunk = max(1, _BATCH * len(stats) // max(1, len(out["obligations"])))
        for i in range(0, len(todo), per_chunk):
            g.unit_of_work(lambda tx: replace(tx, todo[i:i + per_chunk]))
    rows = [o for os in held.values() for o in os]
    conflicts = [r for r in rows if r["conflict"]]
    return LicenceCounts(len(rows), len(conflicts), sum(r["inferred_only"] for r in conflicts),
                         time.perf_counter() - t0, len(todo))


_BATCH = 10000  # obligations per write statement (and, for a full recompute, per transaction)


def _digest(obligations: list[dict], stats: dict) -> str:
    """A fingerprint of what :func:`recompute_licences` stores for one model."""
    import hashlib
    import json

    body = json.dumps([obligations, {k: v for k, v in stats.items() if k != "licence_digest"}], sort_keys=True)
    return hashlib.sha1(body.encode("utf-8")).hexdigest()


def _query_of(rule: Rule, policy: Policy, library):
    """The rule's query: a shipped one by name, or the user's ``.cypher`` file (same header format)."""
    from lineage.graph.queries import parse_query_file
    from lineage.io import read_text_file

    if rule.query is not None:
        try:
            q = library.get(rule.query)
        except QueryError as e:
            raise PolicyError(f"{policy.where(rule)}: {e.message}", hint="run `lineage query --list` to see the shipped queries") from None
    else:
        path = (Path(policy.path).parent / rule.query_file) if policy.path else Path(rule.query_file)
        text = read_text_file(path, "query file", error=PolicyError)
        try:
            q = parse_query_file(path, text)
        except QueryError as e:
            raise PolicyError(f"{policy.where(rule)}: {e.message}") from None
    if q.mode != "read":
        raise PolicyError(f"{policy.where(rule)}: query {q.name!r} writes to the graph; a policy runs read queries only",
                          hint="name a read query (`lineage query --list`) or mark your .cypher file `// mode: read`")
    try:
        bound = q.bind(rule.params)
    except QueryError as e:
        raise PolicyError(f"{policy.where(rule)}: {e.message}", hint=e.hint) from None
    check_param_types(q, rule, policy)
    return q, bound


def _explain_type(g, q, bound: dict) -> str:
    """Neo4j's own reading of the statement ('r', 'rw', 'w', 's') from EXPLAIN: nothing runs."""
    from lineage.graph.store import _translated

    with _translated(g.settings, f"query {q.name!r}"):
        with g.driver.session(database=q.database or g.settings.neo4j_database) as s:
            return s.run("EXPLAIN " + q.text, bound).consume().query_type


def _read_rows(g, q, bound: dict) -> list[dict]:
    """Rows of ``q`` from a read transaction (the server refuses any write in it)."""
    from lineage.graph.store import _translated

    with _translated(g.settings, f"query {q.name!r}"):
        with g.driver.session(database=q.database or g.settings.neo4j_database, default_access_mode="READ") as s:
            return s.execute_read(lambda tx: [r.data() for r in tx.run(q.text, bound)])


def check_policy(policy: str | Path, *, fail_on: str = "error", settings: Settings | None = None,
                 graph=None) -> CheckResult:
    """Evaluate a policy's rules over the graph (read-only) and return the findings.

    Every rule is checked before any runs: its query exists (shipped, or the user's
    ``.cypher`` file), reads only (its header says ``read`` and Neo4j plans it as a read
    statement), and its parameters are the query's with the types of its examples. A
    rule that fails any of these is a :class:`~lineage.errors.PolicyError` and nothing runs.

    Parameters
    ----------
    policy : path
        The policy YAML (see ``docs/licences.md``).
    fail_on : {"error", "warning", "note"}
        The lowest severity that makes :attr:`CheckResult.failed` true.

    Returns
    -------
    CheckResult
        The findings (one per row a rule's query returns), in rule order.
    """
    from lineage.graph.store import Graph

    pol = load_policy(policy, fail_on=fail_on)  # a malformed policy fails before Neo4j is contacted
    if graph is None:
        if settings is None:
            from lineage.settings import load_settings

            settings = load_settings()
        with Graph(settings) as g:
            return _check(pol, g, fail_on)
    return _check(pol, graph, fail_on)


def _check(pol: Policy, graph, fail_on: str) -> CheckResult:
    t0 = time.perf_counter()
    planned = [(rule, *_query_of(rule, pol, graph.library)) for rule in pol.rules]
    for rule, q, bound in planned:
        kind = _explain_type(graph, q, bound)
        if kind != "r":
            raise PolicyError(f"{pol.where(rule)}: query {q.name!r} writes to the graph (Neo4j plans it as {kind!r}); "
                              "a policy runs read queries only", hint="remove the writing clauses from the rule's query")
    findings: list[Any] = []
    for rule, q, bound in planned:
        findings += findings_from_rows(rule, _read_rows(graph, q, bound))
    return CheckResult(policy=pol, findings=findings, fail_on=fail_on, seconds=time.perf_counter() - t0)
