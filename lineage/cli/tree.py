"""`lineage tree`: a phylogenetic tree of DNA files (Newick + PNG + SVG)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lineage.cli._output import Format, render_rows
from lineage.cli.options import Method, Metric, Root


def tree_cmd(
    dna: Annotated[list[Path], typer.Argument(help="DNA files (.dna.json), at least 3.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for tree.nwk, tree.png, tree.svg.")],
    method: Annotated[Method, typer.Option("--method", help="nj (Neighbor-Joining) or upgma.")] = "nj",
    root: Annotated[Root, typer.Option("--root", help="Midpoint, or on --outgroup.")] = "midpoint",
    outgroup: Annotated[Optional[str], typer.Option("--outgroup", help="Model id to root on (default: the oldest in --manifest).")] = None,
    manifest: Annotated[Optional[Path], typer.Option("--manifest", help="Manifest with families and release dates.")] = None,
    metric: Annotated[Metric, typer.Option("--metric", help="DNA distance.")] = "euclidean",
    format: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.table,
) -> None:
    """Build a Neighbor-Joining (or UPGMA) tree from DNA files; write Newick, PNG and SVG.

    Example: lineage tree dna/*.dna.json --out results/tree --root outgroup --manifest zoo/manifest.yaml
    """
    from lineage.pipeline.treeplot import write_tree

    summary = write_tree(dna, out, method=method, root=root, outgroup=outgroup, manifest=manifest, metric=metric)
    render_rows([{"field": k, "value": v} for k, v in summary.items()], format, title="tree")


def register(app: typer.Typer) -> None:
    app.command("tree")(tree_cmd)
