"""Ingest of N synthetic models (128-d DNA: tree, 10 nearest each, parents) into the real Neo4j,
then the latency of each shipped read query at that size.

Needs a running server (`lineage db start`, or run under scripts/test.sh's settings). It CLEARS the
configured database first: point LINEAGE_STATE_DIR/ports at a scratch server.

    python benchmarks/bench_ingest.py --n-models 10000 --repeats 20

Prints a table: phase times, then per query median / p95 latency (ms) over --repeats runs.
Floors (issue 6, 2-core machine): ingest under 60 s, each query p95 under 200 ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-models", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--unrelated", action="store_true",
                    help="independent random DNAs, no dates or declarations: every inferred parent is false")
    args = ap.parse_args()

    from lineage.graph.store import Graph
    from lineage.pipeline.ingest import ingest
    from lineage.settings import load_settings
    from lineage.dna.synthetic import write_synthetic_population

    s = load_settings()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        paths = write_synthetic_population(Path(tmp), args.n_models, random_state=1, unrelated=args.unrelated)
        t_gen = time.perf_counter() - t
        with Graph(s) as g:
            g.query("clear_graph")
        # Warm the numeric core's compiled kernels once (a per-process cost, reported apart).
        t = time.perf_counter()
        from lineage.core.infer.analysis import analyse_population
        from lineage.core.score.simulate import simulate_population

        p = simulate_population(50)
        analyse_population(p.ids, p.X)
        t_warm = time.perf_counter() - t
        rep = ingest(paths["manifest"], settings=s, tree_dir=Path(tmp) / "tree")
        rows = [("write DNA files (not ingest)", t_gen), ("one-off JIT warm-up", t_warm),
                ("ingest: load models", rep.seconds_extract), ("ingest: analyse", rep.seconds_analyse),
                ("ingest: write derived", rep.seconds_write), ("ingest: total", rep.seconds)]
        print(f"\nIngest of {args.n_models} synthetic models ({rep.n_population} in graph, "
              f"{rep.n_similar} SIMILAR_TO, {rep.n_parents} INFERRED_PARENT)")
        print(f"{'phase':34s} {'seconds':>9s}")
        for name, sec in rows:
            print(f"{name:34s} {sec:9.2f}")
        if args.unrelated:
            from lineage.core.score.metrics import binomial_interval

            n_rel = rep.n_undocumented
            lo, hi = binomial_interval(rep.n_parents, args.n_models)
            print(f"false parents: {rep.n_parents} ({rep.n_parents / args.n_models:.4f} per model, 95% CI "
                  f"{lo:.4f}-{hi:.4f}); false undocumented relations: {n_rel} ({n_rel / args.n_models:.4f} per model)")

        with Graph(s) as g:
            some = g.query("models", limit=5)
            mid = some[len(some) // 2]["model"]
            params = {"lineage": {"model_id": mid}, "nearest": {"model_id": mid, "k": 10},
                      "family_speed": {}, "undocumented": {"limit": 50}, "conflicts": {},
                      "provenance": {"model_id": mid}, "model_info": {"model_id": mid}, "models": {"limit": 100}}
            print(f"\n{'query':16s} {'rows':>6s} {'median ms':>10s} {'p95 ms':>8s}")
            for name, prm in params.items():
                g.query(name, **prm)
                times, n = [], 0
                for _ in range(args.repeats):
                    t = time.perf_counter()
                    n = len(g.query(name, **prm))
                    times.append((time.perf_counter() - t) * 1000)
                times.sort()
                p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
                print(f"{name:16s} {n:6d} {statistics.median(times):10.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
