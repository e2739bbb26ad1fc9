"""`lineage report MODEL`: a self-contained HTML report of one model's lineage (or of every model)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lineage.cli._output import info
from lineage.cli.options import settings_from


def report_cmd(
    model: Annotated[Optional[str], typer.Argument(help="Model id (omit with --all).", show_default=False)] = None,
    all: Annotated[bool, typer.Option("--all", help="One report per model plus index.html, into the folder --out.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output file (default report.html), or folder with --all (default reports).", show_default=False)] = None,
) -> None:
    """Write an HTML report a reviewer can read: summary, metadata, DNA provenance, a lineage picture,
    nearest models, conflicts and undocumented relations with their evidence. Opens offline.

    Example: lineage report smol-instruct --out smol-instruct.html
    """
    from lineage.graph.export import write_reports

    paths = write_reports(model, all=all, out=out, settings=settings_from())
    info(f"wrote {paths[-1] if all else paths[0]}" + (f" and {len(paths) - 1} reports" if all else ""))


def register(app: typer.Typer) -> None:
    app.command("report")(report_cmd)
