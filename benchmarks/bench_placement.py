"""Placement vs full re-analysis, side by side in one run (issue 23).

A synthetic population (:func:`lineage.dna.synthetic.write_synthetic_population`) is split:
all but the last ``--batch`` models are ingested and analysed in full; the batch is then
ingested twice over the same graph state: placed (the default route) and, right after,
re-analysed in full (``full=True``), which is what placement is measured against. Reported:
wall time of each route, the speed-up, and how the placed answer agrees with the full one:

* inferred parents of the newly placed models (the issue's floor: >= 99% the same);
* inferred parents over the whole graph;
* undocumented relations, contradicted declarations and similarity edges (symmetric
  difference as a share of the full analysis's set; floor: within 1%).

Needs a running server and CLEARS it (point LINEAGE_STATE_DIR / ports at a scratch one).

    python benchmarks/bench_placement.py --n-models 20000 --batch 100

For iterating on placement: ``--data DIR`` keeps the synthetic population on disk,
``--reuse-base`` skips clearing and the first full analysis when the graph already holds
exactly the base analysed in full (e.g. a copy of a stopped server's data folder restored),
``--skip-full`` leaves out the full route and ``--profile FILE`` writes a cProfile of the
placement ingest (``python -m pstats FILE``).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path


def _raw(g, q):
    return [dict(r) for r in g._driver.execute_query(q, database_=g.settings.neo4j_database).records]


def snapshot(g) -> dict:
    return {
        "parents": {r["c"]: r["p"] for r in _raw(g, "MATCH (c:Model)-[:INFERRED_PARENT]->(p) RETURN c.id AS c, p.id AS p")},
        "undocumented": {(r["a"], r["b"]) for r in _raw(g, "MATCH (a)-[:UNDOCUMENTED_RELATION]->(b) RETURN a.id AS a, b.id AS b")},
        "conflicts": {(r["a"], r["b"]) for r in _raw(
            g, "MATCH (a)-[:DECLARED_PARENT {contradicted: true}]->(b) RETURN a.id AS a, b.id AS b")},
        "similar": {(r["a"], r["b"]) for r in _raw(g, "MATCH (a)-[:SIMILAR_TO]->(b) RETURN a.id AS a, b.id AS b")},
    }


class QueryTimes(logging.Handler):
    """Sums the DEBUG records of lineage.graph.timing (name, seconds, rows) per query."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.seconds, self.calls = {}, {}

    def emit(self, record):
        name, sec = record.args[0], record.args[1]
        self.seconds[name] = self.seconds.get(name, 0.0) + sec
        self.calls[name] = self.calls.get(name, 0) + 1

    def report(self, title, top=12):
        print(f"\n{title}: {sum(self.seconds.values()):.1f} s in queries")
        for name, sec in sorted(self.seconds.items(), key=lambda x: -x[1])[:top]:
            print(f"  {name:34s} {sec:7.2f} s  x{self.calls[name]}")
        self.seconds, self.calls = {}, {}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-models", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--data", type=Path, default=None, help="keep the synthetic population here (reused when present)")
    ap.add_argument("--reuse-base", action="store_true",
                    help="keep the graph when it holds exactly the base, analysed in full (else clear and rebuild)")
    ap.add_argument("--skip-full", action="store_true", help="only the placement route (no agreement figures)")
    ap.add_argument("--profile", type=Path, default=None, help="write a cProfile of the placement ingest here")
    ap.add_argument("--timings", action="store_true", help="print the seconds each query took, summed per route")
    ap.add_argument("--manifest", choices=("batch", "all"), default="batch",
                    help="what the two timed ingests read: the batch's own manifest (default), or the whole "
                         "population's (its 19,900 loaded models skipped one by one, the same cost on both routes)")
    args = ap.parse_args()

    from lineage.dna.synthetic import write_synthetic_population
    from lineage.graph.store import Graph
    from lineage.pipeline.ingest import ingest
    from lineage.settings import load_settings

    s = load_settings()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        manifest = data / "manifest.jsonl"
        if args.data is None or not manifest.exists():
            manifest = write_synthetic_population(data, args.n_models, random_state=args.seed)["manifest"]
        lines = manifest.read_text().splitlines()
        base = data / f"base-{args.batch}.jsonl"
        base.write_text("\n".join(lines[:-args.batch]) + "\n")
        new = {json.loads(x)["id"] for x in lines[-args.batch:]}
        if args.manifest == "batch":
            manifest = data / f"batch-{args.batch}.jsonl"
            manifest.write_text("\n".join(lines[-args.batch:]) + "\n")
        t_base, r0 = None, None
        with Graph(s) as g:
            state = g.query("analysis_state")
            kept = (args.reuse_base and state and state[0]["state"].get("mode") == "full"
                    and state[0]["state"].get("n_models") == len(lines) - args.batch
                    and int(g.query("population_count")[0]["n"]) == len(lines) - args.batch)
            if not kept:
                g.query("clear_graph")
        if not kept:
            t = time.perf_counter()
            r0 = ingest(base, settings=s, tree_dir=Path(tmp) / "t")
            t_base = time.perf_counter() - t
        times = None
        if args.timings:
            times = QueryTimes()
            log = logging.getLogger("lineage.graph.timing")
            log.setLevel(logging.DEBUG)
            log.addHandler(times)
            log.propagate = False
        prof = None
        if args.profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        t = time.perf_counter()
        r1 = ingest(manifest, settings=s, tree_dir=Path(tmp) / "t")
        t_place = time.perf_counter() - t
        if prof is not None:
            prof.disable()
            prof.dump_stats(str(args.profile))
        if times is not None:
            times.report("placement route")
        if args.skip_full:
            assert r1.analysis == "placed", r1.analysis_note
            print(f"placed {args.batch} onto {len(lines) - args.batch} in {t_place:.1f} s (load {r1.seconds_extract:.1f}, "
                  f"analyse {r1.seconds_analyse:.1f}, write {r1.seconds_write:.1f}); {r1.n_affected} stored models re-decided")
            return
        with Graph(s) as g:
            placed = snapshot(g)
        t = time.perf_counter()
        r2 = ingest(manifest, settings=s, full=True, tree_dir=Path(tmp) / "t")
        t_full = time.perf_counter() - t
        if times is not None:
            times.report("full route")
        with Graph(s) as g:
            full = snapshot(g)
    assert r1.analysis == "placed", r1.analysis_note
    print(f"\nPlacement of {args.batch} models onto {args.n_models - args.batch} (seed {args.seed}); "
          f"{r1.n_affected} stored models re-decided\n")
    def row(title, sec, r):
        rest = sec - r.seconds_extract - r.seconds_analyse - r.seconds_write
        print(f"| {title} | {sec:.1f} | {r.seconds_extract:.1f} | {r.seconds_analyse:.1f} | {r.seconds_write:.1f} | {rest:.1f} |")

    print("| route | seconds | load | analyse | write | rest |\n|---|---|---|---|---|---|")
    if r0 is not None:
        row(f"first full analysis of {args.n_models - args.batch} (ingest)", t_base, r0)
    row("batch placed (ingest)", t_place, r1)
    row("batch, full re-analysis (ingest --full)", t_full, r2)
    print(f"\nspeed-up of placement: {t_full / t_place:.1f}x\n")
    pn = sum(placed["parents"].get(m) == full["parents"].get(m) for m in new) / len(new)
    every = set(placed["parents"]) | set(full["parents"])
    pa = sum(placed["parents"].get(m) == full["parents"].get(m) for m in every) / max(1, len(every))
    print("| agreement with the full analysis | value |\n|---|---|")
    print(f"| inferred parent of the {len(new)} placed models (same parent or both none) | {pn:.3f} |")
    print(f"| inferred parents, whole graph ({len(every)} models with a parent in either) | {pa:.4f} |")
    for name in ("undocumented", "conflicts", "similar"):
        a, b = placed[name], full[name]
        print(f"| {name}: placed {len(a)}, full {len(b)}, symmetric difference | {len(a ^ b)} "
              f"({len(a ^ b) / max(1, len(b)):.2%}) |")


if __name__ == "__main__":
    main()
