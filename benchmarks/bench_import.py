"""Benchmark `lineage import-metadata`: a synthetic Hub dump into an empty Neo4j.

Generates a dump at the Hub's proportions (:mod:`lineage.zoo.hubdump`), imports it into the
graph the environment names (``LINEAGE_NEO4J_URI`` ...; it must be a throw-away database: it
is cleared first), and reports the time of each part, records per second, the peak RSS of
this process, and the p95 latency of the ``lineage`` query (on the deepest models and on the
bases with the most descendants) and of the ``models`` and ``undocumented`` queries.

Usage (a Neo4j of your own, see docs/benchmarks.md)::

    nice -n 10 python benchmarks/bench_import.py --n 1000000 --format parquet
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", choices=("parquet", "jsonl"), default="parquet")
    ap.add_argument("--queries", type=int, default=20, help="runs per query for the p95")
    a = ap.parse_args(argv)

    from lineage.graph.lock import clear_graph
    from lineage.graph.store import Graph
    from lineage.pipeline.import_metadata import import_metadata
    from lineage.settings import load_settings
    from lineage.zoo.hubdump import generate, write_dump

    settings = load_settings()
    out = {"n": a.n, "format": a.format}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        records, stats = generate(a.n, a.seed)
        path = write_dump(records, Path(tmp) / f"hub.{a.format}")
        out["seconds_generate"] = round(time.perf_counter() - t, 1)
        out["dump_mb"] = round(path.stat().st_size / 2**20, 1)
        out["stats"] = stats.as_dict()
        depth: dict[str, int] = {}  # records list parents before children
        for r in records:
            ps = [t[len("base_model:"):] for t in r["tags"] if t.startswith("base_model:") and t.count(":") == 1]
            depth[r["id"]] = 1 + max((depth[p] for p in ps), default=-1)
        deepest = sorted((d, m) for m, d in depth.items())[-200:]
        largest_base = records[0]["id"]  # the first base has the largest Zipf weight
        out["deepest_depth"] = deepest[-1][0]
        del records
        with Graph(settings) as g:
            g.bootstrap_schema()
            clear_graph(g)
        rep = import_metadata(path, settings=settings)
        out.update(seconds_total=round(rep.seconds, 1), seconds_read=round(rep.seconds_read, 1),
                   seconds_write=round(rep.seconds_write, 1), rows_per_second=round(rep.rows_per_second),
                   edges=rep.n_edges, peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    rng = np.random.default_rng(a.seed)
    with Graph(settings) as g:
        counts = {f"{r['kind']}:{r['what']}": r["n"] for r in g.query("graph_counts")}
        out["graph"] = counts
        leaf_ids = [m for _, m in deepest]
        picks = [leaf_ids[i] for i in rng.choice(len(leaf_ids), size=min(a.queries, len(leaf_ids)), replace=False)]

        def p95(name, param_sets):
            times = []
            g.query(name, **param_sets[0])  # the first run plans the query: not timed
            for p in param_sets:
                t = time.perf_counter()
                rows = g.query(name, **p)
                times.append(time.perf_counter() - t)
            return {"p95_ms": round(float(np.percentile(times, 95)) * 1000, 1),
                    "median_ms": round(float(np.median(times)) * 1000, 1), "runs": len(times), "rows_last": len(rows)}

        out["queries"] = {
            "lineage (deep models)": p95("lineage", [{"model_id": m} for m in picks]),
            "lineage (largest base)": p95("lineage", [{"model_id": largest_base}] * min(5, a.queries)),
            "models": p95("models", [{}] * a.queries),
            "undocumented": p95("undocumented", [{}] * a.queries),
        }
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
