"""The main job end to end on the local default: build the zoo, start the local Neo4j, ingest,
and gather what a governance user asks first (``lineage demo`` renders it).

Library first: :func:`run_demo` does the work and returns a :class:`DemoResult`; the
command only prints it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from lineage.settings import Settings

Say = Callable[[str], None]


@dataclass
class DemoResult:
    """Everything the demo found (rows as the shipped queries return them)."""

    zoo: object
    report: object
    model: str
    lineage: list[dict]
    undocumented: list[dict]
    conflicts: list[dict]
    family_speeds: list[dict]
    accuracy: list[dict]
    tree_png: Path
    browser_link: str
    seconds: float
    server: object | None = None
    notes: list[str] = field(default_factory=list)
    #: seconds each step took, in order: zoo, Neo4j, ingest, answers
    stages: dict[str, float] = field(default_factory=dict)
    #: findings of the shipped sample policy (``lineage check --policy sample``) on the demo's graph
    policy: list[dict] = field(default_factory=list)


def run_demo(settings: Settings, *, profile: str = "smol", seed: int = 0, n_probes: int = 100,
             max_new_tokens: int = 64, model: str | None = None, progress=None,
             say: Say = lambda msg: None) -> DemoResult:
    """Build the ``profile`` zoo, start the local server (when the settings point at it), ingest
    the zoo and read the answers back; ``say`` receives one line per step and per zoo model,
    ``progress`` the ingest's events."""
    from lineage.dna.extract import ExtractConfig
    from lineage.dna.record import GenerationConfig
    from lineage.graph import server
    from lineage.graph.browser import query_link
    from lineage.pipeline.ingest import ingest
    from lineage.graph.store import Graph
    from lineage.zoo import build_zoo

    t0 = time.monotonic()
    stages: dict[str, float] = {}
    say(f"[1/4] building the {profile!r} model zoo (cached after the first build)")
    zoo = build_zoo(profile=profile, seed=seed, progress=lambda line: say(f"      {line}"))
    stages["zoo"] = time.monotonic() - t0
    say(f"      {len(zoo.models)} models in {zoo.dir} ({stages['zoo']:.0f} s)")
    t = time.monotonic()
    st = None
    if settings.is_local:
        say("[2/4] starting the local Neo4j")
        st = server.start(settings)
        say(f"      Neo4j {st.version} on {st.bolt_uri}")
    else:
        say(f"[2/4] using the Neo4j at {settings.neo4j_uri}")
    stages["neo4j"] = time.monotonic() - t
    t = time.monotonic()
    say(f"[3/4] ingesting: {n_probes} probes x {max_new_tokens} new tokens per model, and each model's weights "
        "(answers, DNAs and weight profiles are cached)")
    cfg = ExtractConfig(n_probes=n_probes, generation=GenerationConfig(max_new_tokens=max_new_tokens),
                        dna_dim=settings.dna_dim)
    tree_dir = settings.cache_dir / "trees" / f"zoo-{profile}-{seed}"
    rep = ingest(zoo.manifest_path, settings=settings, extract_config=cfg, tree_dir=tree_dir, progress=progress)
    stages["ingest"] = time.monotonic() - t
    t = time.monotonic()
    say("[4/4] answers")
    with Graph(settings) as g:
        chosen = model or g.query("deepest_descendant")[0]["model"]
        result = DemoResult(
            zoo=zoo, report=rep, model=chosen, lineage=g.query("lineage", model_id=chosen),
            undocumented=g.query("undocumented", limit=15, max_p_value=0.01), conflicts=g.query("conflicts"),
            family_speeds=g.query("family_speed"), accuracy=accuracy_rows(g, settings, zoo.truth_path),
            tree_png=tree_dir / "lineage-tree.png", browser_link=query_link(settings, "lineage_graph", {"model_id": chosen}),
            seconds=0.0, server=st)
        from lineage.graph.licences import check_policy
        from lineage.licences.policy import resolve_policy

        result.policy = check_policy(resolve_policy("sample"), graph=g).rows()
    stages["answers"] = time.monotonic() - t
    result.seconds, result.stages = time.monotonic() - t0, stages
    return result


def accuracy_rows(g, settings: Settings, truth_path) -> list[dict]:
    """Scores of the graph's population against a ground truth: the DNA alone and the combined
    evidence, blind (dates only) and with the metadata, side by side."""
    from lineage.core.score.evaluation import evaluate_channels
    from lineage.pipeline.ingest import population_from_graph
    from lineage.manifest import load_truth

    gt = load_truth(truth_path)
    known = {m.id: m.family for m in gt.models}
    pop = population_from_graph(g, settings)
    pop = pop.subset([m for m in pop.ids if m in known])
    relations = {(e.parent, e.child): e.relation for e in gt.edges}
    columns: dict[str, dict] = {}
    order: list[str] = []
    for setting, p in (("blind", pop.blind()), ("metadata", pop)):
        evs = evaluate_channels(p, gt.parent_of(), known, fpr=0.05, splits=("family",),
                                n_splits=min(5, len(p) // 2 or 1), true_relations=relations)
        for channels, ev in evs.items():
            name = f"{setting} {channels}"
            columns[name] = {r.metric: r for r in ev.rows}
            order += [m for m in columns[name] if m not in order]
    return [{"metric": m, **{name: (col[m].value if m in col else None) for name, col in columns.items()}}
            for m in order]
