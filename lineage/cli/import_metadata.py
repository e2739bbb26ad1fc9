"""`lineage import-metadata FILE`: a dump of Hub model metadata into the graph, as models without DNA."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lineage.cli._output import Format, info, render_rows
from lineage.cli.options import settings_from


def import_metadata_cmd(
    file: Annotated[Path, typer.Argument(help="A .jsonl or .parquet dump of Hugging Face Hub model metadata.",
                                         show_default=False)],
    format: Annotated[Format, typer.Option("--format", help="Summary format.")] = Format.table,
) -> None:
    """Import the Hub's documented graph: each model of the dump becomes a model without DNA
    (status 'metadata'), each declared base model a DECLARED_PARENT edge (source 'hub-dump').

    Models already measured here keep their DNA, status and own declared parents; the dump only
    fills their empty metadata. The whole file is validated before anything is written: a malformed
    record, a duplicate id, a self-parent or a declared cycle stops the import with one line naming
    the line or record, and the graph unchanged. Unknown fields are ignored and counted.
    Rerunning the same dump changes nothing. Field mapping: docs/metadata.md.

    Example: lineage import-metadata hub-models.parquet
    """
    from lineage.pipeline.import_metadata import import_metadata

    def progress(event: str, data: dict) -> None:
        if event == "read":
            info(f"read {data['n']:,} records; writing")
        elif event == "written" and data["total"] >= 100_000 and data["done"] % 100_000 < 10_000:
            info(f"{data['name'].removeprefix('import_metadata_')}: {data['done']:,}/{data['total']:,}")

    rep = import_metadata(file, settings=settings_from(), progress=progress)
    render_rows(rep.summary_rows(), format, title=f"import-metadata {file.name}")


def register(app: typer.Typer) -> None:
    app.command("import-metadata")(import_metadata_cmd)
