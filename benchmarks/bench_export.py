"""Export of N synthetic models (128-d DNAs, ingested into the real Neo4j: tree, parents,
relations, 10 nearest each) in every format, and the HTML report of one model.

Needs a running server (`lineage db start`, or scripts/test.sh's settings). It CLEARS the
configured database first: point LINEAGE_STATE_DIR/ports at a scratch server.

    python benchmarks/bench_export.py --n-models 10000

Prints a table: per format the seconds to read the graph, convert, and write the file, and
the file's size. Floor (issue 14): each export of 10,000 models under 30 s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-models", type=int, default=10000)
    ap.add_argument("--formats", nargs="+", default=["json", "graphml", "spdx", "cyclonedx"])
    ap.add_argument("--skip-ingest", action="store_true", help="export what the graph holds now")
    args = ap.parse_args()

    from lineage.export import to_format
    from lineage.export.data import EDGE_TYPES, LINEAGE_EDGE_TYPES
    from lineage.graph.export import read_export_data, write_reports
    from lineage.graph.ingest import ingest
    from lineage.graph.store import Graph
    from lineage.settings import load_settings
    from lineage.synthetic import write_synthetic_population

    s = load_settings()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not args.skip_ingest:
            paths = write_synthetic_population(tmp / "pop", args.n_models, random_state=1)
            with Graph(s) as g:
                g.query("clear_graph")
            t = time.perf_counter()
            rep = ingest(paths["manifest"], settings=s, tree_dir=tmp / "tree")
            print(f"ingested {rep.n_population} synthetic models in {time.perf_counter() - t:.1f} s "
                  f"({rep.n_similar} SIMILAR_TO, {rep.n_parents} INFERRED_PARENT)")
        rows = []
        with Graph(s) as g:
            for fmt in args.formats:
                types = EDGE_TYPES if fmt in ("graphml", "json") else LINEAGE_EDGE_TYPES
                t0 = time.perf_counter()
                data = read_export_data(g, types=types)
                t1 = time.perf_counter()
                text = to_format(data, fmt)
                t2 = time.perf_counter()
                out = tmp / f"export.{fmt}"
                out.write_text(text, encoding="utf-8")
                t3 = time.perf_counter()
                rows.append((fmt, len(data.nodes), len(data.edges), t1 - t0, t2 - t1, t3 - t2, t3 - t0,
                             out.stat().st_size / 1e6))
            some = g.query("models", limit=5)[2]["model"]
            t = time.perf_counter()
            write_reports(some, out=tmp / "report.html", graph=g)
            t_report = time.perf_counter() - t
    print(f"\nExport of {args.n_models} synthetic models (floor: 30 s each)")
    print(f"{'format':10s} {'models':>7s} {'edges':>8s} {'read s':>7s} {'convert s':>10s} {'write s':>8s} "
          f"{'total s':>8s} {'MB':>6s}")
    for fmt, n, e, r, c, w, tot, mb in rows:
        print(f"{fmt:10s} {n:7d} {e:8d} {r:7.2f} {c:10.2f} {w:8.2f} {tot:8.2f} {mb:6.1f}")
    print(f"\nreport of one model: {t_report:.2f} s")


if __name__ == "__main__":
    main()
