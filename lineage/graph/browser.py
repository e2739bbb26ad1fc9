"""Links into Neo4j Browser, optionally pre-filled with a shipped query."""

from __future__ import annotations

from urllib.parse import quote

from lineage.errors import QueryError
from lineage.graph.queries import load_library
from lineage.manifest import redact_url
from lineage.settings import Settings


def browser_url(s: Settings) -> str:
    return f"http://127.0.0.1:{s.http_port}/browser/" if s.is_local else "(the Browser of the server at " + redact_url(s.neo4j_uri) + ")"


def query_link(s: Settings, name: str, params: dict | None = None) -> str:
    """A Browser URL that opens with the query's ``:param`` lines and text in the editor.

    ``params`` replaces the example values of the header's ``:param`` lines. Write
    queries are refused (:class:`QueryError`): a link must never pre-fill a destructive statement.
    """
    import json

    q = load_library().get(name)
    if q.mode != "read":
        # a link is clicked and run by someone trusting it: only read queries are offered
        raise QueryError(f"query {name!r} writes to the graph; Browser links are made only for read queries",
                         hint="run `lineage query --list` to see the read queries")
    lines = []
    for line in q.browser_params:
        key = line.split()[1]
        if params and key in params:
            v = params[key]
            line = f":param {key} => " + ("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
                                          if isinstance(v, str) else json.dumps(v))
        lines.append(line)
    text = "\n".join([*lines, q.text])
    return f"http://127.0.0.1:{s.http_port}/browser/?cmd=edit&arg={quote(text, safe='')}"


def browser_links(s: Settings, *, query: str | None = None, show_password: bool = False) -> list[str]:
    lines = [f"Neo4j Browser: {browser_url(s)}",
             f"connect URL:   {redact_url(s.neo4j_uri)}", f"user:          {s.neo4j_user}"]
    if show_password:
        lines.append(f"password:      {s.resolved_password() or '(not set)'}")
    elif s.neo4j_password is not None:
        lines.append("password:      from NEO4J_PASSWORD / LINEAGE_NEO4J_PASSWORD (add --show-password to print it)")
    else:
        lines.append(f"password:      in {s.password_file} (mode 0600; add --show-password to print it)")
    if query:
        link = query_link(s, query)  # before any line is printed: a refused query prints nothing
        lines.append(f"query {query!r}: {link}")
    return lines
