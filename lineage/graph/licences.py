"""Licence obligations in the graph: the I/O edge of :mod:`lineage.licences`.

:func:`recompute_licences` reads every model's licence string and every parent edge,
computes the obligations (:func:`lineage.licences.inherit.inherit_obligations`, pure) and
replaces the ``OBLIGATION_FROM`` relations and the per-model licence summary (the old
ones removed in one transaction, the new ones written in batches). Ingest calls it right after it has written the derived structure, so the
obligations always follow the parent edges of the same ingest.

:func:`check_policy` runs a policy (:mod:`lineage.licences.policy`) over the graph with
read-only transactions only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lineage.errors import PolicyError, QueryError
from lineage.licences.policy import CheckResult, Policy, Rule, check_param_types, findings_from_rows, load_policy
from lineage.licences.table import LicenceTable, load_table
from lineage.settings import Settings


@dataclass
class LicenceCounts:
    n_obligations: int
    n_conflicts: int
    n_inferred_conflicts: int
    seconds: float


def recompute_licences(g, table: LicenceTable | None = None) -> LicenceCounts:
    """Recompute every model's licence obligations from the graph's parent edges and store them."""
    from lineage.licences.inherit import inherit_obligations

    t0 = time.perf_counter()
    out = inherit_obligations(g.query("licence_models"), g.query("licence_edges"), table or load_table())

    # Old obligations go in one transaction, the new ones in batches of their own: at 10,000 models
    # (~10^5 obligations with their paths and reasons) one transaction passes the server's
    # transaction memory limit (1 GB heap: 717 MiB). Between the two, a reader may see part of the
    # obligations; ingest holds the ingest lock throughout.
    g.unit_of_work(lambda tx: g.run_in(tx, "clear_licence_obligations"))
    g.write("write_licence_obligations", out["obligations"], batch_size=5000)
    g.write("set_licence_stats", out["models"], batch_size=5000)
    conflicts = [r for r in out["obligations"] if r["conflict"]]
    return LicenceCounts(len(out["obligations"]), len(conflicts), sum(r["inferred_only"] for r in conflicts),
                         time.perf_counter() - t0)


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
