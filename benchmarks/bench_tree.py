"""Tree building at scale: our pipeline vs scikit-bio's nj, side by side.

For each size (synthetic DNAs from :func:`lineage.core.score.simulate.simulate_population`)
a fresh subprocess runs one pipeline and reports its stage times and its peak
resident memory (``ru_maxrss``, which includes the interpreter and imports):

* ours: blockwise float32 distances + exact k-NN in one pass, anjl dynamic NJ,
  midpoint rooting and clade ids, null fit + parent arborescence
  (the "end to end" floor: distances + tree + parents);
* scikit-bio: scipy ``pdist`` -> ``DistanceMatrix`` -> ``skbio.tree.nj``
  (distances + tree only). Skipped where its time, extrapolated as n^3 from the
  largest size it ran, would exceed ``--skbio-limit`` seconds.

Imports and numba JIT warm-up are excluded from the times.

Run: python benchmarks/bench_tree.py [--sizes 1000 5000 10000 20000] [--skbio-limit 300]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

_CHILD = r"""
import json, resource, sys, time
import numpy as np
which, n = sys.argv[1], int(sys.argv[2])
from lineage.core.score.simulate import simulate_population
pop = simulate_population(n, p_wrong=0.0, random_state=0)
out = {}
if which == "ours":
    from lineage.core.measure.distances import condensed_and_neighbours
    from lineage.core.infer.tree import tree_from_distances
    from lineage.core.channels.relatedness import fit_null
    from lineage.core.infer.parents import infer_parents
    import networkx, scipy.stats  # imports are not timed
    tree_from_distances(["a", "b", "c", "d"], np.ones(6, dtype=np.float32))  # JIT warm-up
    t0 = time.perf_counter()
    d, idx, dist = condensed_and_neighbours(pop.X, 10)
    t1 = time.perf_counter()
    tree = tree_from_distances(pop.ids, d)
    del d
    t2 = time.perf_counter()
    null = fit_null(pop.X, families=pop.families)
    parents = infer_parents(pop.ids, idx, dist, null, release_dates=pop.release_dates)
    t3 = time.perf_counter()
    out = dict(dist=t1 - t0, tree=t2 - t1, parents=t3 - t2, total=t3 - t0, n_parents=len(parents))
else:
    from scipy.spatial.distance import pdist
    from skbio import DistanceMatrix
    from skbio.tree import nj
    nj(DistanceMatrix(np.array([[0, 1, 2, 2], [1, 0, 2, 2], [2, 2, 0, 1], [2, 2, 1, 0.]]), ["a", "b", "c", "d"]))
    t0 = time.perf_counter()
    dm = DistanceMatrix(pdist(pop.X.astype(np.float64)), pop.ids)
    t1 = time.perf_counter()
    nj(dm)
    t2 = time.perf_counter()
    out = dict(dist=t1 - t0, tree=t2 - t1, parents=float("nan"), total=t2 - t0)
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def _run(which: str, n: int) -> dict:
    r = subprocess.run([sys.executable, "-c", _CHILD, which, str(n)], capture_output=True, text=True)
    if r.returncode != 0:
        return {"error": r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"}
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000, 20000])
    ap.add_argument("--skbio-limit", type=float, default=300.0)
    args = ap.parse_args()
    try:
        import skbio  # noqa: F401
        have_skbio = True
    except ImportError:
        have_skbio = False
    rows = []
    sk_ref = None  # (n, seconds) of the largest scikit-bio run
    for n in args.sizes:
        ours = _run("ours", n)
        sk = None
        if have_skbio:
            est = sk_ref[1] * (n / sk_ref[0]) ** 3 if sk_ref else 0.0
            if est <= args.skbio_limit:
                sk = _run("skbio", n)
                if "total" in sk:
                    sk_ref = (n, sk["total"])
            else:
                sk = {"skipped": f"~{est:.0f} s estimated"}
        rows.append((n, ours, sk))
        _print([rows[-1]], header=len(rows) == 1)
    print()
    print("floors: 1k end-to-end < 1 s; 10k end-to-end < 30 s; 20k peak memory < 8 GB")


def _fmt(x, spec=".2f"):
    return "-" if x is None or (isinstance(x, float) and x != x) else format(x, spec)


def _print(rows, header: bool) -> None:
    if header:
        print(f"{'n':>6} | {'ours dist':>9} {'tree':>7} {'parents':>8} {'total':>7} {'peak MB':>8} | "
              f"{'skbio dist':>10} {'nj':>8} {'total':>8} {'peak MB':>8} | {'skbio/ours tree':>15}")
    for n, o, s in rows:
        if "error" in o:
            print(f"{n:>6} | ours failed: {o['error']}")
            continue
        left = (f"{n:>6} | {o['dist']:9.2f} {o['tree']:7.2f} {o['parents']:8.2f} {o['total']:7.2f} "
                f"{o['peak_mb']:8.0f} | ")
        if s is None:
            right = f"{'scikit-bio not installed':>39} | -"
        elif "skipped" in s or "error" in s:
            right = f"{('skipped: ' + s['skipped']) if 'skipped' in s else 'failed: ' + s['error'][:28]:>39} | -"
        else:
            right = (f"{s['dist']:10.2f} {s['tree']:8.2f} {s['total']:8.2f} {s['peak_mb']:8.0f} | "
                     f"{s['tree'] / o['tree']:15.1f}")
        print(left + right, flush=True)


if __name__ == "__main__":
    time.perf_counter()
    main()
