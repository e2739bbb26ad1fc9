"""`lineage demo`: the main job end to end on the local default."""

from __future__ import annotations

import time
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
    a lineage, the undocumented relations found, family speeds, conflicts, the tree picture and the Browser link.

    Example: lineage demo --profile smol
    """
    from lineage.graph import server
    from lineage.graph.browser import query_link
    from lineage.dna.record import GenerationConfig
    from lineage.dna.extract import ExtractConfig
    from lineage.graph.store import Graph
    from lineage.graph.ingest import ingest
    from lineage.zoo import build_zoo

    s = settings_from()
    t0 = time.monotonic()
    info(f"[1/4] building the {profile!r} model zoo (cached after the first build)")
    zoo = build_zoo(profile=profile, seed=seed)
    info(f"      {len(zoo.models)} models in {zoo.dir} ({time.monotonic() - t0:.0f} s)")
    if s.is_local:
        info("[2/4] starting the local Neo4j")
        st = server.start(s)
        info(f"      Neo4j {st.version} on {st.bolt_uri}")
    else:
        info(f"[2/4] using the Neo4j at {s.neo4j_uri}")
    info(f"[3/4] ingesting: {n_probes} probes x {max_new_tokens} new tokens per model (responses and DNAs are cached)")
    from lineage.cli._progress import ModelProgress

    cfg = ExtractConfig(n_probes=n_probes, generation=GenerationConfig(max_new_tokens=max_new_tokens), dna_dim=s.dna_dim)
    tree_dir = s.cache_dir / "trees" / f"zoo-{profile}-{seed}"
    with ModelProgress() as hook:
        rep = ingest(zoo.manifest_path, settings=s, extract_config=cfg, tree_dir=tree_dir, progress=hook)
    render_rows(rep.summary_rows(), Format.table, title="ingest")
    info("[4/4] answers")
    with Graph(s) as g:
        chosen = model or _deepest(g)
        render_rows(g.query("lineage", model_id=chosen), Format.table, title=f"lineage of {chosen}",
                    columns=["direction", "model", "generations", "path", "evidence"])
        render_rows(g.query("undocumented", limit=15, max_p_value=0.01), Format.table,
                    title="undocumented relations (no metadata declares them)",
                    columns=["model", "related_to", "kind", "score", "p_value"])
        render_rows(g.query("conflicts"), Format.table, title="declared parents the DNA contradicts",
                    columns=["model", "declared_parent", "reason", "dna_suggests"])
        render_rows(g.query("family_speed"), Format.table, title="family evolution speed (DNA distance per year)")
        ev = _evaluate(g, zoo.truth_path)
    render_rows(ev, Format.table, title="accuracy against the zoo's true genealogy (lineage eval)")
    print(f"tree picture: {tree_dir / 'lineage-tree.png'} (and .svg, .nwk)")
    print(f"Neo4j Browser: {query_link(s, 'lineage_graph', {'model_id': chosen})}")
    print(f"  (log in as {s.neo4j_user}; `lineage db browser` says where the password is; "
          f"drag cypher/lineage.grass onto Browser for lineage's colours)")
    info(f"done in {time.monotonic() - t0:.0f} s")
    if rep.failures:
        raise typer.Exit(2)


def _deepest(g) -> str:
    rows = g.query("models", limit=100000)
    best = None
    for r in rows:
        anc = [x for x in g.query("lineage", model_id=r["model"]) if x["direction"] == "ancestor"]
        depth = max((x["generations"] for x in anc), default=0)
        if best is None or depth > best[0]:
            best = (depth, r["model"])
    return best[1] if best else rows[0]["model"]


def _evaluate(g, truth_path) -> list[dict]:
    from lineage.evaluate import evaluate_population
    from lineage.graph.ingest import population_from_graph
    from lineage.manifest import load_truth

    gt = load_truth(truth_path)
    pop = population_from_graph(g)
    known = {m.id: m.family for m in gt.models}
    keep = [i for i, m in enumerate(pop["ids"]) if m in known]
    pick = lambda xs: [xs[i] for i in keep]  # noqa: E731
    ev = evaluate_population(
        pick(pop["ids"]), pop["X"][keep], gt.parent_of(), known, release_dates=pick(pop["release_dates"]),
        families=pick(pop["families"]), declared_parents=pick(pop["declared_parents"]),
        declared_relations=pick(pop["declared_relations"]), n_splits=min(5, len(keep) // 2 or 1),
    )
    return [{"metric": r.metric, "value": r.value, "n": r.n, "note": r.note} for r in ev.rows]


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)
