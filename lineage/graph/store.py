"""Neo4j adapter: one driver per process, every statement from the Cypher library.

Driver failures are translated at this edge: ``ServiceUnavailable`` becomes
:class:`GraphUnavailable`, ``AuthError`` becomes :class:`GraphAuthError`, and a
Cypher error becomes :class:`QueryError` naming the query.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from lineage.errors import GraphAuthError, GraphError, GraphUnavailable, QueryError
from lineage.graph.queries import Query, QueryLibrary, load_library
from lineage.settings import Settings


@contextmanager
def _translated(settings: Settings, what: str) -> Iterator[None]:
    from neo4j import exceptions as nx

    from lineage.manifest import redact_url

    uri = redact_url(settings.neo4j_uri)  # a URI may carry user:password@
    try:
        yield
    except nx.ConfigurationError as e:  # its message may hold the URI: never shown
        from lineage.errors import ConfigError

        raise ConfigError(f"the Neo4j driver refused the configuration for {uri} ({type(e).__name__})",
                          hint="check NEO4J_URI / --uri (bolt:// or neo4j://host:port)") from None
    except nx.AuthError:
        raise GraphAuthError(f"Neo4j at {uri} refused the credentials of user {settings.neo4j_user!r}") from None
    except (nx.ServiceUnavailable, nx.SessionExpired, ConnectionError, OSError) as e:
        hint = GraphUnavailable.hint if settings.is_local else "check that the Neo4j at NEO4J_URI / --uri is running and reachable"
        raise GraphUnavailable(f"cannot reach Neo4j at {uri} ({type(e).__name__})", hint=hint) from None
    except nx.ConstraintError as e:
        raise GraphError(f"{what}: constraint violated ({e.message})",
                         hint="another ingest may be writing the same models; wait for it and rerun") from None
    except nx.Neo4jError as e:
        raise QueryError(f"{what} failed: {e.code}: {(e.message or '').splitlines()[0] if e.message else ''}") from None


#: One DEBUG record per statement run: ``(name, seconds, rows)`` in ``record.args`` (a benchmark
#: sums them per query: benchmarks/bench_placement.py --timings).
timing_log = logging.getLogger("lineage.graph.timing")

_PLAIN = (str, int, float, bool, type(None))
_PLAIN_SET = frozenset(_PLAIN)


def _plain(v) -> bool:
    """A value the driver's ``Record.data()`` would return unchanged: scalars, and lists and
    maps of them (no nodes, relationships, paths or temporal values)."""
    t = type(v)
    if t in _PLAIN:
        return True
    if t is list:  # the element types as a set (C loops): a 128-float DNA is checked in microseconds
        return set(map(type, v)) <= _PLAIN_SET or all(_plain(x) for x in v)
    if t is dict:
        return all(_plain(x) for x in v.values())
    return False


def _row(record) -> dict:
    """``record.data()``, without its per-element conversion when every value is plain: a
    placement reads thousands of 128-float DNAs, and ``data()`` spent seconds walking them."""
    values = record.values()
    if all(_plain(v) for v in values):
        return dict(zip(record.keys(), values))
    return record.data()


class Graph:
    """A connection to the lineage graph.

    Use as a context manager::

        with Graph(settings) as g:
            rows = g.query("nearest", model_id="smol-base", k=5)
    """

    def __init__(self, settings: Settings, library: QueryLibrary | None = None):
        self.settings = settings
        self.library = library or load_library()
        self._driver = None

    # -- lifecycle ---------------------------------------------------------
    def connect(self) -> "Graph":
        import neo4j

        from lineage.errors import ConfigError
        from lineage.manifest import redact_url, url_credentials

        if url_credentials(self.settings.neo4j_uri):
            raise ConfigError(f"the Neo4j URI {redact_url(self.settings.neo4j_uri)} carries credentials",
                              hint="remove user:password@ from NEO4J_URI / --uri; set NEO4J_USER and NEO4J_PASSWORD")
        password = self.settings.resolved_password()
        if password is None:
            raise GraphAuthError(
                f"no password for Neo4j at {redact_url(self.settings.neo4j_uri)}",
                hint="set NEO4J_PASSWORD, or start the local server with `lineage db start` (it writes its password file)",
            )
        with _translated(self.settings, "connect"):
            self._driver = neo4j.GraphDatabase.driver(
                self.settings.neo4j_uri, auth=(self.settings.neo4j_user, password),
                connection_timeout=10, max_transaction_retry_time=15,
                notifications_min_severity="OFF",
            )
            self._driver.verify_connectivity()
        return self

    def close(self) -> None:
        if self._driver is not None:
            self._driver.close()
            self._driver = None

    def __enter__(self) -> "Graph":
        return self.connect()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def driver(self):
        if self._driver is None:
            self.connect()
        return self._driver

    # -- running library queries ---------------------------------------------
    def _db(self, q: Query) -> str:
        return q.database or self.settings.neo4j_database

    def query(self, name: str, **params: Any) -> list[dict]:
        """Run a library query by name; returns records as dicts."""
        q = self.library.get(name)
        bound = q.bind(params)
        rows: list[dict] = []
        t0 = time.perf_counter()
        with _translated(self.settings, f"query {name!r}"):
            for stmt in q.statements():
                used = {k: v for k, v in bound.items() if f"${k}" in stmt}
                if "IN TRANSACTIONS" in stmt:
                    # CALL {...} IN TRANSACTIONS commits batches itself: it needs an auto-commit transaction.
                    with self.driver.session(database=self._db(q)) as session:
                        rows = [_row(r) for r in session.run(stmt, used)]
                    continue
                records, _, _ = self.driver.execute_query(
                    stmt, used, database_=self._db(q),
                    routing_="r" if q.mode == "read" else "w",
                )
                rows = [_row(r) for r in records]
        timing_log.debug("%s %.3f s, %d rows", name, time.perf_counter() - t0, len(rows))
        return rows

    def write(self, name: str, rows: list[dict], *, batch_size: int = 2000, **params: Any) -> int:
        """Run a write query ``UNWIND $rows ...`` in batches, each its own managed transaction."""
        q = self.library.get(name)
        if q.mode != "write":
            raise QueryError(f"query {name!r} is not a write query")
        bound = q.bind({**params, "rows": []})
        n = 0
        t0 = time.perf_counter()
        with _translated(self.settings, f"write {name!r}"):
            with self.driver.session(database=self._db(q)) as session:
                for i in range(0, len(rows), batch_size):
                    chunk = rows[i:i + batch_size]
                    session.execute_write(lambda tx: tx.run(q.text, {**bound, "rows": chunk}).consume())
                    n += len(chunk)
        timing_log.debug("%s %.3f s, %d rows", name, time.perf_counter() - t0, n)
        return n

    def unit_of_work(self, fn: Callable[[Any], Any]) -> Any:
        """Run ``fn(tx)`` in one managed write transaction (retried on transient errors)."""
        t0 = time.perf_counter()
        with _translated(self.settings, "transaction"):
            with self.driver.session(database=self.settings.neo4j_database) as session:
                out = session.execute_write(fn)
        timing_log.debug("%s %.3f s, %d rows", "(transaction, commit included)", time.perf_counter() - t0, 0)
        return out

    def run_in(self, tx, name: str, **params: Any) -> list[dict]:
        """Run a library query inside a transaction given to :meth:`unit_of_work`."""
        q = self.library.get(name)
        t0 = time.perf_counter()
        rows = [_row(r) for r in tx.run(q.text, q.bind(params))]
        timing_log.debug("%s %.3f s, %d rows", name, time.perf_counter() - t0, len(rows))
        return rows

    def bootstrap_schema(self) -> list[dict]:
        """Create constraints and the DNA vector index (idempotent); returns the schema."""
        self.query("schema", dna_dim=self.settings.dna_dim)
        return self.schema()

    def schema(self) -> list[dict]:
        return self.query("schema_info")
