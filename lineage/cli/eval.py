"""`lineage eval`: score inferred lineage against a known genealogy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._output import Format, info, render_rows


def eval_cmd(
    dna: Annotated[list[Path], typer.Argument(help="DNA files (.dna.json) of models in the truth, at least 3.")],
    truth: Annotated[Path, typer.Option("--truth", help="Ground-truth genealogy (truth.json).")],
    manifest: Annotated[Optional[Path], typer.Option("--manifest", help="Manifest: dates, families, declared parents.")] = None,
    fpr: Annotated[float, typer.Option("--fpr", help="False-positive rate for 'related'.")] = 0.01,
    split: Annotated[str, typer.Option("--split", help="model, family or both (group-disjoint folds).")] = "both",
    classifier: Annotated[str, typer.Option("--classifier", help="null (p-value), svm (paper's RBF-SVM) or both.")] = "null",
    n_splits: Annotated[int, typer.Option("--n-splits", help="Folds per split.")] = 5,
    method: Annotated[str, typer.Option("--method", help="nj or upgma.")] = "nj",
    k: Annotated[int, typer.Option("--k", help="Nearest neighbours per model (parent candidates).")] = 10,
    random_state: Annotated[int, typer.Option("--random-state", help="Seed for folds and null sampling.")] = 0,
    format: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.table,
) -> None:
    """Infer parents, relations and the tree, then score them against the ground truth.

    Example: lineage eval --truth zoo/truth.json --manifest zoo/manifest.yaml dna/*.dna.json
    """
    from ..errors import ConfigError
    from ..evaluate import evaluate_files

    if not 0 < fpr < 1:
        raise ConfigError(f"--fpr must be between 0 and 1, not {fpr}")
    if n_splits < 2:
        raise ConfigError(f"--n-splits must be at least 2, not {n_splits}")
    ev = evaluate_files(truth, dna, manifest=manifest, fpr=fpr, split=split, classifier=classifier,
                        n_splits=n_splits, method=method, k=k, random_state=random_state)
    if manifest is None:
        info("no --manifest: undocumented-relation and conflict scores need declared parents; skipped")
    render_rows([{"metric": r.metric, "value": r.value, "n": r.n, "note": r.note} for r in ev.rows], format,
                title=f"evaluation ({len(ev.analysis.ids)} models, fpr {fpr:g})")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_cmd)
