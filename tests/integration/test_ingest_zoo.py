"""The main job on the tiny zoo against the real Neo4j: real models, real encoder, real server.

Covers: every shipped read query on a real population, reruns, and an ingest killed midway
and rerun. The README's main job (`lineage demo`) runs in tests/cli/test_readme_quickstart.py."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lineage.dna.record import GenerationConfig
from lineage.dna.extract import ExtractConfig
from lineage.core.infer.population import analyse
from lineage.pipeline.ingest import ingest, population_from_graph
from lineage.manifest import load_manifest, load_truth
from tests.helpers.cli import wait_for_lines
from tests.helpers.graph import assert_queries_match_core

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

N_PROBES, MAX_NEW = 20, 16
FLAGS = ["--n-probes", str(N_PROBES), "--max-new-tokens", str(MAX_NEW)]


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    from lineage.zoo import build_zoo

    return build_zoo(profile="tiny", seed=0, out=tmp_path_factory.mktemp("zoo") / "tiny")


@pytest.fixture(scope="module")
def config():
    return ExtractConfig(n_probes=N_PROBES, generation=GenerationConfig(max_new_tokens=MAX_NEW))


def counts(graph) -> dict:
    return {(r["kind"], r["what"]): r["n"] for r in graph.query("graph_counts")}


def test_tiny_zoo_ingest_and_every_query(settings, graph, zoo, config):
    rep = ingest(zoo.manifest_path, settings=settings, extract_config=config)
    manifest = load_manifest(zoo.manifest_path)
    truth = load_truth(zoo.truth_path)
    ids = manifest.ids()
    assert rep.n_models == len(ids) and rep.n_failed == 0, rep.failures
    before = counts(graph)
    assert before[("node", "Model")] == len(ids)

    # models / model_info / provenance
    listed = graph.query("models")
    assert sorted(r["model"] for r in listed) == sorted(ids)
    paths = {e.id: Path(e.path) for e in manifest.models}
    for r in listed:
        info = graph.query("model_info", model_id=r["model"])[0]
        assert info["has_dna"] and info["status"] == "ok"
        (weights,) = paths[r["model"]].glob("*.safetensors")  # tiny zoo models are one file each
        assert info["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
        prov = graph.query("provenance", model_id=r["model"])[0]
        assert prov["n_probes"] == N_PROBES and prov["run"] == rep.run_id
        assert json.loads(prov["generation"])["max_new_tokens"] == MAX_NEW
    # the bills of materials carry those hashes
    from lineage.export.cyclonedx import to_cyclonedx
    from lineage.export.spdx import to_spdx
    from lineage.graph.export import read_export_data

    data = read_export_data(graph)
    sha = {r["model"]: graph.query("model_info", model_id=r["model"])[0]["weights_sha256"] for r in listed}
    bom = json.loads(to_cyclonedx(data))
    assert sorted(c["hashes"][0]["content"] for c in bom["components"]) == sorted(sha.values())
    spdx = json.loads(to_spdx(data))
    packages = [o for o in spdx["@graph"] if o["type"] == "ai_AIPackage"]
    assert sorted(o["verifiedUsing"][0]["hashValue"] for o in packages) == sorted(sha.values())

    # lineage: every declared parent shows as a declared ancestor one generation up
    declared = [(e.id, p) for e in manifest.models for p in e.base_model]
    assert declared, "the tiny zoo documents some edges"
    for child, parent in declared:
        rows = graph.query("lineage", model_id=child)
        one_up = [r for r in rows if r["direction"] == "ancestor" and r["model"] == parent]
        assert one_up and one_up[0]["generations"] == 1 and "declared" in one_up[0]["all_evidence"]
        down = graph.query("lineage", model_id=parent)
        assert any(r["direction"] == "descendant" and r["model"] == child for r in down)

    # models: a limit smaller than the families' models gives that many distinct rows, in family order
    few = graph.query("models", limit=3)
    assert len(few) == 3 == len({r["model"] for r in few}), few
    assert all(r["family"] is not None for r in few)
    assert [(r["family"], r["released"] or "~", r["model"]) for r in few] == sorted(
        (r["family"], r["released"] or "~", r["model"]) for r in few)

    # nearest: k rows, sorted, never the model itself
    some = ids[0]
    near = graph.query("nearest", model_id=some, k=3)
    assert len(near) == 3 and some not in [r["model"] for r in near]
    assert [r["distance"] for r in near] == sorted(r["distance"] for r in near)

    # undocumented / conflicts / families agree with the numeric core on the same population
    pop = population_from_graph(graph, settings)
    assert all(w is not None for w in pop.weights), "every tiny-zoo model is a safetensors folder"
    a = analyse(pop, k=10)
    assert_queries_match_core(graph, a)
    # every inferred parent says which channel decided, what kind of derivation it suggests, and on what evidence
    inferred = {(p.child, p.parent): p for p in a.parents}
    assert inferred, "the tiny zoo has related models"
    true_edges = {(e.child, e.parent): e.relation for e in truth.edges}
    for (child, parent), p in inferred.items():
        rows = graph.query("evidence", a=child, b=parent)
        assert len(rows) == 1 and rows[0]["inferred_child"] == child and rows[0]["inferred_kind"] == p.kind
        channels = [e["channel"] for e in json.loads(rows[0]["inferred_evidence"])]
        assert p.channel in channels and "dna" in channels  # the deciding channel, and the DNA always
        if p.channel == "weights":
            assert rows[0]["weights_related"] and rows[0]["weight_p_value"] <= 0.01
    # on the tiny zoo the weights recover every shared-weight edge (the distilled student shares none)
    shared = {k: r for k, r in true_edges.items() if r != "distillation"}
    assert {k for k in shared if k in inferred} == set(shared), sorted(set(shared) - set(inferred))
    # every inferred parent predates its child
    dates = dict(zip(pop.ids, pop.release_dates))
    for p in a.parents:
        assert dates[p.parent] <= dates[p.child]
    # the true genealogy's families are what the zoo says
    assert {m.id for m in truth.models} == set(ids)

    # rerunning changes nothing
    again = ingest(zoo.manifest_path, settings=settings, extract_config=config)
    assert again.n_skipped == len(ids)
    assert counts(graph) == before


def test_ingest_killed_midway_then_rerun_completes(settings, graph, zoo, tmp_path):
    env = {**os.environ, "LINEAGE_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "lineage", "ingest", str(zoo.manifest_path), *FLAGS]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_for_lines(proc, "done: ", 2, timeout=300)  # ingest says "done: <id>" per model written
    assert sum(r["status"] == "ok" for r in graph.query("models")) >= 2
    assert proc.poll() is None, "ingest finished before it could be killed; the test needs a slower batch"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # No model without its DNA: everything written is complete.
    for r in graph.query("models"):
        assert graph.query("model_info", model_id=r["model"])[0]["has_dna"]
    # The dead ingest's lock is taken over (same host, dead pid) and the rerun completes.
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    ids = load_manifest(zoo.manifest_path).ids()
    listed = graph.query("models")
    assert sorted(r["model"] for r in listed) == sorted(ids)  # no duplicates, nothing missing
    assert all(graph.query("model_info", model_id=i)[0]["has_dna"] for i in ids)
    assert ("node", "IngestLock") not in counts(graph)

