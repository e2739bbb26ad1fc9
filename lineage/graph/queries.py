"""The Cypher library: every statement lineage runs lives in ``cypher/*.cypher``.

Each file holds one statement (``schema.cypher`` is the one exception: several
``;``-separated schema statements run in order). The file name is the query
name. A ``//`` header declares it::

    // name: nearest
    // mode: read                      read | write | schema
    // database: system                optional; default is the configured database
    // description: The k models whose DNA lies closest to a model's.
    // param model_id: id of the model
    // param k = 10: how many neighbours (a default makes the parameter optional)
    // example: lineage query nearest --param model_id=smol-base --param k=5
    // :param model_id => 'smol-base'
    // :param k => 10

The ``:param`` lines are ready to paste into Neo4j Browser. The library is
parsed once; declared parameters are checked against the ``$name`` uses in the
body both ways, and errors name ``path:line``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from lineage.errors import QueryError

_PARAM_USE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_PARAM_DECL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?:=\s*(.+?))?\s*:\s*(.*)$")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_SKIP = object()


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    default: Any = _SKIP

    @property
    def required(self) -> bool:
        return self.default is _SKIP


@dataclass(frozen=True)
class Query:
    name: str
    mode: str
    description: str
    text: str
    path: str
    params: tuple[Param, ...] = ()
    database: str | None = None
    example: str = ""
    browser_params: tuple[str, ...] = field(default_factory=tuple)

    def statements(self) -> list[str]:
        if self.mode != "schema":
            return [self.text]
        return [s.strip() for s in self.text.split(";") if s.strip()]

    def bind(self, given: dict[str, Any]) -> dict[str, Any]:
        """Check and complete parameters: unknown or missing ones are a QueryError."""
        known = {p.name for p in self.params}
        unknown = sorted(set(given) - known)
        if unknown:
            raise QueryError(
                f"query {self.name!r} has no parameter {unknown[0]!r} (it takes: {', '.join(sorted(known)) or 'none'})"
            )
        out: dict[str, Any] = {}
        for p in self.params:
            if p.name in given:
                out[p.name] = given[p.name]
            elif p.required:
                raise QueryError(
                    f"query {self.name!r} needs parameter {p.name!r} ({p.description})",
                    hint=f"pass --param {p.name}=VALUE",
                )
            else:
                out[p.name] = p.default
        return out


def parse_value(text: str) -> Any:
    """A CLI/header value: JSON when it parses (numbers, lists, true, null, "quoted"), else the raw string."""
    t = text.strip()
    if t.startswith("'") and t.endswith("'") and len(t) >= 2:
        return t[1:-1]
    try:
        return json.loads(t)
    except json.JSONDecodeError:
        return t


def _strip_comments_and_strings(body: str) -> str:
    body = _STRING.sub("''", body)
    return "\n".join(line.split("//", 1)[0] for line in body.splitlines())


def parse_query_file(path: Path | str, text: str) -> Query:
    path = str(path)
    header: dict[str, str] = {}
    params: list[Param] = []
    browser: list[str] = []
    body_lines: list[str] = []
    in_header = True
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if in_header and stripped.startswith("//"):
            content = stripped[2:].strip()
            if content.startswith(":param"):
                browser.append(content)
                continue
            key, sep, value = content.partition(":")
            key = key.strip()
            if not sep:
                continue
            if key.startswith("param "):
                m = _PARAM_DECL.match(key[len("param "):].strip() + ":" + value)
                if not m:
                    raise QueryError(f"{path}:{lineno}: malformed parameter declaration")
                default = parse_value(m.group(2)) if m.group(2) is not None else _SKIP
                params.append(Param(m.group(1), m.group(3).strip(), default))
            elif key in ("name", "mode", "description", "example", "database"):
                header[key] = value.strip()
            continue
        if in_header and not stripped:
            continue
        in_header = False
        body_lines.append(line)
    body = "\n".join(body_lines).strip()
    stem = Path(path).stem
    name = header.get("name", stem)
    if name != stem:
        raise QueryError(f"{path}:1: header name {name!r} differs from the file name {stem!r}")
    mode = header.get("mode", "")
    if mode not in ("read", "write", "schema"):
        raise QueryError(f"{path}:1: missing or invalid '// mode:' (read, write or schema)")
    if not body:
        raise QueryError(f"{path}: no Cypher statement after the header")
    used = set(_PARAM_USE.findall(_strip_comments_and_strings(body)))
    declared = {p.name for p in params}
    if used - declared:
        raise QueryError(f"{path}: parameter(s) used but not declared: {', '.join(sorted(used - declared))}")
    if declared - used:
        raise QueryError(f"{path}: parameter(s) declared but not used: {', '.join(sorted(declared - used))}")
    return Query(
        name=name, mode=mode, description=header.get("description", ""), text=body, path=path,
        params=tuple(params), database=header.get("database"), example=header.get("example", ""),
        browser_params=tuple(browser),
    )


class QueryLibrary:
    """All shipped queries, parsed and checked at load time."""

    def __init__(self, queries: dict[str, Query]):
        self._queries = dict(sorted(queries.items()))

    def get(self, name: str) -> Query:
        try:
            return self._queries[name]
        except KeyError:
            close = [n for n in self._queries if name.lower() in n or n in name.lower()]
            extra = f" (did you mean {close[0]!r}?)" if close else ""
            raise QueryError(f"unknown query {name!r}{extra}") from None

    def __iter__(self):
        return iter(self._queries.values())

    def __len__(self) -> int:
        return len(self._queries)

    def names(self) -> list[str]:
        return list(self._queries)


@lru_cache(maxsize=1)
def load_library() -> QueryLibrary:
    """Parse every ``.cypher`` file shipped in the ``lineage.cypher`` package."""
    root = resources.files("lineage.cypher")
    queries: dict[str, Query] = {}
    for entry in root.iterdir():
        if entry.name.endswith(".cypher"):
            q = parse_query_file(Path(str(entry)), entry.read_text(encoding="utf-8"))
            queries[q.name] = q
    return QueryLibrary(queries)
