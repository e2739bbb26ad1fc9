"""Bad input through the real CLI: one line naming the item and the fix, exit 1, nothing written."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers.cli import assert_one_line_error, run_cli

BAD_MANIFESTS = {
    "invalid_yaml.yaml": ("models:\n  - id: a\n    path: [unclosed\n", "invalid YAML"),
    "invalid_json.jsonl": ('{"id": "a", "dna": "x.json"}\n{"id": "b", dna: }\n', ":2: invalid JSON"),
    "no_source.yaml": ("models:\n  - id: a\n    family: f\n", "needs a source"),
    "unknown_field.yaml": ("models:\n  - id: a\n    dna: x.json\n    colour: red\n", "colour"),
    "duplicate.yaml": ("models:\n  - id: a\n    dna: x.json\n  - id: a\n    dna: y.json\n", "duplicate id 'a'"),
    "bad_date.yaml": ("models:\n  - id: a\n    dna: x.json\n    release_date: 2024-13-45\n", "release_date"),
    "two_sources.yaml": ("models:\n  - id: a\n    path: m\n    hub_id: org/m\n", "only one of"),
    "empty.yaml": ("", "non-empty list"),
    "endpoint_without_model.yaml": ("models:\n  - id: a\n    endpoint: http://127.0.0.1:1/v1\n", "endpoint_model"),
}


@pytest.mark.neo4j
@pytest.mark.parametrize("name", sorted(BAD_MANIFESTS))
def test_malformed_manifest_is_refused_before_anything_is_written(name, tmp_path, graph):
    text, needle = BAD_MANIFESTS[name]
    path = tmp_path / name
    path.write_text(text)
    proc = run_cli("ingest", str(path))
    line = assert_one_line_error(proc, needle)
    assert name in line  # names the file
    assert graph.query("graph_counts") == []


def test_missing_manifest(tmp_path):
    assert_one_line_error(run_cli("ingest", str(tmp_path / "nope.yaml")), "does not exist")


def test_unknown_query_and_missing_parameter():
    assert_one_line_error(run_cli("query", "no_such_query"), "unknown query 'no_such_query'")
    proc = run_cli("query", "lineage")
    assert_one_line_error(proc, "needs parameter 'model_id'")
    assert "--param model_id=" in proc.stderr
    assert_one_line_error(run_cli("query", "lineage", "--param", "nokey"), "not key=value")
    assert_one_line_error(run_cli("query", "lineage", "--param", "model_id=x", "--param", "bogus=1"),
                          "has no parameter 'bogus'")
    assert_one_line_error(run_cli("query", "clear_graph"), "writes to the graph")


def _dna_file(path, model_id, dim=128, **prov_changes):
    from lineage.dna.record import DNA, Provenance
    from lineage.dna.files import save_dna
    from lineage.dna.synthetic import SYNTHETIC_PROVENANCE

    prov = Provenance(**{**SYNTHETIC_PROVENANCE, "dna_dim": dim, **prov_changes})
    v = np.random.default_rng(abs(hash(model_id)) % 2**32).normal(size=dim).astype(np.float32)
    save_dna(DNA(model_id=model_id, vector=v, provenance=prov), path)


@pytest.mark.neo4j
def test_dna_of_other_dimension_or_provenance_is_recorded_as_failed(tmp_path, graph, settings):
    for i in range(4):
        _dna_file(tmp_path / f"ok{i}.json", f"ok{i}")
    _dna_file(tmp_path / "small.json", "small", dim=64)
    _dna_file(tmp_path / "other.json", "other", encoder="another-encoder")
    (tmp_path / "garbage.json").write_text("{not json")
    rows = [{"id": f"ok{i}", "dna": f"ok{i}.json"} for i in range(4)]
    rows += [{"id": "small", "dna": "small.json"}, {"id": "other", "dna": "other.json"},
             {"id": "garbage", "dna": "garbage.json"}]
    m = tmp_path / "m.jsonl"
    m.write_text("\n".join(json.dumps(r) for r in rows))
    proc = run_cli("ingest", str(m))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    for mid, needle in (("small", "dimension 64"), ("other", "other settings"), ("garbage", "not valid JSON")):
        info = graph.query("model_info", model_id=mid)[0]
        assert info["status"] == "failed" and not info["has_dna"] and needle in info["error"], info
    assert sum(r["status"] == "ok" for r in graph.query("models")) == 4


@pytest.mark.neo4j
def test_hostile_model_ids_are_stored_and_queried_verbatim(tmp_path, graph, settings):
    from lineage.pipeline.ingest import ingest

    ids = ["quote's \"double\"", "back`tick`", "ünïcødé/模型", "x'}) DETACH DELETE (n) //", "$param {id: 1}"]
    rows = []
    for i, mid in enumerate(ids):
        _dna_file(tmp_path / f"m{i}.json", mid)
        rows.append({"id": mid, "dna": f"m{i}.json", "family": "weird"})
    m = tmp_path / "m.jsonl"
    m.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    rep = ingest(m, settings=settings)
    assert rep.n_failed == 0
    stored = sorted(r["model"] for r in graph.query("models"))
    assert stored == sorted(ids)
    for mid in ids:
        assert graph.query("model_info", model_id=mid)[0]["id"] == mid
    proc = run_cli("query", "model_info", "--param", f"model_id={ids[3]}", "--format", "json")
    assert proc.returncode == 0 and json.loads(proc.stdout)[0]["id"] == ids[3]


@pytest.mark.neo4j
def test_second_concurrent_ingest_fails_clearly(tmp_path, graph, settings):
    for i in range(3):
        _dna_file(tmp_path / f"ok{i}.json", f"ok{i}")
    m = tmp_path / "m.jsonl"
    m.write_text("\n".join(json.dumps({"id": f"ok{i}", "dna": f"ok{i}.json"}) for i in range(3)))
    graph.query("acquire_ingest_lock", owner="otherhost:1:abcd")  # an ingest running elsewhere
    try:
        assert_one_line_error(run_cli("ingest", str(m)), "another ingest (otherhost:1:abcd")
        assert graph.query("graph_counts") == [{"kind": "node", "what": "IngestLock", "n": 1}]
    finally:
        graph.query("release_ingest_lock", owner="otherhost:1:abcd")
    assert run_cli("ingest", str(m)).returncode == 0
