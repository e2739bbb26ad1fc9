"""The full analysis's write in bounded transactions (lineage.pipeline.ingest.write_full_analysis).

On a real Neo4j, with the chunk size made small (``write_chunk_rows``): the graph a chunked
write leaves equals the one an unchunked write leaves (every write query's rows in one
transaction), relationship for relationship, duplicates counted; and a write stopped
between two chunks leaves the ``:Analysis`` node ``writing``, which the next ingest refuses
to place onto and repairs with a full analysis, even when it brings no new model.

The stop is injected through ingest's own ``progress`` hook (a real code path: it runs
between chunks), not through a mock of Neo4j.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from lineage.dna.synthetic import write_synthetic_population
from lineage.pipeline.ingest import ingest

pytestmark = pytest.mark.neo4j

N, BATCH = 260, 26
DERIVED = ("SIMILAR_TO", "INFERRED_PARENT", "UNDOCUMENTED_RELATION", "DECLARED_PARENT", "IN_FAMILY", "WEIGHTS_MATCH",
           "BRANCH", "OBLIGATION_FROM")
VOLATILE = {"analysed", "analysis_id", "started", "placed"}  # times and ids of the write itself


class Stop(Exception):
    """What the progress hook raises between two chunks."""


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    out = tmp_path_factory.mktemp("fullwrite")
    paths = write_synthetic_population(out, N, random_state=7)
    lines = paths["manifest"].read_text().splitlines()
    (out / "base.jsonl").write_text("\n".join(lines[:-BATCH]) + "\n")
    return {"all": paths["manifest"], "base": out / "base.jsonl"}


def _settings(settings, chunk: int):
    return settings.model_copy(update={"place_min_models": 100, "write_chunk_rows": chunk})


def _raw(graph, cypher):
    return [dict(r) for r in graph._driver.execute_query(cypher, database_=graph.settings.neo4j_database).records]


def _freeze(props: dict) -> tuple:
    return tuple(sorted((k, json.dumps(v, sort_keys=True, default=str)) for k, v in props.items()))


def _snapshot(graph) -> dict:
    """Everything a full analysis writes, as multisets (a duplicated relationship counts twice)."""
    name = "coalesce(x.id, x.name)"
    rels = Counter(
        (r["t"], r["a"], r["b"], _freeze(r["p"])) for r in _raw(
            graph, f"MATCH (a)-[r]->(b) WHERE type(r) IN {list(DERIVED)!r} "
                   f"RETURN type(r) AS t, {name.replace('x', 'a')} AS a, {name.replace('x', 'b')} AS b, properties(r) AS p"))
    nodes = Counter((tuple(sorted(r["labels"])), _freeze(r["p"])) for r in _raw(
        graph, "MATCH (n) WHERE n:Clade OR n:Family RETURN labels(n) AS labels, properties(n) AS p"))
    models = {r["id"]: _freeze(r["p"]) for r in _raw(
        graph, "MATCH (m:Model) RETURN m.id AS id, m {.n_descendants, .knn_radius, .declared_component, .sample_key, "
               ".licence_digest, .n_obligations} AS p")}
    state = [{k: v for k, v in r["s"].items() if k not in VOLATILE}
             for r in _raw(graph, "MATCH (a:Analysis) RETURN properties(a) AS s")]
    return {"relationships": rels, "nodes": nodes, "models": models, "state": state}


def _stop_after(n_chunks: int):
    seen = []

    def hook(event, info):
        if event == "write_chunk":
            seen.append(info)
            if len(seen) == n_chunks:
                raise Stop(f"stopped after chunk {n_chunks} of {info['total']}")
    return hook, seen


def test_a_chunked_write_equals_the_unchunked_one(settings, graph, population):
    # unchunked: every write query's rows in one transaction; the second --full replaces a whole analysis
    ingest(population["base"], settings=_settings(settings, 10**6))
    ingest(population["all"], settings=_settings(settings, 10**6), full=True)
    whole = _snapshot(graph)
    assert whole["relationships"] and whole["state"][0]["status"] == "complete"
    assert sum(n for (t, *_), n in whole["relationships"].items() if t == "SIMILAR_TO") == N * 10

    hook, seen = _stop_after(-1)  # never stops: counts the chunks
    rep = ingest(population["all"], settings=_settings(settings, 7), full=True, progress=hook)
    assert rep.analysis == "full"
    # 2,600 similarity edges alone need 372 chunks of 7 rows: the write really was cut up
    assert seen[-1]["done"] == seen[-1]["total"] >= 372 + 1
    assert _snapshot(graph) == whole


def test_a_write_stopped_between_chunks_is_refused_for_placement_and_redone(settings, graph, population):
    clean = None
    ingest(population["all"], settings=_settings(settings, 10**6))
    clean = _snapshot(graph)
    graph.query("clear_graph")

    # the base's full analysis stops after its 5th chunk of 40 rows
    hook, seen = _stop_after(5)
    with pytest.raises(Stop):
        ingest(population["base"], settings=_settings(settings, 40), progress=hook)
    state = graph.query("analysis_state")[0]["state"]
    assert state["status"] == "writing" and "version" not in state
    written = _raw(graph, "MATCH ()-[r:DECLARED_PARENT|SIMILAR_TO]->() RETURN count(r) AS n")[0]["n"]
    assert 0 < written <= 5 * 40  # half-written: the first five chunks' edges, no more
    assert [e["done"] for e in seen] == [1, 2, 3, 4, 5] and seen[-1]["total"] > 5
    run = _raw(graph, "MATCH (r:Run) RETURN r.status AS status")
    assert [r["status"] for r in run] == ["failed"]

    # a batch that could be placed onto a complete analysis of the base is analysed in full instead
    rep = ingest(population["all"], settings=_settings(settings, 40))
    assert rep.analysis == "full"
    assert rep.analysis_note.startswith("the last full analysis (")
    assert rep.analysis_note.endswith("stopped before it finished writing; it is written again in full")
    assert _snapshot(graph) == clean

    # and with no new model at all: a stopped write is redone, not left "unchanged"
    hook, _ = _stop_after(3)
    with pytest.raises(Stop):
        ingest(population["all"], settings=_settings(settings, 40), full=True, progress=hook)
    again = ingest(population["all"], settings=_settings(settings, 40))
    assert again.analysis == "full", again.analysis_note
    assert _snapshot(graph) == clean
    # once complete, the next batch of nothing leaves it as it is
    assert ingest(population["all"], settings=_settings(settings, 40)).analysis == "unchanged"
