"""Precomputed DNA files are the user's claim, not a measurement: they are marked as such on the
node and refused when they cannot be a DNA (constant, vanishingly small, booleans or text read
as numbers). Each refusal fails that model alone, naming its file; the other models land."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.cli import assert_one_line_error, run_cli
from tests.reliability._hostile import counts, dna_file, jsonl, population

pytestmark = pytest.mark.neo4j

DIM = 128
BAD_VECTORS = {
    "all_zero": ([0.0] * DIM, "every value of the vector is 0"),
    "all_equal": ([0.25] * DIM, "every value of the vector is 0.25"),
    "booleans": ([True, False] * (DIM // 2), "index 0 is a JSON boolean"),
    "one_boolean": ([0.1 * i for i in range(DIM - 1)] + [True], f"index {DIM - 1} is a JSON boolean"),
    "vanishing": (list(np.random.default_rng(0).normal(size=DIM) * 1e-9), "vanishingly small"),
    "text_number": (["0.5"] * DIM, "index 0 is a str"),
    "nested": ([[0.1, 0.2]] * DIM, "index 0 is a list"),
    "not_a_list": ({"0": 0.5}, "must be a list of numbers"),
}


@pytest.mark.parametrize("case", sorted(BAD_VECTORS))
def test_a_dna_file_that_cannot_be_a_dna_fails_alone(case, tmp_path, graph):
    vector, needle = BAD_VECTORS[case]
    rows = population(tmp_path)
    bad = dna_file(tmp_path / "bad.json", "bad", vector=vector)
    rows.append({"id": "bad", "dna": "bad.json", "family": "g"})
    assert counts(graph) == {}
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    info = graph.query("model_info", model_id="bad")[0]
    assert info["status"] == "failed" and not info["has_dna"], info
    assert needle in info["error"] and str(bad) in info["error"], info["error"]
    after = counts(graph)
    assert after[("node", "Model")] == 5
    assert sum(r["status"] == "ok" for r in graph.query("models")) == 4
    # the refused model is in no derived relation: it cannot be anyone's parent or neighbour
    edges = graph.query("export_edges", types=["INFERRED_PARENT", "SIMILAR_TO", "UNDOCUMENTED_RELATION"])[0]["edges"]
    assert edges and not [e for e in edges if "bad" in e[:2]]


@pytest.mark.parametrize("case", ["all_zero", "booleans"])
def test_tree_refuses_the_same_files_in_one_line(case, tmp_path):
    files = [str(dna_file(tmp_path / f"d{i}.json", f"m{i}")) for i in range(3)]
    bad = dna_file(tmp_path / "bad.json", "bad", vector=BAD_VECTORS[case][0])
    assert_one_line_error(run_cli("tree", *files, str(bad), "--out", str(tmp_path / "out")),
                          str(bad), BAD_VECTORS[case][1])
    assert not (tmp_path / "out").exists()


def test_dna_source_says_file_for_a_precomputed_dna(tmp_path, graph):
    rows = population(tmp_path, n=3)
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)))
    assert proc.returncode == 0, proc.stderr
    assert {r["model"]: r["dna_source"] for r in (graph.query("provenance", model_id=f"ok{i}")[0] for i in range(3))} \
        == {"ok0": "file", "ok1": "file", "ok2": "file"}
    out = run_cli("query", "provenance", "--param", "model_id=ok1", "--format", "json")
    assert out.returncode == 0 and '"dna_source": "file"' in out.stdout, out.stdout + out.stderr


def test_a_real_dna_file_is_still_accepted(tmp_path):
    """The checks refuse what cannot be a DNA, not unusual DNAs: small-valued, sparse, negative."""
    from lineage.loaders.precomputed import load_precomputed

    v = np.zeros(DIM)
    v[:3] = [-1e-3, 2e-4, 5e-5]  # mostly zero, RMS about 1e-4: kept
    d = load_precomputed(dna_file(tmp_path / "sparse.json", "s", vector=[float(x) for x in v]))
    assert np.allclose(d.vector, v.astype(np.float32))
