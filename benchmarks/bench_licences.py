"""Licence inheritance and `lineage check` at N synthetic models, in the real Neo4j.

Needs a running server (`lineage db start`, or scripts/test.sh's settings). It CLEARS the
configured database first: point LINEAGE_STATE_DIR/ports at a scratch server.

    python benchmarks/bench_licences.py --n-models 10000

Family famNNN's models carry licence (gemma, cc-by-nc-4.0, apache-2.0, mit)[NNN % 4]; every
third non-root model re-publishes as apache-2.0 (a conflict under gemma or cc-by-nc). Prints
the ingest phases (the licence recompute is part of "write derived"), the licence recompute
again (nothing changed: nothing rewritten), a subset recompute (ten roots and their
descendants), and `lineage check --policy sample` in-process and as the command (with start-up).
Floors (issue 22, 2-core machine): ingest under 60 s, the check under 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LICENCES = ("gemma", "cc-by-nc-4.0", "apache-2.0", "mit")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-models", type=int, default=10000)
    ap.add_argument("--compare", type=int, default=0, metavar="REPEATS",
                    help="on the graph already there (run once without it first): time the licence step as it was "
                         "(clear every obligation, write them all in batches of 5,000) against recompute_licences "
                         "with every model changed, with nothing changed, and for 10 roots; medians of REPEATS")
    args = ap.parse_args()
    if args.compare:
        return compare(args.compare)

    from lineage.dna.synthetic import write_synthetic_population
    from lineage.graph.licences import check_policy, recompute_licences
    from lineage.graph.store import Graph
    from lineage.licences.policy import resolve_policy
    from lineage.pipeline.ingest import ingest
    from lineage.settings import load_settings

    s = load_settings()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_synthetic_population(Path(tmp), args.n_models, random_state=1)
        rows = [json.loads(l) for l in paths["manifest"].read_text().splitlines()]
        k = 0
        for r in rows:
            r["licence"] = LICENCES[int(r["family"].removeprefix("fam")) % 4]
            if r.get("base_model"):
                k += 1
                if k % 3 == 0:
                    r["licence"] = "apache-2.0"
        paths["manifest"].write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        with Graph(s) as g:
            g.query("clear_graph")
        from lineage.core.infer.analysis import analyse_population
        from lineage.core.score.simulate import simulate_population

        p = simulate_population(50)
        analyse_population(p.ids, p.X)  # the numeric core's one-off JIT warm-up, not timed
        rep = ingest(paths["manifest"], settings=s, tree_dir=Path(tmp) / "tree")
        with Graph(s) as g:
            lc = recompute_licences(g)  # after ingest's own recompute: nothing to rewrite
            roots = [r["id"] for r in rows if not r.get("base_model")][:10]  # ten roots, all their descendants
            sub = recompute_licences(g, ids=roots)
            t = time.perf_counter()
            res = check_policy(resolve_policy("sample"), graph=g)
            t_check = time.perf_counter() - t
        env = {**os.environ}
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "lineage", "check", "--policy", "sample", "--format", "sarif",
                               "--out", str(Path(tmp) / "out.sarif")], capture_output=True, text=True, env=env)
        t_cli = time.perf_counter() - t
    print(f"\n{args.n_models} synthetic models: {lc.n_obligations} obligations, {lc.n_conflicts} licence conflicts "
          f"({lc.n_inferred_conflicts} reached only through inferred edges); check: {len(res.findings)} findings, "
          f"exit {proc.returncode}; recompute after ingest rewrote {lc.n_rewritten} models; the subset recompute "
          f"of 10 roots covered {sub.n_obligations} obligations")
    for name, sec in (("ingest: load models", rep.seconds_extract), ("ingest: analyse", rep.seconds_analyse),
                      ("ingest: write derived (with licences)", rep.seconds_write), ("ingest: total", rep.seconds),
                      ("licence recompute alone, nothing changed", lc.seconds),
                      ("licence recompute of 10 roots and their descendants", sub.seconds), ("check --policy sample (in process)", t_check),
                      ("lineage check --policy sample --format sarif (command)", t_cli)):
        print(f"{name:55s} {sec:8.2f} s")


def compare(repeats: int) -> None:
    """The licence step before and after, side by side, on the graph already there."""
    import statistics

    from lineage.graph.licences import recompute_licences
    from lineage.graph.store import Graph
    from lineage.licences.inherit import inherit_obligations
    from lineage.licences.table import load_table
    from lineage.settings import load_settings

    times: dict[str, list[float]] = {}
    with Graph(load_settings()) as g:
        models = g.query("licence_models")
        roots = [m["id"] for m in models if m["id"].endswith("/m0000")][:10]
        for _ in range(repeats):
            t = time.perf_counter()  # as it was: read, inherit, clear everything, write in batches of 5,000
            out = inherit_obligations(g.query("licence_models"), g.query("licence_edges"), load_table())
            ids = [m["id"] for m in out["models"]]
            g.unit_of_work(lambda tx: g.run_in(tx, "clear_licence_obligations_of", ids=ids))
            g.write("write_licence_obligations", out["obligations"], batch_size=5000)
            g.write("set_licence_stats", [{**r, "licence_digest": None} for r in out["models"]], batch_size=5000)
            times.setdefault("before: full recompute (every obligation rewritten)", []).append(time.perf_counter() - t)
            lc = recompute_licences(g)  # no digest stored: every model rewritten
            assert lc.n_rewritten == len(ids), lc
            times.setdefault("after: full recompute, every model changed", []).append(lc.seconds)
            lc = recompute_licences(g)
            assert lc.n_rewritten == 0, lc
            times.setdefault("after: full recompute, nothing changed", []).append(lc.seconds)
            lc = recompute_licences(g, ids=roots)
            times.setdefault(f"after: recompute of 10 roots and descendants ({lc.n_obligations} obligations)",
                             []).append(lc.seconds)
    for name, ts in times.items():
        print(f"{name:70s} median {statistics.median(ts):7.2f} s  ({', '.join(f'{t:.2f}' for t in ts)})")


if __name__ == "__main__":
    main()
