"""`lineage db start | stop | status | init | browser`: the local Neo4j server."""

from __future__ import annotations

import time
from typing import Annotated, Optional

import typer

from lineage.cli._output import Format, info, render_rows
from lineage.cli.options import opt, settings_from

db_app = typer.Typer(help="Manage the local Neo4j server (no Docker needed) and the graph schema.", no_args_is_help=True)


@db_app.command("start")
def start_cmd(
    timeout: Annotated[float, opt("timeout", "Seconds to wait for Bolt to answer.")] = 180.0,
) -> None:
    """Start the local Neo4j 5.26 server (fetching its jars on first use) and bootstrap the schema.

    Starting a running server is harmless.

    Example: lineage db start
    """
    from lineage.graph import server
    from lineage.graph.store import Graph

    s = settings_from()
    t0 = time.monotonic()
    before = server.status(s)
    st = server.start(s, timeout=timeout, note=lambda msg: info(f"note: {msg}"))
    with Graph(s) as g:
        g.bootstrap_schema()
    verb = "already running" if before.running and before.pid == st.pid else f"started in {time.monotonic() - t0:.1f} s"
    info(f"Neo4j {st.version} {verb} (pid {st.pid}); Bolt {st.bolt_uri}; Browser {st.browser_url}")


@db_app.command("stop")
def stop_cmd() -> None:
    """Stop the local Neo4j server cleanly.

    Example: lineage db stop
    """
    from lineage.graph import server

    s = settings_from()
    info("Neo4j stopped" if server.stop(s) else "Neo4j was not running")


@db_app.command("status")
def status_cmd(
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Say whether the local server runs, where, and which version.

    Exits 1 when it is not running.

    Example: lineage db status --format json
    """
    from lineage.graph import server

    s = settings_from()
    st = server.status(s)
    d = st.as_dict()
    if format is Format.table:
        render_rows([{"key": k, "value": v} for k, v in d.items()], format, title="local Neo4j")
    else:
        render_rows([d], format)
    if not st.running:
        raise typer.Exit(1)


@db_app.command("init")
def init_cmd() -> None:
    """Create the constraints and the DNA vector index in the configured Neo4j (idempotent).

    Example: NEO4J_URI=bolt://db:7687 NEO4J_PASSWORD=... lineage db init
    """
    from lineage.graph.store import Graph

    with Graph(settings_from()) as g:
        rows = g.bootstrap_schema()
    render_rows(rows, Format.table, title="schema", columns=["name", "type", "labels", "properties", "state"])


@db_app.command("browser")
def browser_cmd(
    query: Annotated[Optional[str], typer.Option(help="A shipped query to pre-fill in Browser.")] = None,
    show_password: Annotated[bool, typer.Option(help="Print the password itself, not the file holding it.")] = False,
) -> None:
    """Print the Neo4j Browser URL and how to log in (optionally a link pre-filled with a query).

    Example: lineage db browser --query lineage
    """
    from lineage.graph.browser import browser_links

    s = settings_from()
    for line in browser_links(s, query=query, show_password=show_password):
        print(line)


@db_app.command("clear")
def clear_cmd(
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: delete every node and relationship.")] = False,
) -> None:
    """Delete everything in the configured database (the schema stays).

    Takes the ingest lock first: refused, naming the holder, while an ingest runs.

    Example: lineage db clear --yes
    """
    from lineage.errors import ConfigError
    from lineage.graph.store import Graph

    s = settings_from()
    if not yes:
        from lineage.manifest import redact_url

        raise ConfigError(f"this deletes every node in database {s.neo4j_database!r} at {redact_url(s.neo4j_uri)}",
                          hint="add --yes to confirm")
    from lineage.graph.lock import clear_graph

    with Graph(s) as g:
        clear_graph(g)  # under the ingest lock: never while an ingest writes
    info(f"cleared database {s.neo4j_database!r}")


@db_app.command("unlock")
def unlock_cmd(
    force: Annotated[bool, typer.Option("--force", help="Break the lock even if its holder may still run.")] = False,
) -> None:
    """Break the ingest lock left by an ingest that died.

    A lock held by a process on this machine that still runs is refused (that ingest is
    alive); a holder on another machine cannot be checked, so it needs --force.

    Example: lineage db unlock
    """
    from lineage.graph.store import Graph

    with Graph(settings_from()) as g:
        rows = g.query("ingest_lock_holder")
        for r in rows:
            _check_holder_gone(r["owner"], r.get("since"), force=force)
        for r in rows:
            g.query("release_ingest_lock", owner=r["owner"])
    info(f"released the lock held by {rows[0]['owner']}" if rows else "no ingest lock was held")


def _check_holder_gone(owner: str, since, *, force: bool) -> None:
    """Refuse to break a lock whose holder (``host:pid:token``) is alive or cannot be checked."""
    import os

    from lineage.errors import GraphError
    from lineage.graph.lock import holder_state

    state = holder_state(owner)
    if state == "alive" and int(str(owner).split(":")[1]) != os.getpid():
        pid = str(owner).split(":")[1]
        raise GraphError(f"the ingest holding the lock ({owner}, since {since}) is still running on this machine "
                         f"(pid {pid})", hint=f"wait for it, or stop it (kill {pid}); a live lock is never broken")
    if state != "unknown":
        return
    if not force:
        raise GraphError(f"the lock is held by {owner} (since {since}) on another machine; it may still be running",
                         hint="make sure that ingest has stopped, then run `lineage db unlock --force`")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
