"""`lineage export`: the lineage graph as CycloneDX, SPDX, GraphML or JSON."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from lineage.cli._output import info
from lineage.cli.options import settings_from

ExportFormat = Literal["cyclonedx", "spdx", "graphml", "json"]  # lineage.export.FORMATS (a test keeps them equal)


def export_cmd(
    format: Annotated[ExportFormat, typer.Option("--format", help="cyclonedx (CycloneDX 1.6 JSON), spdx (SPDX 3.0.1 JSON-LD, AI profile), graphml, or json (every node and edge with every property).")] = "cyclonedx",
    model: Annotated[Optional[list[str]], typer.Option("--model", "-m", help="Export this model and its relations (repeatable); default: every model.", show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the document to this file (default: stdout).", show_default=False)] = None,
) -> None:
    """Export models and their lineage (declared and inferred parents, undocumented relations, conflicts) for governance tools.

    CycloneDX and SPDX carry the lineage relations; GraphML and JSON also carry DNA neighbours and weight matches.

    Example: lineage export --format cyclonedx --model smol-instruct --out smol-instruct.cdx.json
    """
    from lineage.graph.export import export_graph

    text = export_graph(format, model=model, out=out, settings=settings_from())
    if out is None:
        sys.stdout.write(text)
    else:
        info(f"wrote {out} ({format})")


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)
