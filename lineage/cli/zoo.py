"""`lineage zoo build`: the demo/evaluation model zoo with a known family tree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lineage.cli._output import Format, info, render_rows
from lineage.cli.options import Profile, opt

zoo_app = typer.Typer(help="Build the model zoo: runnable models with a known genealogy.", no_args_is_help=True)


@zoo_app.command("build")
def build_cmd(
    profile: Annotated[Profile, typer.Option(help="tiny (seconds, from-scratch models) or smol (SmolLM2 + derivatives, minutes).")] = "tiny",
    seed: Annotated[int, opt("seed", "Seed for every random step; the same seed rebuilds identical weights.")] = 0,
    out: Annotated[Optional[Path], typer.Option(help="Output folder (default <cache_dir>/zoo/<profile>-<seed>).", show_default=False)] = None,
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Build (or reuse) Hugging Face model folders, manifest.yaml, truth.json and zoo.json.

    Models already built with the same recipe and seed are reused, so a second build
    takes seconds. The table lists each model, its true parents and relation, and what
    its card declares.

    Example: lineage zoo build --profile tiny --seed 0 --out ./zoo
    """
    from lineage.zoo import build_zoo

    res = build_zoo(profile=profile, seed=seed, out=out, progress=info)
    rows = [{"id": m.id, "arch": m.architecture, "params": m.params, "released": m.release_date.isoformat(),
             "parents": ", ".join(m.parents), "relation": m.relation or "",
             "declared": ", ".join(m.declared), "seconds": m.seconds} for m in res.models]
    render_rows(rows, format, title=f"zoo {res.profile} (seed {res.seed})")
    info(f"{len(res.models)} models in {res.dir} ({res.seconds:.1f} s); manifest {res.manifest_path}; "
         f"truth {res.truth_path}")


def register(app: typer.Typer) -> None:
    app.add_typer(zoo_app, name="zoo")
