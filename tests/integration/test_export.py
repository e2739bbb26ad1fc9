"""Exports and reports from the real graph: a small population with awkward ids, ingested
from precomputed DNAs, exported in every format, validated through each standard's library,
parsed back and compared with what the graph's own queries say; the report opened in a real
headless Chromium."""

from __future__ import annotations

import json
import subprocess
from collections import Counter

import numpy as np
import pytest

from lineage.export import FORMATS, from_format
from lineage.export.data import EDGE_TYPES, LINEAGE_EDGE_TYPES
from lineage.graph.export import export_graph, read_export_data, write_reports
from tests.helpers.browsers import ROOT, artefact, chromium, chromium_flags, playwright_dir
from tests.helpers.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.neo4j

ROOT_A, CHILD, GRANDCHILD = 'base "one"', "org/fine-tune<&>", "ünï/模型 ✓"
ROOT_B, HIDDEN = "b's root", "b/undeclared child"
LATE, EARLY = "late & parent", "early <child>"
ALL_IDS = [ROOT_A, CHILD, GRANDCHILD, ROOT_B, HIDDEN, LATE, EARLY] + [f"other/{i}" for i in range(6)]


@pytest.fixture()
def populated(settings, graph, tmp_path):
    from lineage.dna.files import save_dna
    from lineage.dna.record import DNA, Provenance
    from lineage.pipeline.ingest import ingest
    from lineage.dna.synthetic import SYNTHETIC_PROVENANCE

    prov = Provenance(**SYNTHETIC_PROVENANCE)
    rng = np.random.default_rng(11)
    vec = lambda: rng.normal(size=128).astype(np.float32) * 3  # noqa: E731
    near = lambda v: v + 0.05 * rng.normal(size=128).astype(np.float32)  # noqa: E731
    v = {ROOT_A: vec(), ROOT_B: vec(), LATE: vec()}
    v[CHILD] = near(v[ROOT_A])
    v[GRANDCHILD] = near(v[CHILD])
    v[HIDDEN] = near(v[ROOT_B])
    v[EARLY] = near(v[LATE])
    for i in range(6):
        v[f"other/{i}"] = vec()
    meta = {
        ROOT_A: dict(release_date="2024-01-01", licence="apache-2.0", family="a", name="Base One"),
        CHILD: dict(release_date="2024-03-01", base_model=ROOT_A, base_model_relation="finetune", family="a"),
        GRANDCHILD: dict(release_date="2024-06-01", base_model=CHILD, base_model_relation="adapter", family="a"),
        ROOT_B: dict(release_date="2024-02-01", licence="mit", family="b"),
        HIDDEN: dict(release_date="2024-04-01"),
        LATE: dict(release_date="2025-01-01", family="c"),
        EARLY: dict(release_date="2024-05-01", base_model=LATE, base_model_relation="finetune", family="c"),
    }
    entries = []
    for i, (mid, vector) in enumerate(v.items()):
        save_dna(DNA(model_id=mid, vector=vector, provenance=prov), tmp_path / f"m{i}.dna.json")
        entries.append({"id": mid, "dna": f"m{i}.dna.json", **meta.get(mid, {"release_date": "2023-01-01"})})
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in entries) + "\n")
    rep = ingest(tmp_path / "m.jsonl", settings=settings)
    assert rep.n_failed == 0
    return graph


def _validate(text: str, fmt: str) -> None:
    if fmt == "cyclonedx":
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator

        assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
        # every ingested model has a DNA: its model card says how it was measured
        cards = [c.get("modelCard", {}) for c in json.loads(text)["components"]]
        assert all({"lineage:dna-probe-set", "lineage:dna-n-probes"} <= {p["name"] for p in c.get("properties", [])}
                   for c in cards)
    elif fmt == "spdx":
        from spdx_python_model import v3_0_1 as s

        from lineage.export.spdx import load_spdx

        assert len(list(load_spdx(text).foreach_type(s.ai_AIPackage))) == len(ALL_IDS)
    elif fmt == "graphml":
        import io

        import networkx as nx

        assert nx.read_graphml(io.BytesIO(text.encode())).number_of_nodes() == len(ALL_IDS)
    else:
        assert json.loads(text)["format"] == "lineage-graph"


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_validates_and_round_trips_what_the_graph_holds(populated, fmt, tmp_path):
    g = populated
    out = tmp_path / f"export.{fmt}"
    text = export_graph(fmt, graph=g, out=out)
    assert out.read_text(encoding="utf-8") == text
    _validate(text, fmt)
    back = from_format(text, fmt)
    types = EDGE_TYPES if fmt in ("graphml", "json") else LINEAGE_EDGE_TYPES
    truth = read_export_data(g, types=types)
    # every id survives, byte for byte, and so does every property of every model and relation
    assert sorted(n.id for n in back.nodes) == sorted(ALL_IDS)
    assert back.nodes == truth.nodes
    assert back.edges == truth.edges
    # ... and agrees with the graph's own counts and queries
    counts = {r["what"]: r["n"] for r in g.query("graph_counts") if r["kind"] == "relationship"}
    assert Counter(e.type for e in back.edges) == Counter({t: counts[t] for t in types if counts.get(t)})
    conflicts = {(r["model"], r["declared_parent"]) for r in g.query("conflicts")}
    assert {(e.source, e.target) for e in back.edges
            if e.type == "DECLARED_PARENT" and e.props.get("contradicted")} == conflicts
    undocumented = {(r["model"], r["related_to"]) for r in g.query("undocumented_pairs", limit=1000, max_p_value=1.0)}
    assert {(e.source, e.target) for e in back.edges if e.type == "UNDOCUMENTED_RELATION"} == undocumented
    declared = {(e.source, e.target) for e in back.edges if e.type == "DECLARED_PARENT"}
    assert {(CHILD, ROOT_A), (GRANDCHILD, CHILD), (EARLY, LATE)} == declared


def test_export_of_chosen_models_holds_them_and_their_relations(populated):
    data = from_format(export_graph("json", model=[GRANDCHILD], graph=populated), "json")
    assert GRANDCHILD in {n.id for n in data.nodes} and CHILD in {n.id for n in data.nodes}
    assert all(GRANDCHILD in (e.source, e.target) for e in data.edges)
    assert {n.id for n in data.nodes} == {GRANDCHILD} | {e.source for e in data.edges} | {e.target for e in data.edges}


def test_cli_export_and_report(populated, tmp_path):
    r = run_cli("export", "--format", "cyclonedx", "--model", CHILD, "--out", str(tmp_path / "c.json"))
    assert r.returncode == 0, r.stderr
    comps = json.loads((tmp_path / "c.json").read_text())["components"]
    assert f"model:{CHILD}" in {c["bom-ref"] for c in comps}
    r = run_cli("export", "--format", "json")
    assert r.returncode == 0 and len(json.loads(r.stdout)["nodes"]) == len(ALL_IDS)
    assert_one_line_error(run_cli("export", "--model", "no such model"), "no model 'no such model'")
    r = run_cli("report", GRANDCHILD, "--out", str(tmp_path / "r.html"))
    assert r.returncode == 0, r.stderr
    assert "Lineage report" in (tmp_path / "r.html").read_text(encoding="utf-8")
    r = run_cli("report", "--all", "--out", str(tmp_path / "all"))
    assert r.returncode == 0, r.stderr
    files = sorted(p.name for p in (tmp_path / "all").iterdir())
    assert "index.html" in files and len(files) == len(ALL_IDS) + 1
    assert_one_line_error(run_cli("report", "no such model"), "no model")
    assert_one_line_error(run_cli("report"), "name one MODEL")


def test_report_in_headless_chromium_shows_the_picture_and_the_conflicts(populated, tmp_path):
    g = populated
    conflicted = sorted(r["model"] for r in g.query("conflicts"))
    assert conflicted == [EARLY]  # declared LATE, released before it
    page = write_reports(EARLY, out=tmp_path / "report.html", graph=g)[0]
    flags = chromium_flags(tmp_path / "profile")
    dom = subprocess.run([chromium(), *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert '<svg id="lineage-svg"' in dom
    assert 'class="edge conflict"' in dom
    assert any(e.type == "INFERRED_PARENT" for e in read_export_data(g, [EARLY]).edges)
    assert 'class="edge inferred"' in dom
    assert '<section id="conflicts">' in dom and '<div class="finding conflict-finding">' in dom
    assert '<tr class="conflict">' in dom  # the contradicted edge is marked in the evidence table

    # at 1100 px nothing runs past the page, and the sections come in a reviewer's order
    shot, pdf = artefact("report-conflict-1100px.png"), artefact("report-conflict.pdf")
    proc = subprocess.run(["node", str(ROOT / "tests" / "helpers" / "report_page.mjs"), str(page), "1100", str(shot), str(pdf)],
                          capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LINEAGE_CHROMIUM": chromium(),
                               "LINEAGE_PLAYWRIGHT_DIR": playwright_dir()})
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["viewport"] == 1100 and seen["page_width"] <= 1100, seen
    assert 0 < seen["widest_table_right"] <= 1100 and seen["overflowing_cells"] == 0, seen
    assert seen["sections"] == ["summary", "lineage", "findings", "evidence", "technical"], seen
    assert seen["technical_open"] is False
    # printed: the page fits A4 and the raw evidence JSON is left out (its words stay)
    assert seen["print"]["raw_evidence_shown"] is False, seen
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000
