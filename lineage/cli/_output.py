"""All CLI output goes through here: data to stdout, messages to stderr."""

from __future__ import annotations

import csv
import io
import json
import sys
from enum import Enum
from typing import Any, Iterable, Sequence

from rich.console import Console
from rich.table import Table

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return " -> ".join(_cell(x) for x in v) if all(isinstance(x, str) for x in v) else json.dumps(v, default=str)
    if isinstance(v, dict):
        return json.dumps(v, default=str)
    return str(v)


def render_rows(rows: Sequence[dict], fmt: Format | str = Format.table, *, title: str | None = None,
                columns: Iterable[str] | None = None) -> None:
    """Print rows (dicts) as a table, JSON (one array) or CSV to stdout."""
    fmt = Format(fmt)
    cols = list(columns) if columns is not None else (list(rows[0].keys()) if rows else [])
    if fmt is Format.json:
        sys.stdout.write(json.dumps(list(rows), indent=2, default=str, ensure_ascii=False) + "\n")
    elif fmt is Format.csv:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: _cell(r.get(k)) for k in cols})
        sys.stdout.write(buf.getvalue())
    else:
        if not rows:
            err_console.print(f"{title + ': ' if title else ''}no rows")
            return
        t = Table(title=title, show_lines=False)
        for c in cols:
            t.add_column(c, overflow="fold")
        for r in rows:
            t.add_row(*(_cell(r.get(c)) for c in cols))
        out_console.print(t)


def info(msg: str) -> None:
    err_console.print(msg)


def error_line(message: str, hint: str | None = None) -> None:
    """A user mistake: ``error: <message>`` and ``hint: <hint>`` on stderr, one line each."""
    err_console.print(f"[bold red]error:[/] {_one_line(message)}", markup=True, highlight=False)
    if hint:
        err_console.print(f"[dim]hint: {_one_line(hint)}[/]", markup=True, highlight=False)


def _one_line(text: str) -> str:
    from rich.markup import escape

    return escape(" ".join(str(text).split()))
