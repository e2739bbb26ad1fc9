"""Local vs Ray extraction of the tiny zoo, side by side in one run, and Ray's per-task overhead.

Each executor extracts every tiny-zoo model into its own fresh response cache (so both
really generate; the local run loads the encoder once, each Ray worker loads its own),
then again from that cache with warm processes (no generation: what is left is reading
the cache, encoding and, for Ray, scheduling and transfers). A batch of empty Ray tasks gives the bare
scheduling round trip per task.

On a 2-core machine Ray cannot win: two worker processes share the same two cores the
local run already uses, and each worker pays its own start-up (imports, encoder load).
The point of Ray is more machines and GPUs, not this box.

Usage (from the repository root; needs the ray extra):
    python benchmarks/bench_ray.py --n-probes 20 --max-new-tokens 16
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _noop(i):
    return i


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-probes", type=int, default=20)
    ap.add_argument("--max-new-tokens", type=int, default=16)
    ap.add_argument("--num-cpus", type=int, default=2, help="CPUs of the local Ray cluster")
    ap.add_argument("--n-noop", type=int, default=200, help="empty tasks for the scheduling overhead")
    ap.add_argument("--zoo", type=Path, default=None, help="tiny zoo folder (built if missing)")
    args = ap.parse_args(argv)

    import numpy as np
    import ray

    from lineage.dna.executors import LocalExecutor, RayExecutor, extract_all
    from lineage.dna.extract import ExtractConfig, Extractor
    from lineage.dna.record import GenerationConfig
    from lineage.manifest import load_manifest
    from lineage.zoo import build_zoo

    t = time.perf_counter()
    zoo = build_zoo("tiny", seed=0, out=args.zoo) if args.zoo else build_zoo("tiny", seed=0)
    entries = load_manifest(zoo.manifest_path).models
    print(f"tiny zoo: {len(entries)} models ({time.perf_counter() - t:.1f} s to build or reuse)", flush=True)
    cfg = ExtractConfig(n_probes=args.n_probes, generation=GenerationConfig(max_new_tokens=args.max_new_tokens))
    work = Path(tempfile.mkdtemp(prefix="bench-ray-"))

    def run(executor, cache, ex=None):
        ex = ex or Extractor(executor.configure(cfg), cache_dir=cache)
        n_before = len(ex.reports)
        t0 = time.perf_counter()
        out = list(extract_all(ex, entries, executor))
        return time.perf_counter() - t0, out, ex.reports[n_before:], ex

    rows, dnas = [], {}
    secs, out, reps, ex = run(LocalExecutor(), work / "local")
    dnas["local"] = np.stack([d.vector for _, d in out])
    rows.append(("local (1 process)", "fresh", secs, sum(r.n_generated for r in reps)))
    # again with the same extractor (encoder loaded), as Ray's second run finds its workers warm
    secs, out, reps, _ = run(LocalExecutor(), work / "local", ex)
    rows.append(("local (1 process)", "from cache", secs, sum(r.n_generated for r in reps)))

    t0 = time.perf_counter()
    for attempt in (1, 2, 3):  # ray-project/ray#65983: on a busy machine the raylet can abort at start
        try:
            ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
            break
        except Exception:
            ray.shutdown()
            if attempt == 3:
                raise
            print("ray.init failed (busy machine); trying again", flush=True)
    start = time.perf_counter() - t0
    try:
        secs, out, reps, _ = run(RayExecutor(), work / "ray")
        dnas["ray"] = np.stack([d.vector for _, d in out])
        rows.append((f"ray ({args.num_cpus} CPUs, 1 per task)", "fresh", secs, sum(r.n_generated for r in reps)))
        secs, out, reps, _ = run(RayExecutor(), work / "ray")
        rows.append((f"ray ({args.num_cpus} CPUs, 1 per task)", "from cache", secs,
                     sum(r.n_generated for r in reps)))
        noop = ray.remote(num_cpus=1)(_noop)
        ray.get([noop.remote(i) for i in range(10)])  # warm workers
        t0 = time.perf_counter()
        ray.get([noop.remote(i) for i in range(args.n_noop)])
        per_task_ms = 1000 * (time.perf_counter() - t0) / args.n_noop
        t0 = time.perf_counter()
        for i in range(20):
            ray.get(noop.remote(i))
        round_trip_ms = 1000 * (time.perf_counter() - t0) / 20
    finally:
        ray.shutdown()

    n = len(entries)
    same = np.array_equal(dnas["local"], dnas["ray"])
    print(f"\nsettings: {n} models, {args.n_probes} probes x {args.max_new_tokens} new tokens, CPU float32, "
          f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f})\n")
    print("| executor | answers | seconds | s per model | answers generated |")
    print("|---|---|---|---|---|")
    for name, kind, s, g in rows:
        print(f"| {name} | {kind} | {s:.1f} | {s / n:.2f} | {g} |")
    local_cached, ray_cached = rows[1][2], rows[3][2]
    print(f"\nRay cluster start (ray.init, 2 CPUs): {start:.1f} s (not in the rows above)")
    print(f"Ray per-model overhead from cache (ray - local) / models: {(ray_cached - local_cached) / n:.2f} s "
          "(warm workers: task submission, argument and result transfer; the fresh rows also hold each "
          "worker's start-up: imports and encoder load)")
    print(f"Ray bare scheduling: {per_task_ms:.2f} ms per empty task in a batch of {args.n_noop}, "
          f"{round_trip_ms:.2f} ms for one task submitted and awaited alone")
    print(f"DNAs identical local vs ray: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
