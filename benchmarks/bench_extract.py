"""Extraction speed: ours vs the reference (llm-dna 1.0.x) on SmolLM2-135M-Instruct, one run.

Same probes (ours, fed to the reference), same encoder (MiniLM), greedy. The
reference generates one prompt at a time in float16 (its only CPU choice); ours
batches in float32 (our CPU default) and, with --also-fp16, in float16 too.
Prints wall times, the ratio and generated tokens per second; on a CUDA machine
also our tokens/s with the dtype and batch size used.

Usage:
    python benchmarks/bench_extract.py --n-probes 100 --max-new-tokens 64
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks._reference import reference_available, run_reference  # noqa: E402
from lineage.dna.record import GenerationConfig  # noqa: E402
from lineage.dna.extract import ExtractConfig, Extractor  # noqa: E402
from tests.helpers.tiny import smollm2_folder  # noqa: E402


def _count_tokens(tok, answers, cap):
    # the reference does not report token counts: re-tokenize its answers (+1 for EOS when it stopped early)
    out = 0
    for a in answers:
        n = len(tok(a, add_special_tokens=False)["input_ids"])
        out += min(cap, n + 1) if n < cap else cap
    return out


def _ours(model, cfg, work, label):
    ex = Extractor(cfg, work / f"cache-{label}-{time.time_ns()}")
    t0 = time.perf_counter()
    d = ex.extract(model)
    wall = time.perf_counter() - t0
    rep = ex.reports[-1]
    return {"label": label, "seconds": wall, "tokens": rep.n_tokens, "tok_s": rep.n_tokens / wall,
            "batch": rep.batch_size, "dtype": d.provenance.dtype, "vector": d.vector}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-probes", type=int, default=100)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--work", type=Path, default=Path("/tmp/lineage-bench"))
    ap.add_argument("--also-fp16", action="store_true")
    ap.add_argument("--no-reference", action="store_true")
    args = ap.parse_args(argv)
    model = smollm2_folder()
    gen = GenerationConfig(max_new_tokens=args.max_new_tokens)
    base = ExtractConfig(n_probes=args.n_probes, generation=gen)
    results = []
    ours = _ours(model, base, args.work, "ours")
    results.append(ours)
    if args.also_fp16:
        results.append(_ours(model, base.model_copy(update={"dtype": "float16", "device": "cpu"}), args.work,
                             "ours-fp16-cpu"))
    ref = None
    if not args.no_reference and reference_available():
        from transformers import AutoTokenizer

        probes = list(Extractor(base, args.work / "probe-only").probes.texts)
        r = run_reference(model, probes, work=args.work / f"ref-{time.time_ns()}", max_new_tokens=args.max_new_tokens)
        toks = _count_tokens(AutoTokenizer.from_pretrained(model), r["answers"], args.max_new_tokens)
        ref = {"label": "llm-dna 1.0.1", "seconds": r["seconds"], "tokens": toks, "tok_s": toks / r["seconds"],
               "batch": 1, "dtype": "float16", "vector": r["vector"]}
        results.append(ref)
    print(f"\nSmolLM2-135M-Instruct, {args.n_probes} probes x {args.max_new_tokens} new tokens, greedy, MiniLM")
    print(f"{'run':<16} {'dtype':<9} {'batch':>5} {'seconds':>9} {'tokens':>7} {'tok/s':>8} {'speed-up':>8} {'max|dDNA|':>9}")
    for r in results:
        sp = f"{ref['seconds'] / r['seconds']:.1f}x" if ref else "-"
        dd = f"{np.abs(r['vector'] - ref['vector']).max():.3g}" if ref else "-"
        print(f"{r['label']:<16} {r['dtype']:<9} {r['batch']!s:>5} {r['seconds']:>9.1f} {r['tokens']:>7} "
              f"{r['tok_s']:>8.1f} {sp:>8} {dd:>9}")
    if ref:
        print(f"throughput ratio (ours tok/s / reference tok/s): {ours['tok_s'] / ref['tok_s']:.1f}x")


if __name__ == "__main__":
    main()
