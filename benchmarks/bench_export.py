"""Export of N synthetic models (128-d DNAs, ingested into the real Neo4j: tree, parents,
relations, 10 nearest each) in every format, and the HTML report of one model.

Needs a running server (`lineage db start`, or scripts/test.sh's settings). It CLEARS the
configured database first: point LINEAGE_STATE_DIR/ports at a scratch server.

    python benchmarks/bench_export.py --n-models 10000
    python benchmarks/bench_export.py --n-models 10000 --baseline d390471 --repeat 3

Prints a table: per format the seconds to read the graph, convert, and write the file, and
the file's size (medians of --repeat runs). With --baseline REF, the export code of that
git commit (its lineage/, cypher/ and loaders/, unpacked into a scratch folder) runs on
the same graph, side by side: both sides run in their own process, taking turns, each
repeat in the other order, so a change in the machine's load falls on both; the table
then adds the baseline's total and the ratio. Floor (issue 14): each export of 10,000
models under 30 s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def measure(formats: list[str], out_dir: Path) -> list[dict]:
    """Read, convert and write each format once with the ``lineage`` this process imports."""
    from lineage.export import to_format
    from lineage.export.data import EDGE_TYPES, LINEAGE_EDGE_TYPES
    from lineage.graph.export import read_export_data
    from lineage.graph.store import Graph
    from lineage.settings import load_settings

    rows = []
    with Graph(load_settings()) as g:
        for fmt in formats:
            types = EDGE_TYPES if fmt in ("graphml", "json") else LINEAGE_EDGE_TYPES
            t0 = time.perf_counter()
            data = read_export_data(g, types=types)
            t1 = time.perf_counter()
            text = to_format(data, fmt)
            t2 = time.perf_counter()
            out = out_dir / f"export.{fmt}"
            out.write_text(text, encoding="utf-8")
            t3 = time.perf_counter()
            rows.append({"format": fmt, "models": len(data.nodes), "edges": len(data.edges), "read": t1 - t0,
                         "convert": t2 - t1, "write": t3 - t2, "total": t3 - t0, "mb": out.stat().st_size / 1e6})
    return rows


def unpack(ref: str, into: Path) -> Path:
    """The package of commit ``ref`` as an importable folder (cypher/ and loaders/ inside lineage/,
    where the installed package has them); returns the folder to put on PYTHONPATH."""
    tar = subprocess.run(["git", "-C", str(REPO), "archive", ref, "lineage", "cypher", "loaders"],
                         capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(into, filter="data")
    for sub in ("cypher", "loaders"):
        (into / sub).rename(into / "lineage" / sub)
    return into


def run_side(pythonpath: Path | None, formats: list[str], out_dir: Path) -> list[dict]:
    env = dict(os.environ)
    if pythonpath is not None:  # found before the installed (editable) lineage
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), *filter(None, [env.get("PYTHONPATH")])])
    out_dir.mkdir(parents=True, exist_ok=True)
    p = subprocess.run([sys.executable, __file__, "--worker", "--out-dir", str(out_dir), "--formats", *formats],
                       env=env, cwd=out_dir, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"export worker failed ({'baseline' if pythonpath else 'current'}):\n{p.stderr[-2000:]}")
    return [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-models", type=int, default=10000)
    ap.add_argument("--formats", nargs="+", default=["json", "graphml", "spdx", "cyclonedx"])
    ap.add_argument("--skip-ingest", action="store_true", help="export what the graph holds now")
    ap.add_argument("--repeat", type=int, default=1, help="runs per side; the table shows medians")
    ap.add_argument("--baseline", metavar="REF", help="git commit whose export code runs side by side")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out-dir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        for row in measure(args.formats, args.out_dir):
            print(json.dumps(row))
        return

    from lineage.graph.export import write_reports
    from lineage.pipeline.ingest import ingest
    from lineage.graph.store import Graph
    from lineage.settings import load_settings
    from lineage.dna.synthetic import write_synthetic_population

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
                  f"({rep.n_similar} SIMILAR_TO, {rep.n_parents} INFERRED_PARENT)", flush=True)
        sides = {"current": None}
        if args.baseline:
            sides = {"baseline": unpack(args.baseline, tmp / "baseline"), "current": None}
        runs: dict[str, list[list[dict]]] = {side: [] for side in sides}
        for r in range(args.repeat):
            order = list(sides) if r % 2 == 0 else list(reversed(sides))
            for side in order:
                rows = run_side(sides[side], args.formats, tmp / f"{side}-{r}")
                runs[side].append(rows)
                print(f"run {r + 1}/{args.repeat} {side}: "
                      + ", ".join(f"{x['format']} {x['total']:.1f} s" for x in rows), flush=True)
        with Graph(s) as g:
            some = g.query("models", limit=5)[2]["model"]
            t = time.perf_counter()
            write_reports(some, out=tmp / "report.html", graph=g)
            t_report = time.perf_counter() - t

    def med(side: str, fmt: str, key: str) -> float:
        return statistics.median(next(x[key] for x in rows if x["format"] == fmt) for rows in runs[side])

    first = {x["format"]: x for x in runs["current"][0]}
    print(f"\nExport of {args.n_models} synthetic models (floor: 30 s each); medians of {args.repeat} run(s)"
          + (f", baseline {args.baseline}" if args.baseline else ""))
    head = f"{'format':10s} {'models':>7s} {'edges':>8s} {'read s':>7s} {'convert s':>10s} {'write s':>8s} {'total s':>8s}"
    if args.baseline:
        head += f" {'baseline s':>11s} {'speed-up':>9s}"
    print(head + f" {'MB':>6s}")
    for fmt in args.formats:
        line = (f"{fmt:10s} {first[fmt]['models']:7d} {first[fmt]['edges']:8d} {med('current', fmt, 'read'):7.2f} "
                f"{med('current', fmt, 'convert'):10.2f} {med('current', fmt, 'write'):8.2f} "
                f"{med('current', fmt, 'total'):8.2f}")
        if args.baseline:
            base = med("baseline", fmt, "total")
            line += f" {base:11.2f} {base / med('current', fmt, 'total'):8.1f}x"
        print(line + f" {first[fmt]['mb']:6.1f}")
    print(f"\nreport of one model: {t_report:.2f} s")


if __name__ == "__main__":
    main()
