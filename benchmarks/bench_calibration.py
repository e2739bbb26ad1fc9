"""False lineage on populations with no relatives, and power kept on structured ones.

Populations with *no* relatives: ``N`` independent random DNAs (standard normal, 128
dimensions), without release dates, analysed by the DNA-only inference exactly as
``lineage ingest`` runs it (:func:`lineage.core.infer.analysis.analyse_population`). Every
inferred parent and every undocumented relation is false, so their count per model is
the realised false-parent / false-relation rate, shown with its exact (Clopper-Pearson)
95% interval. The target is the configured ``fpr``, whatever ``N`` is.

Structured populations (:func:`lineage.core.score.simulate.simulate_population`, families
with known genealogy, dates, quantised copies and merges): blind directed parent accuracy
and parent precision, to show the power the correction keeps.

``--per-pair`` also runs the pre-correction rule (``correction="none"``: each candidate tested
as if it were the only one) on the same populations, side by side.

The minimum arborescence alone (``--arborescence 1000 10000 100000``): ten random candidate
parents per node at random costs plus the "no parent" edge, the shape of an unrelated,
undated population (full of mutual-nearest cycles), timed with its median of three runs.

Run: python benchmarks/bench_calibration.py [--sizes 100 1000 10000] [--fprs 0.01 0.05] [--per-pair]
         [--arborescence 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _poisson_interval(k: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson count: relations per model can exceed one."""
    from scipy import stats

    a = 1 - level
    lo = 0.0 if k == 0 else stats.chi2.ppf(a / 2, 2 * k) / 2
    return lo, stats.chi2.ppf(1 - a / 2, 2 * k + 2) / 2


def _null_row(n: int, fpr: float, seed: int, correction: str) -> dict:
    from lineage.core.infer.analysis import analyse_population
    from lineage.core.score.metrics import binomial_interval

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 128)).astype(np.float32)
    ids = [f"m{i:06d}" for i in range(n)]
    t0 = time.perf_counter()
    a = analyse_population(ids, X, fpr=fpr, random_state=seed, correction=correction)
    secs = time.perf_counter() - t0
    n_par, n_rel = len(a.parents), len(a.undocumented)
    lo, hi = binomial_interval(n_par, n)
    rlo, rhi = _poisson_interval(n_rel)
    return dict(parents=n_par, parents_per_model=n_par / n, parents_ci=(lo, hi), relations=n_rel,
                relations_per_model=n_rel / n, relations_ci=(rlo / n, rhi / n), seconds=secs)


def _structured_row(n: int, fpr: float, seed: int, correction: str) -> dict:
    from lineage.core.infer.analysis import analyse_population
    from lineage.core.score.metrics import parent_accuracy
    from lineage.core.score.simulate import simulate_population

    pop = simulate_population(n, p_wrong=0.0, random_state=seed)
    a = analyse_population(pop.ids, pop.X, release_dates=pop.release_dates, fpr=fpr, random_state=seed,
                           correction=correction)
    acc = parent_accuracy(a.parent_of(), dict(zip(pop.ids, pop.true_parents)))
    return dict(directed=acc.directed, precision=acc.precision, roots=acc.root_accuracy, n_children=acc.n_children)


def _arborescence_table(sizes: list[int], seed: int) -> None:
    import statistics

    from lineage.core.infer.parents import min_arborescence

    print("Minimum arborescence alone (10 random candidates per node + a no-parent edge)")
    print("| nodes | edges | median s (3 runs) | parentless |")
    print("|---|---|---|---|")
    for n in sizes:
        rng = np.random.default_rng(seed)
        src = np.concatenate([np.full(n, n), rng.integers(0, n, 10 * n)])
        dst = np.concatenate([np.arange(n), np.repeat(np.arange(n), 10)])
        cost = np.concatenate([np.full(n, 0.9), rng.random(10 * n)])
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            chosen = min_arborescence(n + 1, n, src, dst, cost)
            times.append(time.perf_counter() - t0)
        print(f"| {n:,} | {src.size:,} | {statistics.median(times):.2f} | {int((src[chosen[:n]] == n).sum()):,} |",
              flush=True)
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--fprs", type=float, nargs="+", default=[0.01, 0.05])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-pair", action="store_true", help="also run the pre-correction per-pair rule")
    ap.add_argument("--arborescence", type=int, nargs="*", default=[],
                    help="also time the minimum arborescence alone at these sizes")
    args = ap.parse_args()
    if args.arborescence:
        _arborescence_table(args.arborescence, args.seed)
    rules = ["holm", "none"] if args.per_pair else ["holm"]
    print("Populations with no relatives (random DNAs, no dates): realised false lineage per model")
    print("| N | fpr | rule | false parents | per model (95% CI) | false relations | per model (95% CI) | s |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        for fpr in args.fprs:
            for pp in rules:
                r = _null_row(n, fpr, args.seed, pp)
                print(f"| {n:,} | {fpr:g} | {pp} | {r['parents']} | {r['parents_per_model']:.4f} "
                      f"({r['parents_ci'][0]:.4f}-{r['parents_ci'][1]:.4f}) | {r['relations']} | "
                      f"{r['relations_per_model']:.4f} ({r['relations_ci'][0]:.4f}-{r['relations_ci'][1]:.4f}) | "
                      f"{r['seconds']:.1f} |", flush=True)
    print()
    print("Structured simulated populations (families, dates, quantised copies, merges): power kept")
    print("| N | fpr | rule | directed parent accuracy | parent precision | roots left parentless | children |")
    print("|---|---|---|---|---|---|---|")
    for n in [s for s in args.sizes if s <= 10000]:
        for fpr in args.fprs:
            for pp in rules:
                r = _structured_row(n, fpr, args.seed, pp)
                print(f"| {n:,} | {fpr:g} | {pp} | {r['directed']:.3f} | {r['precision']:.3f} | "
                      f"{r['roots']:.3f} | {r['n_children']} |", flush=True)


if __name__ == "__main__":
    main()
