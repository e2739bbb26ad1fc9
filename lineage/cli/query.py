"""`lineage query NAME --param key=value`: run a shipped Cypher query."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from lineage.cli._output import Format, render_rows
from lineage.cli.options import settings_from


def query_cmd(
    name: Annotated[Optional[str], typer.Argument(help="Query name (file name in cypher/ without .cypher).")] = None,
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="key=value (JSON values: 5, true, [1,2], \"text\").")] = None,
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    list_: Annotated[bool, typer.Option("--list", help="List the shipped queries and their parameters.")] = False,
) -> None:
    """Run a shipped Cypher query (the same text runs pasted into Neo4j Browser).

    The query name and its parameters are checked before Neo4j is contacted.

    Example: lineage query lineage --param model_id=smol-instruct --format json
    """
    from lineage.errors import QueryError
    from lineage.graph.store import Graph
    from lineage.graph.queries import load_library, parse_value

    lib = load_library()
    if list_ or name is None:
        rows = [{"query": q.name, "mode": q.mode,
                 "parameters": ", ".join(p.name + ("" if p.required else f"={p.default}") for p in q.params),
                 "description": q.description}
                for q in lib if q.mode == "read"]
        render_rows(rows, format, title="queries")
        return
    q = lib.get(name)
    if q.mode != "read":
        raise QueryError(f"query {name!r} writes to the graph; it runs only as part of ingest",
                         hint="run `lineage query --list` to see the read queries")
    params = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise QueryError(f"--param {item!r} is not key=value")
        params[key.strip()] = parse_value(value)
    q.bind(params)  # unknown or missing parameters are refused before connecting
    with Graph(settings_from()) as g:
        rows = g.query(name, **params)
    render_rows([{k: _plain(v) for k, v in r.items()} for r in rows], format, title=name)
    limit = q.bind(params).get("limit") if any(p.name == "limit" for p in q.params) else None
    if isinstance(limit, int) and len(rows) >= limit > 0:
        # a bounded answer says so (on stderr, so piped output stays the rows alone)
        typer.echo(f"note: {name} stopped at its limit of {limit} rows; more may exist "
                   f"(--param limit=<larger> shows more)", err=True)


def _plain(v):
    if hasattr(v, "iso_format"):
        return v.iso_format()
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def register(app: typer.Typer) -> None:
    app.command("query")(query_cmd)
