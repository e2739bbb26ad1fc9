"""`lineage demo`: the main job end to end on the local default."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from lineage.cli._output import Format, info, render_rows
from lineage.cli.options import Profile, opt, settings_from


def demo_cmd(
    profile: Annotated[Profile, typer.Option(help="Zoo profile: smol (SmolLM2 and derivatives) or tiny (seconds, for a smoke run).")] = "smol",
    seed: Annotated[int, opt("seed", "Zoo seed.")] = 0,
    n_probes: Annotated[int, opt("n_probes", "Probes per model.")] = 100,
    max_new_tokens: Annotated[int, opt("max_new_tokens", "Tokens generated per probe.")] = 64,
    model: Annotated[Optional[str], typer.Option(help="Model whose lineage to print (default: the zoo's deepest descendant).")] = None,
) -> None:
    """Build the model zoo, start the local Neo4j, ingest the zoo, and print what a governance user asks first:
    a lineage, the models whose place no metadata documents, family speeds, conflicts, the tree picture and the Browser link.

    Example: lineage demo --profile smol
    """
    from lineage.cli._progress import ModelProgress, duration
    from lineage.pipeline.demo import run_demo

    s = settings_from()
    with ModelProgress() as hook:
        res = run_demo(s, profile=profile, seed=seed, n_probes=n_probes, max_new_tokens=max_new_tokens, model=model,
                       progress=hook, say=info)
    render_rows(res.report.summary_rows(), Format.table, title="ingest")
    render_rows(res.lineage, Format.table, title=f"lineage of {res.model}",
                columns=["direction", "model", "generations", "path", "evidence", "sources", "kinds"])
    render_rows(res.undocumented, Format.table,
                title="undocumented: models no metadata places, with the parent the evidence finds",
                columns=["model", "parent", "kind", "channel", "declared_parents", "n_relatives", "relatives", "p_value"])
    render_rows(res.conflicts, Format.table, title="declared parents the evidence contradicts",
                columns=["model", "declared_parent", "reason", "evidence_suggests", "channel"])
    render_rows(res.family_speeds, Format.table, title="family evolution speed (DNA distance per year)")
    render_rows(res.accuracy, Format.table,
                title="accuracy against the zoo's true genealogy (fpr 0.05; blind = dates only)")
    render_rows(res.policy, Format.table, title="policy check: lineage check --policy sample (docs/licences.md)")
    print(f"tree picture: {res.tree_png} (and .svg, .nwk)")
    print(f"Neo4j Browser: {res.browser_link}")
    print(f"  (log in as {s.neo4j_user}; `lineage db browser` says where the password is; "
          f"drag cypher/lineage.grass onto Browser for lineage's colours)")
    info("time per stage: " + ", ".join(f"{name} {duration(secs)}" for name, secs in res.stages.items())
         + f"; lineage demo in all {duration(res.seconds)}")
    if res.report.failures:
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)
