"""Latency of every shipped read query on a large graph (issue 23: p95 < 100 ms at 1,000,000 models).

Two steps, so the slow one runs once:

``--build N``
    CLEARS the graph the environment names, imports a synthetic Hub dump of ``N`` models
    (:mod:`lineage.zoo.hubdump`, the Hub's proportions) with ``lineage import-metadata``, then
    gives it what an analysis writes, drawn from the dump's own declarations so the shapes are
    the Hub's (statements in ``bench_queries.cypher``):

    * an inferred parent for 90% of declared models (the declared one: the analysis agreed)
      and for 10% of undocumented ones (a random model of an earlier-created family base,
      with an undocumented relation, as the analysis reports an undeclared derivative);
    * 1% of declarations marked contradicted;
    * families (each model's root base), family nodes with a speed;
    * licence obligations from each derived model to its root base (a conflict where the
      model's licence differs from the base's), licence status on every model;
    * DNAs (128 floats, seeded) for ``--dna`` models, indexed by the vector index.

    It is not an analysis: the relations are placed where an analysis would put them, so the
    queries walk the Hub's shapes (a base with tens of thousands of descendants, depth to 6,
    merges with up to 4 parents). Similarity edges are not written (no shipped query walks them
    beyond one pair).

``--run`` (default)
    Runs each shipped read query (``// example:`` in its header; the exports, which read the
    whole graph by design, are reported apart) on parameters drawn from the graph: random
    models, the deepest models, and the base with the most descendants (the worst case), once
    to plan, then ``--runs`` times. Prints a table of median / p95 / max milliseconds and rows.

    python benchmarks/bench_queries.py --build 1000000 --dna 100000
    python benchmarks/bench_queries.py --runs 20
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
# reads of the whole graph by design, timed and reported apart from the interactive target:
# exports and what the licence recompute and the importer read ("bulk"), the audits a policy
# runs, which must see every violation and are never cut ("audit"), and whole-graph
# questions ("scan": the deepest chain anywhere, counts of everything)
CLASS = {**{q: "bulk" for q in ("export_edges", "export_models", "licence_edges", "licence_models",
                                 "import_metadata_declared")},
         **{q: "audit" for q in ("licence_conflicts", "non_commercial_ancestry", "unknown_licences")},
         **{q: "scan" for q in ("deepest_descendant", "graph_counts")}}
# shipped for maintenance, not for answers
SKIP = {"clear_graph", "clear_graph_locked", "import_metadata_targets", "schema_info", "ingest_lock_holder"}


def _statements() -> dict[str, str]:
    out, name = {}, None
    for line in (HERE / "bench_queries.cypher").read_text().splitlines():
        if line.startswith("// -- "):
            name = line[6:].strip()
            out[name] = ""
        elif name and not line.startswith("//"):
            out[name] += line + "\n"
    return out


def _write(g, stmt: str, rows: list[dict], batch: int = 10_000) -> None:
    with g.driver.session(database=g.settings.neo4j_database) as s:
        for i in range(0, len(rows), batch):
            chunk = rows[i:i + batch]
            s.execute_write(lambda tx: tx.run(stmt, {"rows": chunk}).consume())


def build(n: int, n_dna: int, seed: int) -> dict:
    from lineage.graph.lock import clear_graph
    from lineage.graph.store import Graph
    from lineage.pipeline.import_metadata import import_metadata
    from lineage.settings import load_settings
    from lineage.zoo.hubdump import generate, write_dump

    settings = load_settings()
    rng = np.random.default_rng(seed)
    st = _statements()
    out: dict = {"n": n}
    t0 = time.perf_counter()
    records, _ = generate(n, seed)
    ids = [r["id"] for r in records]
    parents: dict[str, list[str]] = {}
    licence: dict[str, str | None] = {}
    for r in records:
        ps = [t[len("base_model:"):] for t in r["tags"] if t.startswith("base_model:") and t.count(":") == 1]
        parents[r["id"]] = ps
        licence[r["id"]] = next((t[len("license:"):] for t in r["tags"] if t.startswith("license:")), None)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_dump(records, Path(tmp) / "hub.parquet")
        del records
        with Graph(settings) as g:
            g.bootstrap_schema()
            clear_graph(g)
        t = time.perf_counter()
        import_metadata(path, settings=settings)
        out["seconds_import"] = round(time.perf_counter() - t, 1)

    # root base of every model (records list parents first), generation below it
    root: dict[str, str] = {}
    gen: dict[str, int] = {}
    for m in ids:
        ps = parents[m]
        root[m] = root[ps[0]] if ps else m
        gen[m] = gen[ps[0]] + 1 if ps else 0
    family_size: dict[str, int] = {}
    for m in ids:
        family_size[root[m]] = family_size.get(root[m], 0) + 1
    bases = [b for b, k in family_size.items() if k > 1]
    documented = [m for m in ids if parents[m]]
    alone = [m for m in ids if not parents[m] and family_size.get(m, 1) == 1]

    t = time.perf_counter()
    with Graph(settings) as g:
        inferred, undocumented, contradicted = [], [], []
        kinds = ("finetune", "quantized", "adapter", "merge")
        for m in documented:
            if rng.random() < 0.9:
                inferred.append({"child": m, "parent": parents[m][0], "kind": kinds[rng.integers(4)],
                                 "channel": "weights", "confidence": float(rng.uniform(0.5, 1.0)),
                                 "distance": float(rng.uniform(0, 0.5)), "evidence": "{}"})
            if rng.random() < 0.01:
                contradicted.append({"child": m, "parent": parents[m][0], "p_value": float(rng.uniform(0.1, 1)),
                                     "distance": float(rng.uniform(1, 2))})
        base_arr = np.array(bases)
        for m in alone:
            if rng.random() < 0.1:
                p = str(base_arr[rng.integers(len(base_arr))])
                inferred.append({"child": m, "parent": p, "kind": "finetune", "channel": "dna",
                                 "confidence": float(rng.uniform(0.3, 1.0)), "distance": float(rng.uniform(1, 2)),
                                 "evidence": "{}"})
                undocumented.append({"child": m, "parent": p, "p_value": float(10 ** -rng.uniform(3, 12)),
                                     "score": float(rng.uniform(0, 5)), "channel": "dna"})
                root[m] = p
        _write(g, st["inferred"], inferred)
        _write(g, st["undocumented"], undocumented)
        _write(g, st["contradicted"], contradicted)
        below: dict[str, int] = {}
        for m in ids:
            if root[m] != m:
                below[root[m]] = below.get(root[m], 0) + 1
        _write(g, st["family"], [{"id": m, "family": root[m], "n_descendants": below.get(m, 0)} for m in ids])
        _write(g, st["family_nodes"], [{"name": b, "n_models": family_size[b], "slope": float(rng.normal()),
                                        "speed": float(abs(rng.normal())), "r2": float(rng.uniform()),
                                        "span_days": int(rng.integers(30, 1500))} for b in bases])
        obligations = []
        for m in documented:
            b = root[m]
            lb = licence.get(b)
            if lb is None:
                continue
            conflict = licence.get(m) != lb
            obligations.append({"child": m, "origin": b, "kind": "non_commercial" if "nc" in lb else "attribution",
                                "status": "dropped" if conflict else "carried", "conflict": conflict,
                                "inferred_only": False, "licence": lb, "generations": gen[m],
                                "path": [m, b], "sources": ["model_card"]})
        _write(g, st["obligation"], obligations)
        _write(g, st["licence_status"], [{"id": m, "licence_status": "known" if licence.get(m) else "none",
                                          "licence_id": licence.get(m)} for m in ids])
        pick = rng.choice(len(ids), size=min(n_dna, len(ids)), replace=False)
        dna = rng.standard_normal((len(pick), 128)).astype(np.float32)
        _write(g, st["dna"], [{"id": ids[i], "dna": dna[k].tolist()} for k, i in enumerate(pick)], batch=2000)
        g.driver.execute_query("CALL db.awaitIndexes(3600)", database_=g.settings.neo4j_database)
    out.update(seconds_enrich=round(time.perf_counter() - t, 1), inferred=len(inferred), undocumented=len(undocumented),
               contradicted=len(contradicted), obligations=len(obligations), dnas=len(pick),
               seconds_total=round(time.perf_counter() - t0, 1),
               peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    return out


def _sample_params(g, rng, k: int) -> dict:
    """Parameters drawn from the graph: random models, deep ones, the largest base."""
    db = g.settings.neo4j_database
    run = lambda q, **p: [r.data() for r in g.driver.execute_query(q, p, database_=db).records]  # noqa: E731
    n = run("MATCH (m:Model) RETURN count(m) AS n")[0]["n"]
    # random models by the id index: skip to random offsets is O(offset); sample by id ranges instead
    ids = [r["id"] for r in run("MATCH (m:Model) WITH m WHERE rand() < $f RETURN m.id AS id LIMIT $k",
                                f=min(1.0, 5.0 * k / max(n, 1)), k=k)]
    largest = run("MATCH (m:Model) WHERE m.n_descendants IS NOT NULL "
                  "RETURN m.id AS id ORDER BY m.n_descendants DESC LIMIT 1")
    licensed = run("MATCH (m:Model) WHERE m.n_descendants IS NOT NULL AND m.licence_id IS NOT NULL "
                   "RETURN m.id AS id ORDER BY m.n_descendants DESC LIMIT 1")
    deep = [r["id"] for r in run(
        "MATCH p = (m:Model)-[:DECLARED_PARENT]->{5,6}(:Model) RETURN DISTINCT m.id AS id LIMIT $k", k=k)]
    pairs = [(r["a"], r["b"]) for r in run(
        "MATCH (a:Model)-[:INFERRED_PARENT]->(b:Model) WITH a, b WHERE rand() < 0.01 "
        "RETURN a.id AS a, b.id AS b LIMIT $k", k=k)]
    vec = run("MATCH (m:Model) WHERE m.dna IS NOT NULL RETURN m.dna AS v LIMIT 1")
    return {"n": n, "random": ids, "largest": largest[0]["id"] if largest else None, "deep": deep,
            "largest_licensed": licensed[0]["id"] if licensed else None,
            "pairs": pairs, "vector": vec[0]["v"] if vec else None}


def run_queries(runs: int, seed: int, exports: bool = False) -> dict:
    from lineage.errors import QueryError
    from lineage.graph.queries import load_library
    from lineage.graph.store import Graph
    from lineage.settings import load_settings

    rng = np.random.default_rng(seed)
    lib = load_library()
    out: dict = {"queries": []}
    with Graph(load_settings()) as g:
        sp = _sample_params(g, rng, runs)
        out["n_models"] = sp["n"]
        for q in lib:
            if q.mode != "read" or not q.example or q.name in SKIP:
                continue
            klass = CLASS.get(q.name, "interactive")
            if klass == "bulk" and not exports:
                continue
            names = {p.name for p in q.params}
            cases: list[tuple[str, list[dict]]] = []
            if "model_id" in names:
                cases = [("random models", [{"model_id": m} for m in sp["random"]]),
                         ("deepest models", [{"model_id": m} for m in sp["deep"]])]
                if sp["largest"]:
                    cases.append(("largest base", [{"model_id": sp["largest"]}] * max(3, runs // 4)))
            elif "base_id" in names:
                cases = [("random models", [{"base_id": m} for m in sp["random"]])]
                if sp["largest"]:
                    cases.append(("largest base", [{"base_id": sp["largest"]}] * max(3, runs // 4)))
                if sp["largest_licensed"]:
                    cases.append(("largest licensed base", [{"base_id": sp["largest_licensed"]}] * max(3, runs // 4)))
            elif {"a", "b"} <= names:
                cases = [("inferred pairs", [{"a": a, "b": b} for a, b in sp["pairs"]])]
            elif "vector" in names:
                if sp["vector"] is None:
                    continue
                cases = [("a stored DNA", [{"vector": sp["vector"]}] * runs)]
            else:
                cases = [("defaults", [{}] * runs)]
            if klass != "interactive":
                cases = [(label, psets[:2]) for label, psets in cases]
            for label, psets in cases:
                if not psets:
                    continue
                try:
                    g.query(q.name, **psets[0])  # plans the query: not timed
                except QueryError as e:  # e.g. an export outgrowing the server's transaction memory
                    out["queries"].append({"query": q.name, "case": label, "error": str(e)[:160],
                                           "class": CLASS.get(q.name, "interactive")})
                    print(json.dumps(out["queries"][-1]), file=sys.stderr, flush=True)
                    continue
                times, rows = [], 0
                for p in psets:
                    t = time.perf_counter()
                    rows = len(g.query(q.name, **p))
                    times.append(time.perf_counter() - t)
                ms = np.array(times) * 1000
                out["queries"].append({"query": q.name, "case": label, "runs": len(ms),
                                       "median_ms": round(float(np.median(ms)), 1),
                                       "p95_ms": round(float(np.percentile(ms, 95)), 1),
                                       "max_ms": round(float(ms.max()), 1), "rows_last": rows,
                                       "class": CLASS.get(q.name, "interactive")})
                print(json.dumps(out["queries"][-1]), file=sys.stderr, flush=True)  # partial results survive
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", type=int, default=0, metavar="N", help="clear the graph and build one of N models")
    ap.add_argument("--dna", type=int, default=100_000, help="models given a DNA when building")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--exports", action="store_true",
                    help="time the bulk reads too (exports, the licence recompute's and the importer's reads; each runs twice; "
                         "at 1,000,000 models on a 1 GB heap export_edges outgrows the transaction memory, "
                         "and the driver retries it for minutes)")
    a = ap.parse_args(argv)
    if a.build:
        json.dump(build(a.build, a.dna, a.seed), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    res = run_queries(a.runs, a.seed, a.exports)
    print(f"{res['n_models']:,} models; {a.runs} runs per case after one planning run; milliseconds")
    print(f"| query | case | median | p95 | max | rows | under 100 ms |")
    print("|---|---|---|---|---|---|---|")
    for r in sorted(res["queries"], key=lambda r: (r["class"] != "interactive", r["class"], r["query"], r["case"])):
        if "error" in r:
            print(f"| `{r['query']}` | {r['case']} | failed: {r['error']} | | | | {r['class']} |")
            continue
        ok = r["class"] if r["class"] != "interactive" else ("yes" if r["p95_ms"] < 100 else "**no**")
        print(f"| `{r['query']}` | {r['case']} | {r['median_ms']} | {r['p95_ms']} | {r['max_ms']} | {r['rows_last']} | {ok} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
