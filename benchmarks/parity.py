"""Parity with the reference implementation (llm-dna 1.0.x), same probes, encoder and greedy decoding.

For each model: the reference's DNA and answers; ours in float16 (the dtype the
reference uses on CPU) batched, ours float16 with batch size 1 (tiny models only),
ours in float32 (our CPU default), and our encoder + projection applied to the
reference's own answers (isolates the math). Prints max |difference| per model,
how many answers batching changed, and the correlation of pairwise DNA distances.

Usage:
    python benchmarks/parity.py --n-probes 20 --max-new-tokens 32 --work /tmp/parity
"""

from __future__ import annotations

import argparse
import itertools
import json
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
from tests.helpers.tiny import build_tiny_model, smollm2_folder  # noqa: E402


def build_models(work: Path, smol: bool) -> dict[str, Path]:
    specs = {"tiny-gpt2-a": dict(arch="gpt2", seed=11), "tiny-gpt2-b": dict(arch="gpt2", seed=12, hidden=96),
             "tiny-llama-chat": dict(arch="llama", seed=13, chat=True), "tiny-llama-b": dict(arch="llama", seed=14)}
    out = {}
    for name, kw in specs.items():
        p = work / "models" / name
        out[name] = p if (p / "config.json").is_file() else build_tiny_model(p, **kw)
    if smol:
        out["SmolLM2-135M-Instruct"] = smollm2_folder()
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-probes", type=int, default=20)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--work", type=Path, default=Path("/tmp/lineage-parity"))
    ap.add_argument("--no-smollm2", action="store_true")
    args = ap.parse_args(argv)
    if not reference_available():
        sys.exit("llm-dna is not installed in this environment (pip install llm-dna==1.0.1)")
    import torch

    torch.manual_seed(0)
    work = args.work
    models = build_models(work, not args.no_smollm2)
    gen = GenerationConfig(max_new_tokens=args.max_new_tokens)
    base = ExtractConfig(n_probes=args.n_probes, generation=gen, device="cpu", normalize_rows=True)
    ours16 = Extractor(base.model_copy(update={"dtype": "float16"}), work / f"cache-{time.time_ns()}")
    ours16_b1 = Extractor(base.model_copy(update={"dtype": "float16", "batch_size": 1}), work / f"cache1-{time.time_ns()}")
    ours32 = Extractor(base, work / f"cache32-{time.time_ns()}")
    probes = list(ours16.probes.texts)
    rows, vec = [], {"ref": {}, "ours16": {}, "ours32": {}}
    for name, path in models.items():
        print(f"[parity] {name}: reference ...", file=sys.stderr, flush=True)
        ref = run_reference(path, probes, work=work / "ref" / name, max_new_tokens=args.max_new_tokens)
        print(f"[parity] {name}: ours ...", file=sys.stderr, flush=True)
        a16, _ = ours16.answers(path)
        d16 = ours16.dna_from_answers(name, a16).vector
        d32 = ours32.extract(path).vector
        a32, _ = ours32.answers(path)
        math = ours16.dna_from_answers(name, ref["answers"]).vector
        row = {"model": name, "ref_norm": float(np.linalg.norm(ref["vector"])),
               "answers_diff_batched_fp16": sum(x != y for x, y in zip(a16, ref["answers"])),
               "maxdiff_math_on_ref_answers": float(np.abs(math - ref["vector"]).max()),
               "maxdiff_ours_fp16": float(np.abs(d16 - ref["vector"]).max()),
               "answers_diff_fp32": sum(x != y for x, y in zip(a32, ref["answers"])),
               "maxdiff_ours_fp32": float(np.abs(d32 - ref["vector"]).max()),
               "ref_seconds": round(ref["seconds"], 1)}
        if not name.startswith("SmolLM2"):
            a1, _ = ours16_b1.answers(path)
            row["answers_diff_bs1_fp16"] = sum(x != y for x, y in zip(a1, ref["answers"]))
            row["answers_diff_bs1_vs_batched"] = sum(x != y for x, y in zip(a1, a16))
        rows.append(row)
        vec["ref"][name], vec["ours16"][name], vec["ours32"][name] = ref["vector"], d16, d32
        print(json.dumps(row), flush=True)
    names = list(models)
    pairs = list(itertools.combinations(names, 2))

    def dists(k):
        return np.array([np.linalg.norm(vec[k][a] - vec[k][b]) for a, b in pairs])

    corr16 = float(np.corrcoef(dists("ref"), dists("ours16"))[0, 1])
    corr32 = float(np.corrcoef(dists("ref"), dists("ours32"))[0, 1])
    print(f"\nprobes={args.n_probes} max_new_tokens={args.max_new_tokens} greedy, MiniLM, rows L2, seed 42")
    cols = list(rows[0])
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(f"{r.get(c, ''):.3g}" if isinstance(r.get(c), float) else str(r.get(c, "")) for c in cols))
    print(f"pairwise-distance Pearson r over {len(pairs)} pairs: ours fp16 vs ref {corr16:.6f}; "
          f"ours fp32 vs ref {corr32:.6f}")
    (work / "parity.json").write_text(json.dumps({"rows": rows, "corr_fp16": corr16, "corr_fp32": corr32}, indent=1))


if __name__ == "__main__":
    main()
