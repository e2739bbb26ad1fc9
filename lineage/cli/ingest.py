"""`lineage ingest MANIFEST`: a batch of models into the lineage graph."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lineage.cli._output import Format, model_failed, render_rows, warning_line
from lineage.cli._progress import ModelProgress
from lineage.cli.options import Executor, Method, opt, settings_from


def ingest_cmd(
    manifest: Annotated[Path, typer.Argument(help="YAML or JSONL manifest of models (see README: Manifest).")],
    probes: Annotated[str, opt("probes", "Probe set: rand, paper, or a .jsonl/.txt file.")] = "rand",
    n_probes: Annotated[int, opt("n_probes", "Number of probes.")] = 100,
    max_new_tokens: Annotated[int, opt("max_new_tokens", "Tokens generated per probe.")] = 64,
    encoder: Annotated[Optional[str], typer.Option(help="Sentence encoder (default: offline all-MiniLM-L6-v2).")] = None,
    device: Annotated[str, opt("device", "Where the models run.")] = "auto",
    batch_size: Annotated[str, opt("batch_size", "Generation batch size, or auto.")] = "auto",
    k: Annotated[int, opt("k", "Similarity edges per model.")] = 10,
    fpr: Annotated[float, opt("fpr", "False-positive rate for relatedness decisions.")] = 0.01,
    method: Annotated[Method, typer.Option(help="Tree method.")] = "nj",
    force: Annotated[bool, typer.Option(help="Re-extract models already in the graph.")] = False,
    full: Annotated[bool, typer.Option(help="Re-analyse the whole graph instead of placing the batch onto the "
                                       "stored analysis (placement applies from 1,000 analysed DNA-only models).")] = False,
    executor: Annotated[Executor, typer.Option(help="Where models are extracted: in this process, or one Ray "
                                               "task per model (needs the ray extra).")] = "local",
    address: Annotated[Optional[str], opt("address", "Ray cluster address (--executor ray; default "
                                          "RAY_ADDRESS or a new local cluster).")] = None,
    format: Annotated[Format, typer.Option("--format", help="Summary format.")] = Format.table,
) -> None:
    """Extract what is missing, load the batch into Neo4j, and recompute tree, parents and relations.

    On a graph of 1,000 or more analysed DNA-only models a batch is placed: only the new models and
    the stored models they come close to are decided again (the summary's "analysis" row says which
    ran and why); --full re-analyses everything.

    Rerunning the same batch changes nothing; a failed model is recorded and the rest lands
    (exit code 2 when any model failed). Option values are checked before the graph is touched.

    With --executor ray each model is one Ray task (a GPU each when the cluster has GPUs);
    the graph is still written once, here.

    Example: lineage ingest zoo/manifest.yaml --n-probes 100 --max-new-tokens 64
    """
    from lineage.dna.record import GenerationConfig
    from lineage.dna.extract import ExtractConfig
    from lineage.pipeline.ingest import ingest

    s = settings_from()
    cfg = ExtractConfig(probes=probes, n_probes=n_probes, generation=GenerationConfig(max_new_tokens=max_new_tokens),
                        encoder=encoder, device=device, batch_size=batch_size, dna_dim=s.dna_dim)
    with ModelProgress() as hook:
        rep = ingest(manifest, settings=s, extract_config=cfg, k=k, fpr=fpr, method=method, force=force, full=full,
                     progress=hook, executor=executor, address=address)
    render_rows(rep.summary_rows(), format, title="ingest")
    for child, parent in rep.unknown_parents:
        warning_line(f"{child!r} declares parent {parent!r}, which is neither in this batch nor in the graph: "
                     "no edge drawn")
    for model_id, why in rep.failures:
        model_failed(model_id, why)
    if rep.failures:
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_cmd)
