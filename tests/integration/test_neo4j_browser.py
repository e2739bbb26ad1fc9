"""Neo4j Browser, the tool users open on the graph, in a real headless chromium: log into the
Browser the local server serves, apply the shipped `cypher/lineage.grass`, run the shipped
`lineage_graph` query, and check that what the graph view draws is what the graph holds, each
kind of edge in the style's colour. The screenshot stays in the run's artefacts folder."""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter

import numpy as np
import pytest

from tests.helpers.browsers import ROOT, artefact, chromium, playwright_dir

pytestmark = pytest.mark.neo4j

ROOT_MODEL, CHILD, HIDDEN = "org/base", "org/base-chat", "someone/base-chat-reupload"


@pytest.fixture()
def lineage_population(settings, graph, tmp_path):
    """A declared fine-tune (CHILD of ROOT_MODEL) with an undeclared derivative (HIDDEN) and six unrelated models."""
    from lineage.dna.files import save_dna
    from lineage.dna.record import DNA, Provenance
    from lineage.dna.synthetic import SYNTHETIC_PROVENANCE
    from lineage.pipeline.ingest import ingest

    prov = Provenance(**SYNTHETIC_PROVENANCE)
    rng = np.random.default_rng(11)
    vec = lambda: rng.normal(size=128).astype(np.float32) * 3  # noqa: E731
    near = lambda v: v + 0.05 * rng.normal(size=128).astype(np.float32)  # noqa: E731
    v = {ROOT_MODEL: vec()}
    v[CHILD] = near(v[ROOT_MODEL])
    v[HIDDEN] = near(v[CHILD])
    v.update({f"other/{i}": vec() for i in range(6)})
    meta = {ROOT_MODEL: {"release_date": "2024-01-01"},
            CHILD: {"release_date": "2024-03-01", "base_model": ROOT_MODEL, "base_model_relation": "finetune"},
            HIDDEN: {"release_date": "2024-06-01"}}
    entries = []
    for i, (mid, vector) in enumerate(v.items()):
        save_dna(DNA(model_id=mid, vector=vector, provenance=prov), tmp_path / f"m{i}.dna.json")
        entries.append({"id": mid, "dna": f"m{i}.dna.json", **meta.get(mid, {"release_date": "2023-01-01"})})
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(e) for e in entries) + "\n")
    assert ingest(tmp_path / "m.jsonl", settings=settings).n_failed == 0
    return graph


def _grass_colours(text: str) -> dict[str, str]:
    """Relationship type -> colour, as the shipped style sets them."""
    return {m[1]: m[2].upper() for m in re.finditer(r"relationship\.(\w+)\s*\{[^}]*?color:\s*(#[0-9A-Fa-f]{6})", text)}


def test_neo4j_browser_draws_the_lineage_graph_in_lineage_colours(settings, lineage_population, tmp_path):
    g = lineage_population
    rows = g.query("lineage_graph", model_id=CHILD)
    # a path comes back as [node, type, node, type, node, ...]: its distinct relationships
    rels = {(p[i - 1]["id"], p[i], p[i + 1]["id"]) for r in rows for p in [r["p"]] for i in range(1, len(p), 2)}
    expected = Counter(t for _, t, _ in rels)
    assert set(expected) == {"DECLARED_PARENT", "INFERRED_PARENT", "UNDOCUMENTED_RELATION"}, expected

    grass = ROOT / "cypher" / "lineage.grass"
    colours = _grass_colours(grass.read_text())
    shot = artefact("neo4j-browser-lineage-graph.png")
    proc = subprocess.run(
        ["node", str(ROOT / "tests" / "helpers" / "neo4j_browser.mjs"), f"http://127.0.0.1:{settings.http_port}/browser/",
         settings.neo4j_user, str(ROOT / "cypher" / "lineage_graph.cypher"), str(grass),
         json.dumps({"model_id": CHILD, "limit": 100}), str(shot)],
        capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LINEAGE_CHROMIUM": chromium(),
             "LINEAGE_PLAYWRIGHT_DIR": playwright_dir(),
             "LINEAGE_BROWSER_PASSWORD": settings.resolved_password() or ""})
    assert proc.returncode == 0, proc.stderr[-3000:]
    drawn = json.loads(proc.stdout.strip().splitlines()[-1])

    # every relationship the query returns is drawn once, captioned and coloured by the style
    caption_type = {"declared": "DECLARED_PARENT", "inferred": "INFERRED_PARENT", "undocumented": "UNDOCUMENTED_RELATION"}
    seen = Counter()
    for r in drawn["relationships"]:
        kind = caption_type[r["caption"].split()[0]]
        assert r["colour"].upper() == colours[kind], (r, colours[kind])
        seen[kind] += 1
    assert seen == expected
    # the declared edge's caption carries its relation ("declared {relation}" in the style)
    assert "declared finetune" in {r["caption"] for r in drawn["relationships"]}
    # the three kinds in three different colours
    assert len({colours[k] for k in expected}) == 3
    nodes = {n for _, _, n in rels} | {n for n, _, _ in rels}
    assert len(drawn["nodes"]) == len(nodes)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
