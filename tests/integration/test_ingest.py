"""Ingest into the real Neo4j: idempotence, incremental batches, failures, and that every
shipped query returns what the numeric core computed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lineage.core.infer.population import analyse
from lineage.pipeline.ingest import ingest, population_from_graph
from lineage.dna.synthetic import write_synthetic_population
from tests.helpers.graph import assert_queries_match_core

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    return write_synthetic_population(tmp_path_factory.mktemp("syn"), 48, random_state=3)


def counts(graph) -> dict:
    return {(r["kind"], r["what"]): r["n"] for r in graph.query("graph_counts")}


def test_rerunning_the_same_batch_changes_nothing(settings, graph, population):
    first = ingest(population["manifest"], settings=settings)
    assert first.n_extracted == 48 and first.n_failed == 0
    before = counts(graph)
    assert before[("node", "Model")] == 48 and before[("node", "Run")] == 1
    assert before[("relationship", "SIMILAR_TO")] == 48 * 10
    second = ingest(population["manifest"], settings=settings)
    assert second.n_skipped == 48 and second.n_extracted == 0
    assert counts(graph) == before


def test_second_batch_adds_without_reextracting_the_first(settings, graph, population, tmp_path):
    lines = population["manifest"].read_text().splitlines()
    base = population["manifest"].parent
    # Manifests in another folder: rewrite relative DNA paths as absolute.
    def write(name, chunk):
        p = tmp_path / name
        rows = [json.loads(l) for l in chunk]
        for r in rows:
            r["dna"] = str(base / r["dna"])
        p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        return p

    a = ingest(write("a.jsonl", lines[:30]), settings=settings)
    assert a.n_extracted == 30
    b = ingest(write("all.jsonl", lines), settings=settings)
    assert (b.n_skipped, b.n_extracted, b.n_population) == (30, 18, 48)
    assert counts(graph)[("node", "Model")] == 48


def test_failing_model_is_recorded_and_the_rest_lands(settings, graph, population, tmp_path):
    rows = [json.loads(l) for l in population["manifest"].read_text().splitlines()[:10]]
    for r in rows:
        r["dna"] = str(population["dir"] / r["dna"])
    rows[4]["dna"] = str(tmp_path / "missing.dna.json")
    bad_id = rows[4]["id"]
    m = tmp_path / "m.jsonl"
    m.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    rep = ingest(m, settings=settings)
    assert [f[0] for f in rep.failures] == [bad_id]
    assert "does not exist" in rep.failures[0][1]
    info = graph.query("model_info", model_id=bad_id)[0]
    assert info["status"] == "failed" and not info["has_dna"] and "does not exist" in info["error"]
    ok = [r for r in graph.query("models") if r["status"] == "ok"]
    assert len(ok) == 9
    # Failed models never enter the population the phylogeny sees.
    assert bad_id not in population_from_graph(graph).ids


def test_a_batch_whose_every_model_fails_records_them_and_analyses_nothing(settings, graph, tmp_path):
    m = tmp_path / "m.jsonl"
    m.write_text(json.dumps({"id": "only", "dna": str(tmp_path / "missing.dna.json")}) + "\n")
    rep = ingest(m, settings=settings)
    assert [f[0] for f in rep.failures] == ["only"]
    assert (rep.n_population, rep.n_parents, rep.analysis) == (0, 0, "full")
    assert len(population_from_graph(graph).ids) == 0


def test_queries_return_what_the_core_computed(settings, graph, population):
    ingest(population["manifest"], settings=settings)
    pop = population_from_graph(graph)
    a = analyse(pop, k=10, fpr=0.01)
    # nearest (vector index) agrees with the exact neighbours for a clear population
    some = pop.ids[7]
    exact = [n.b for n in sorted((n for n in a.neighbours if n.a == some), key=lambda n: n.rank)][:5]
    hits = graph.query("nearest", model_id=some, k=5)
    assert [h["model"] for h in hits] == exact
    d = np.linalg.norm(pop.X[pop.index(hits[0]["model"])] - pop.X[7])
    assert hits[0]["distance"] == pytest.approx(d, rel=1e-3)
    # undocumented relations, conflicts and family speeds are exactly the core's
    assert_queries_match_core(graph, a)
    # lineage: a model's inferred parent appears as its ancestor, and it as the parent's descendant
    p = a.parents[0]
    anc = graph.query("lineage", model_id=p.child)
    assert any(r["direction"] == "ancestor" and r["model"] == p.parent and r["generations"] == 1 for r in anc)
    desc = graph.query("lineage", model_id=p.parent)
    assert any(r["direction"] == "descendant" and r["model"] == p.child for r in desc)
    # provenance names the run and the DNA settings
    prov = graph.query("provenance", model_id=some)[0]
    assert prov["run"].startswith("run:") and prov["probe_set"] == "synthetic" and prov["dna_dim"] == 128


def test_declared_lineage_is_marked_declared(settings, graph, tmp_path):
    from lineage.dna.record import DNA, Provenance
    from lineage.dna.files import save_dna
    from lineage.dna.synthetic import SYNTHETIC_PROVENANCE

    prov = Provenance(**SYNTHETIC_PROVENANCE)
    rng = np.random.default_rng(0)
    base = rng.normal(size=128).astype(np.float32)
    vecs = {"root": base, "child": base + 0.05 * rng.normal(size=128).astype(np.float32)}
    vecs["grandchild"] = vecs["child"] + 0.05 * rng.normal(size=128).astype(np.float32)
    for i in range(3):
        vecs[f"other{i}"] = rng.normal(size=128).astype(np.float32) * 3
    entries = []
    for mid, v in vecs.items():
        save_dna(DNA(model_id=mid, vector=v, provenance=prov), tmp_path / f"{mid}.json")
        e = {"id": mid, "dna": f"{mid}.json"}
        if mid == "child":
            e.update(base_model="root", base_model_relation="finetune")
        if mid == "grandchild":
            e.update(base_model="child", base_model_relation="finetune")
        entries.append(e)
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(e) for e in entries) + "\n")
    ingest(tmp_path / "m.jsonl", settings=settings)
    rows = graph.query("lineage", model_id="grandchild")
    anc = {r["model"]: r for r in rows if r["direction"] == "ancestor"}
    assert anc["child"]["generations"] == 1 and anc["child"]["evidence"] == "declared"
    assert anc["root"]["generations"] == 2 and anc["root"]["path"] == ["grandchild", "child", "root"]


def test_model_card_fills_what_the_manifest_leaves_out(settings, graph, tmp_path):
    from lineage.dna.record import DNA, Provenance
    from lineage.dna.files import save_dna
    from lineage.dna.synthetic import SYNTHETIC_PROVENANCE

    prov = Provenance(**SYNTHETIC_PROVENANCE)
    rng = np.random.default_rng(5)
    base = rng.normal(size=128).astype(np.float32)
    vecs = {"parent": base, "child": base + 0.02 * rng.normal(size=128).astype(np.float32),
            "x": rng.normal(size=128).astype(np.float32) * 3, "y": rng.normal(size=128).astype(np.float32) * 3}
    entries = []
    for mid, v in vecs.items():
        save_dna(DNA(model_id=mid, vector=v, provenance=prov), tmp_path / f"{mid}.json")
        entries.append({"id": mid, "dna": f"{mid}.json", "release_date": "2024-01-01"})
    folder = tmp_path / "child-model"
    folder.mkdir()
    (folder / "README.md").write_text("---\nbase_model: parent\nbase_model_relation: finetune\nlicense: mit\n"
                                      "release_date: 2024-05-01\n---\n# child\n")
    entries[1] = {"id": "child", "dna": "child.json", "path": "child-model", "licence": "apache-2.0"}
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(e) for e in entries) + "\n")
    ingest(tmp_path / "m.jsonl", settings=settings)
    info = graph.query("model_info", model_id="child")[0]
    assert info["licence"] == "apache-2.0"  # the manifest wins
    assert info["release_date"].iso_format() == "2024-05-01"  # the card fills the gap
    up = [r for r in graph.query("lineage", model_id="child") if r["direction"] == "ancestor"]
    assert up[0]["model"] == "parent" and up[0]["sources"][0] == "model_card"


def test_a_model_replaced_at_the_same_path_is_extracted_again(settings, graph, population, tmp_path):
    import shutil

    rows = [json.loads(l) for l in population["manifest"].read_text().splitlines()[:6]]
    for r in rows:
        shutil.copy(population["dir"] / r["dna"], tmp_path / Path(r["dna"]).name)
        r["dna"] = Path(r["dna"]).name
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert ingest(tmp_path / "m.jsonl", settings=settings).n_extracted == 6
    replaced = tmp_path / rows[0]["dna"]
    data = json.loads(replaced.read_text())
    data["vector"] = [v + 0.5 for v in data["vector"]]  # new weights, same path
    replaced.write_text(json.dumps(data))
    again = ingest(tmp_path / "m.jsonl", settings=settings)
    assert (again.n_extracted, again.n_skipped) == (1, 5)
