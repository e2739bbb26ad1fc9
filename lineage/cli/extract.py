"""`lineage extract`: the DNA of one or more models, one file per model plus a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from lineage.cli._output import Format, info, render_rows
from lineage.cli.options import Dtype, Executor, opt


def extract_cmd(
    models: Annotated[List[str], typer.Argument(help="Model folders, .gguf files or hub ids.", show_default=False)],
    probes: Annotated[str, opt("probes", "rand, paper, paper:<folder>, or a .jsonl/.txt file.")] = "rand",
    n_probes: Annotated[int, opt("n_probes", "Number of probes.")] = 100,
    probe_seed: Annotated[int, opt("probe_seed", "Seed of the rand probe grammar.")] = 0,
    max_new_tokens: Annotated[int, opt("max_new_tokens", "New tokens per answer.")] = 64,
    temperature: Annotated[float, opt("temperature", "0 = greedy (deterministic).")] = 0.0,
    top_p: Annotated[float, opt("top_p", "Nucleus sampling (only when temperature > 0).")] = 1.0,
    seed: Annotated[int, opt("seed", "Sampling seed (only when temperature > 0).")] = 0,
    chat_template: Annotated[bool, typer.Option("--chat-template/--no-chat-template",
                                                help="Wrap probes in the tokenizer's chat template when it has one.")] = True,
    encoder: Annotated[Optional[str], typer.Option(help="Sentence encoder: default offline MiniLM; 'paper' = "
                                                   "Qwen3-Embedding-8B; or a local folder / hub id.", show_default=False)] = None,
    device: Annotated[str, opt("device", "Where the model runs.")] = "auto",
    dtype: Annotated[Dtype, typer.Option(help="auto = bfloat16 on CUDA (float16 on older GPUs), float32 on CPU.")] = "auto",
    batch_size: Annotated[str, opt("batch_size", "'auto' (from free memory) or an integer.")] = "auto",
    dna_dim: Annotated[int, opt("dna_dim", "DNA dimension.")] = 128,
    projection_seed: Annotated[int, opt("projection_seed", "Seed of the shared projections.")] = 42,
    out: Annotated[Path, typer.Option(help="Folder for the DNA files.")] = Path("dna"),
    cache_dir: Annotated[Optional[Path], typer.Option(help="Response cache (default LINEAGE_CACHE_DIR).",
                                                      show_default=False)] = None,
    format: Annotated[Format, typer.Option("--format", help="Summary format.")] = Format.table,
    executor: Annotated[Executor, typer.Option(help="Where models are extracted: in this process, or one Ray "
                                               "task per model (needs the ray extra).")] = "local",
    address: Annotated[Optional[str], opt("address", "Ray cluster address (--executor ray; default "
                                          "RAY_ADDRESS or a new local cluster).")] = None,
) -> None:
    """Extract the DNA of each model and write <out>/<model>.dna.json, then print a summary.

    Answers are cached (by model content, probes, generation settings and dtype), so a
    rerun or an interrupted run never regenerates them; changing --encoder re-encodes
    only. With --executor ray each model is one Ray task (a GPU each when the cluster
    has GPUs); answers go to the shared cache and DNAs come back to be written here.

    Option values are checked before any model is opened.

    Example: lineage extract ./models/my-model model.gguf --n-probes 100 --max-new-tokens 64 --out dna/
    """
    from lineage.cli._progress import ModelProgress
    from lineage.cli.options import settings_from
    from lineage.dna.batch import extract_dna
    from lineage.dna.extract import ExtractConfig
    from lineage.dna.record import GenerationConfig

    cfg = ExtractConfig(  # batch_size is 'auto' or an int (its parser's)
        probes=probes, n_probes=n_probes, probe_seed=probe_seed, encoder=encoder, device=device,
        dtype=dtype, batch_size=batch_size, dna_dim=dna_dim, projection_seed=projection_seed,
        generation=GenerationConfig(max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
                                    seed=seed, chat_template=chat_template))
    with ModelProgress(announce_failures=False) as hook:
        results = extract_dna(models, config=cfg, out=out, cache_dir=cache_dir or settings_from().cache_dir,
                              progress=hook, executor=executor, address=address)
    rows = [{"model": r.dna.model_id, "n_empty": r.dna.n_empty, "degenerate": r.dna.degenerate,
             "cached": r.report.n_cached, "seconds": round(r.report.seconds, 2),
             "tokens_per_s": round(r.report.tokens_per_s, 1), "file": str(r.path)} for r in results]
    render_rows(rows, format, title="DNA extraction")
    degenerate = [r["model"] for r in rows if r["degenerate"]]
    if degenerate:
        info(f"warning: degenerate (mostly empty answers): {', '.join(degenerate)}")


def register(app: typer.Typer) -> None:
    app.command("extract")(extract_cmd)
