"""`lineage import-metadata` against the real Neo4j: a generated Hub dump lands with the counts
the generator reports, the analysis and every shipped query ignore or tolerate models without
DNA, a model measured here keeps its DNA and gains the dump's ancestors (and keeps them across
a later ingest), and every malformed dump is one error line, exit 1, the graph unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lineage.pipeline.import_metadata import import_metadata
from lineage.zoo.hubdump import generate, write_dump
from tests.helpers.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.neo4j


def counts(graph) -> dict:
    return {(r["kind"], r["what"]): r["n"] for r in graph.query("graph_counts") if r["what"] != "IngestLock"}


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
    records, stats = generate(300, seed=5)
    path = write_dump(records, tmp_path_factory.mktemp("hub") / "hub.jsonl")
    return path, records, stats


def _deepest(records) -> str:
    """The id of a model three or more declarations below its base."""
    parent = {r["id"]: r["cardData"]["base_model"] for r in records
              if isinstance(r.get("cardData", {}).get("base_model"), str)}
    def depth(m):
        return 0 if m not in parent else 1 + depth(parent[m])
    return max(parent, key=lambda m: (depth(m), m))


def test_a_generated_dump_lands_with_its_counts_and_queries_tolerate_it(settings, graph, dump):
    path, records, stats = dump
    proc = run_cli("import-metadata", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    summary = {r["what"]: r["value"] for r in json.loads(proc.stdout)}
    assert summary["records in the dump"] == 300 and summary["models created (metadata only)"] == 300
    before = counts(graph)
    assert before[("node", "Model")] == 300
    assert before[("relationship", "DECLARED_PARENT")] == stats.n_edges
    assert graph.query("population") == []  # metadata-only models never enter the analysis
    # rerunning the same dump changes nothing
    assert run_cli("import-metadata", str(path)).returncode == 0
    assert counts(graph) == before
    deep = _deepest(records)
    rows = graph.query("lineage", model_id=deep)
    ancestors = [r for r in rows if r["direction"] == "ancestor"]
    assert max(r["generations"] for r in ancestors) >= 3
    assert {s for r in ancestors for s in r["sources"]} == {"hub-dump"}
    info = graph.query("model_info", model_id=deep)[0]
    assert info["status"] == "metadata" and info["has_dna"] is False
    assert info["declared_base_models_source"] in ("hub-dump:hub.jsonl:cardData.base_model",
                                                   "hub-dump:hub.jsonl:tags:base_model")
    # every shipped read query that needs no parameter runs on a graph of models without DNA
    for q in graph.library:
        if q.mode == "read" and all(not p.required for p in q.params) and q.database is None:
            graph.query(q.name)


def test_a_large_family_answers_bounded_nearest_generations_first_and_says_so(settings, graph, dump):
    """The Hub has bases with tens of thousands of descendants: `lineage`, `lineage_graph` and
    `report_lineage_edges` stop at `limit` relatives each way, found breadth-first, and the CLI
    says when an answer stopped at its limit. Pair queries tolerate models without DNA."""
    path, records, _ = dump
    assert run_cli("import-metadata", str(path)).returncode == 0
    base = records[0]["id"]  # the first base has the largest Zipf weight
    full = [r for r in graph.query("lineage", model_id=base, limit=10_000) if r["direction"] == "descendant"]
    assert len(full) > 8
    few = [r for r in graph.query("lineage", model_id=base, limit=5) if r["direction"] == "descendant"]
    assert len(few) == 5 and {r["model"] for r in few} <= {r["model"] for r in full}
    # breadth-first: the bounded answer holds the nearest generations
    assert max(r["generations"] for r in few) <= sorted(r["generations"] for r in full)[4]
    proc = run_cli("query", "lineage", "--param", f"model_id={base}", "--param", "limit=5", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 5 and "stopped at its limit of 5 rows" in proc.stderr
    unbounded = run_cli("query", "lineage", "--param", f"model_id={base}", "--param", "limit=10000")
    assert unbounded.returncode == 0 and "limit" not in unbounded.stderr

    # the Browser picture: the model, at most 5 descendants and the path nodes that join them
    paths = [r["p"] for r in graph.query("lineage_graph", model_id=base, limit=5)]
    drawn = {n["id"] for p in paths for n in p[::2]}
    assert base in drawn and 6 <= len(drawn) <= 1 + 5 * 6
    edges = graph.query("report_lineage_edges", model_id=base, limit=5)
    assert {e["source"] for e in edges} | {e["target"] for e in edges} == drawn

    # pair and neighbour queries on models without DNA: an answer, not an error
    child = min(full, key=lambda r: r["generations"])["model"]
    ev = graph.query("evidence", a=child, b=base)
    assert len(ev) == 1 and ev[0]["dna_distance"] is None and ev[0]["declared_child"] == child
    assert graph.query("nearest", model_id=base) == []


def test_a_measured_model_keeps_its_dna_and_gains_the_dumps_ancestors(settings, graph, tmp_path):
    from lineage.dna.synthetic import write_synthetic_population
    from lineage.pipeline.ingest import ingest

    pop = write_synthetic_population(tmp_path / "syn", 6, random_state=3)
    rows = [json.loads(line) for line in pop["manifest"].read_text().splitlines()]
    for r in rows:
        r["dna"] = str(pop["dir"] / r["dna"])
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ingest(manifest, settings=settings)
    undeclared = next(r["id"] for r in rows if not r.get("base_model"))
    declared = next(r for r in rows if r.get("base_model"))
    dna_before = {r["id"]: r["dna"] for r in graph.query("population")}
    hub = [
        {"id": undeclared, "cardData": {"base_model": "hub/tuned", "base_model_relation": "finetune",
                                         "license": "mit"}, "downloads": 5},
        {"id": declared["id"], "cardData": {"base_model": "hub/base"}, "likes": 2},
        {"id": "hub/tuned", "cardData": {"base_model": "hub/base", "base_model_relation": "finetune"}},
        {"id": "hub/base", "createdAt": "2023-01-02T00:00:00.000Z", "tags": ["license:apache-2.0"],
         "cardData": {"license": "other", "license_name": "qwen-research"}},
    ]
    path = tmp_path / "hub.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in hub) + "\n")
    rep = import_metadata(path, settings=settings)
    assert (rep.n_created, rep.n_measured, rep.n_kept_declarations) == (2, 2, 1)
    after = {r["id"]: r["dna"] for r in graph.query("population")}
    assert after == dna_before  # same models in the analysis, same DNAs
    info = graph.query("model_info", model_id=undeclared)[0]
    assert (info["status"], info["has_dna"], info["licence"]) == ("ok", True, "mit")
    assert info["licence_source"] == "hub-dump:hub.jsonl:cardData.license"
    base = graph.query("model_info", model_id="hub/base")[0]  # the card's licence over the tag, license_name kept
    assert (base["licence"], base["licence_source"]) == ("other: qwen-research", "hub-dump:hub.jsonl:cardData.license_name")
    assert str(base["release_date"]) == "2023-01-02"

    def ancestors(model_id):
        return {r["model"]: (r["generations"], r["sources"]) for r in graph.query("lineage", model_id=model_id)
                if r["direction"] == "ancestor"}

    assert ancestors(undeclared) == {"hub/tuned": (1, ["hub-dump"]), "hub/base": (2, ["hub-dump", "hub-dump"])}
    # the model with its own declaration keeps it: no edge to the dump's base
    kept = graph.query("model_info", model_id=declared["id"])[0]
    assert kept["declared_base_models"] == declared["base_model"]
    parents = {m for m, (generations, _) in ancestors(declared["id"]).items() if generations == 1}
    assert parents == set(declared["base_model"])
    # a later ingest recomputes the derived edges and keeps the documented ones
    ingest(manifest, settings=settings)
    assert ancestors(undeclared) == {"hub/tuned": (1, ["hub-dump"]), "hub/base": (2, ["hub-dump", "hub-dump"])}
    assert {r["id"] for r in graph.query("population")} == set(dna_before)


SEED = [{"id": "seed/a", "cardData": {"base_model": "seed/b"}}, {"id": "seed/b"}, {"id": "seed/c"}]


def _jsonl(records) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def _parquet_bytes(tmp_path: Path) -> bytes:
    records, _ = generate(50, seed=1)
    return write_dump(records, tmp_path / "ok.parquet").read_bytes()


BAD = {
    "missing-id": ("bad.jsonl", lambda t: _jsonl([{"id": "x/1"}, {"author": "x"}]), ["bad.jsonl:2", "no id"]),
    "wrong-type": ("bad.jsonl", lambda t: _jsonl([{"id": "x/1", "downloads": "12"}]),
                   ["bad.jsonl:1", "'x/1'", "downloads"]),
    "bad-relation": ("bad.jsonl", lambda t: _jsonl([{"id": "x/1", "cardData": {"base_model": "x/2",
                                                                                "base_model_relation": "copy"}}]),
                     ["bad.jsonl:1", "base_model_relation"]),
    "self-parent": ("bad.jsonl", lambda t: _jsonl([{"id": "x/1", "base_model": ["x/1"]}]),
                    ["bad.jsonl:1", "'x/1'", "its own base"]),
    "duplicate": ("bad.jsonl", lambda t: _jsonl([{"id": "x/1"}, {"id": "x/2"}, {"id": "x/1"}]),
                  ["bad.jsonl:3", "'x/1'", "twice", "bad.jsonl:1"]),
    "cycle": ("bad.jsonl", lambda t: _jsonl([{"id": "x/1", "base_model": "x/2"}, {"id": "x/2", "base_model": "x/1"}]),
              ["cycle", "'x/1' -> 'x/2' -> 'x/1'"]),
    "cycle-through-graph": ("bad.jsonl", lambda t: _jsonl([{"id": "seed/b", "base_model": "seed/a"}]),
                            ["bad.jsonl:1", "cycle", "graph"]),
    "not-utf8": ("bad.jsonl", lambda t: _jsonl([{"id": "x/1"}]) + b'{"id": "x/\xff2"}\n', ["bad.jsonl:2", "UTF-8"]),
    "truncated-line": ("bad.jsonl", lambda t: _jsonl([{"id": "x/1"}]) + b'{"id": "x/2", "tags": ["a', ["bad.jsonl:2", "cut off"]),
    "not-an-object": ("bad.jsonl", lambda t: b'["x/1"]\n', ["bad.jsonl:1", "JSON object"]),
    "truncated-parquet": ("bad.parquet", lambda t: _parquet_bytes(t)[:-200], ["bad.parquet", "Parquet"]),
    "corrupt-parquet": ("bad.parquet", lambda t: b"PAR1" + b"\x00garbage" * 50 + b"PAR1", ["bad.parquet", "Parquet"]),
}


def test_every_bad_dump_is_one_line_and_leaves_the_graph_unchanged(settings, graph, tmp_path):
    seed = tmp_path / "seed.jsonl"
    seed.write_bytes(_jsonl(SEED))
    import_metadata(seed, settings=settings)
    before = counts(graph)
    assert before[("node", "Model")] == 3 and before[("relationship", "DECLARED_PARENT")] == 1
    for case, (name, make, needles) in BAD.items():
        path = tmp_path / case / name
        path.parent.mkdir()
        path.write_bytes(make(tmp_path / case))
        proc = run_cli("import-metadata", str(path))
        line = assert_one_line_error(proc, *needles)
        assert counts(graph) == before, (case, line)


def test_unknown_fields_are_ignored_and_counted(settings, graph, tmp_path):
    path = tmp_path / "new.jsonl"
    path.write_bytes(_jsonl([{"id": "x/1", "futureField": 1, "sha": "abc"}, {"id": "x/2", "futureField": {"a": 1}}]))
    proc = run_cli("import-metadata", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    summary = {r["what"]: r["value"] for r in json.loads(proc.stdout)}
    assert summary["unknown fields ignored"] == 2  # sha is a known field of the model API
    assert summary["  most frequent"] == "futureField (2)"
    assert counts(graph)[("node", "Model")] == 2
