"""All CLI output goes through here: data to stdout, messages to stderr.

Values are shown verbatim and harmless: nothing is read as Rich markup (an id such as
``[bold]x[/]`` prints as written, ``org:skull:model`` is not an emoji), terminal control
characters (ESC, C1 controls) are removed from table and CSV cells and from messages,
invisible format characters (bidirectional overrides such as U+202E, zero-width spaces and
joiners, soft hyphens) are shown as ``\u202e`` escapes there, so an id holding one never
prints like another id or reverses the text after it, and a CSV cell a spreadsheet would
run as a formula (starting with ``=``, ``+``, ``-``, ``@``, TAB or CR) is prefixed with ``'``.
Numbers are never altered.

Tables stay legible wherever stdout goes. Column headers never break inside a word. On a
terminal a table takes the terminal's width; off a terminal (piped, redirected to a file)
Rich would lay it out at 80 columns and fold headers and ids, so a table is printed at its
natural width instead, or, when that is wider than :data:`MAX_PIPED_WIDTH` (a row holding
evidence JSON), as records: each row headed ``-- i of n --``, then one ``column  value`` line per cell.
An explicit ``COLUMNS`` keeps the table at that width.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from enum import Enum
from typing import Any, Iterable, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

# emoji=False: Rich would print an id such as ``org:skull:model`` as an emoji
err_console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
out_console = Console(highlight=False, soft_wrap=True, emoji=False)


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


# C0 controls except TAB and LF, DEL, and C1 controls (0x9b is a one-byte CSI on some terminals)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# invisible format characters (Unicode Cf): bidi embeddings/overrides/isolates, zero-width ones, soft hyphen
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
                        "\ufeff\ufff9-\ufffb]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean(text: str) -> str:
    """``text`` without terminal control characters, its invisible format characters escaped."""
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", _CONTROL.sub("", text))


def _csv_cell(v: Any, column: str = "") -> str:
    text = clean(_cell(v, column))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return text  # a negative number stays a number
    return "'" + text if text.startswith(_FORMULA_START) else text


#: widest table printed as a table off a terminal; wider ones print as records
MAX_PIPED_WIDTH = 200


def _cell(v: Any, column: str = "") -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        if not all(isinstance(x, str) for x in v):
            return json.dumps(v, default=str)
        # a path is a sequence of steps; any other list of names (relatives, sources) is a set
        return (" -> " if column == "path" else ", ").join(v)
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
        w.writerow({k: _csv_cell(k) for k in cols})
        for r in rows:
            w.writerow({k: _csv_cell(r.get(k), k) for k in cols})
        sys.stdout.write(buf.getvalue())
    else:
        if not rows:
            info(f"{title + ': ' if title else ''}no rows")
            return
        cells = [[clean(_cell(r.get(c), c)) for c in cols] for r in rows]
        _print_table(cells, [clean(str(c)) for c in cols], clean(title) if title else None)


def _print_table(cells: list[list[str]], headers: list[str], title: str | None) -> None:
    t = Table(title=Text(title) if title else None, show_lines=False)
    for h in headers:
        # a header folds only between words: its longest word sets the column's least width
        t.add_column(Text(h), overflow="fold", min_width=max((len(w) for w in h.split()), default=1))
    for row in cells:
        t.add_row(*(Text(v) for v in row))
    if out_console.is_terminal or os.environ.get("COLUMNS"):
        out_console.print(t)
        return
    natural = Console(width=100_000).measure(t).maximum
    if natural <= MAX_PIPED_WIDTH:
        Console(file=out_console.file, width=natural, highlight=False, soft_wrap=True, emoji=False).print(t)
    else:
        _print_records(cells, headers, title)


def _print_records(cells: list[list[str]], headers: list[str], title: str | None) -> None:
    """One ``column  value`` line per cell, rows separated by a blank line (for wide tables off a terminal)."""
    key_w = max(len(h) for h in headers)
    out = [title, ""] if title else []
    for i, row in enumerate(cells):
        out.append(f"-- {i + 1} of {len(cells)} --")
        for h, v in zip(headers, row):
            lines = v.split("\n") or [""]
            out.append(f"{h:<{key_w}}  {lines[0]}".rstrip())
            out.extend(f"{'':<{key_w}}  {x}".rstrip() for x in lines[1:])
        out.append("")
    out_console.file.write("\n".join(out) + "\n")


def info(msg: str) -> None:
    """A message on stderr, verbatim (never read as markup)."""
    err_console.print(clean(str(msg)), markup=False, highlight=False)


def warning_line(msg: str) -> None:
    """``warning: <msg>`` on stderr, verbatim (no markup)."""
    from rich.markup import escape

    err_console.print(f"[yellow]warning:[/] {escape(clean(str(msg)))}", markup=True, highlight=False)


def model_failed(model_id: str, why: str) -> None:
    """``failed: <model>: <why>`` on stderr, the id verbatim (ids may hold ``[/]`` or escapes)."""
    from rich.markup import escape

    err_console.print(f"[yellow]failed:[/] {escape(clean(str(model_id)))}: {escape(clean(str(why)))}",
                      markup=True, highlight=False)


def error_line(message: str, hint: str | None = None) -> None:
    """A user mistake: ``error: <message>`` and ``hint: <hint>`` on stderr, one line each."""
    err_console.print(f"[bold red]error:[/] {_one_line(message)}", markup=True, highlight=False)
    if hint:
        err_console.print(f"[dim]hint: {_one_line(hint)}[/]", markup=True, highlight=False)


def _one_line(text: str) -> str:
    from rich.markup import escape

    return escape(" ".join(clean(str(text)).split()))
