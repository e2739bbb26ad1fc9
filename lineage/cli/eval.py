"""`lineage eval`: score inferred lineage against a known genealogy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lineage.cli._output import Format, info, render_rows
from lineage.cli.options import Classifier, Method, Split, opt


def eval_cmd(
    truth: Annotated[Path, typer.Option("--truth", help="Ground-truth genealogy (truth.json).")],
    dna: Annotated[Optional[list[Path]], typer.Argument(help="DNA files (.dna.json) of models in the truth; without them, the manifest's models are evaluated with every channel.")] = None,
    manifest: Annotated[Optional[Path], typer.Option("--manifest", help="Manifest: dates, families, declared parents.")] = None,
    fpr: Annotated[float, opt("fpr", "False-positive rate for 'related'.")] = 0.01,
    split: Annotated[Split, typer.Option("--split", help="Group-disjoint folds: by model, by family, or both.")] = "both",
    classifier: Annotated[Classifier, typer.Option("--classifier", help="null (p-value), svm (paper's RBF-SVM) or both.")] = "null",
    n_splits: Annotated[int, opt("n_splits", "Folds per split.")] = 5,
    method: Annotated[Method, typer.Option("--method", help="Tree method.")] = "nj",
    k: Annotated[int, opt("k", "Nearest neighbours per model (parent candidates).")] = 10,
    random_state: Annotated[int, opt("random_state", "Seed for folds and null sampling.")] = 0,
    blind: Annotated[bool, typer.Option("--blind", help="Ignore declared parents, relations and families (dates kept).")] = False,
    channels: Annotated[str, typer.Option("--channels", help="Evidence channels, comma-separated: dna (always), weights, logits.")] = "dna,weights,logits",
    n_probes: Annotated[int, opt("n_probes", "Probes per model (manifest mode).")] = 100,
    max_new_tokens: Annotated[int, opt("max_new_tokens", "Tokens per answer (manifest mode).")] = 64,
    format: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.table,
) -> None:
    """Infer parents, relations and the tree, then score them against the ground truth.

    With DNA files, the DNA alone is scored. Without them, every model of the manifest is
    evaluated (DNAs and weight profiles from their caches, extracted when missing), and the
    DNA alone and the combined evidence are scored side by side.

    Example: lineage eval --truth zoo/truth.json --manifest zoo/manifest.yaml --blind
    """
    from lineage.pipeline.evaluate import evaluate_files

    if not dna:
        _eval_manifest(truth, manifest, blind=blind, channels=channels, fpr=fpr, split=split, n_splits=n_splits,
                       method=method, k=k, random_state=random_state, n_probes=n_probes,
                       max_new_tokens=max_new_tokens, format=format)
        return
    ev = evaluate_files(truth, dna, manifest=manifest, fpr=fpr, split=split, classifier=classifier,
                        n_splits=n_splits, method=method, k=k, random_state=random_state)
    if manifest is None:
        info("no --manifest: undocumented-relation and conflict scores need declared parents; skipped")
    render_rows([{"metric": r.metric, "value": r.value, "n": r.n, "note": r.note} for r in ev.rows], format,
                title=f"evaluation ({len(ev.analysis.ids)} models, fpr {fpr:g})")


def _eval_manifest(truth, manifest, *, blind, channels, n_probes, max_new_tokens, format, **kw) -> None:
    from lineage.cli._progress import ModelProgress
    from lineage.cli.options import settings_from
    from lineage.dna.extract import ExtractConfig
    from lineage.dna.record import GenerationConfig
    from lineage.errors import ConfigError
    from lineage.pipeline.evaluate import evaluate_manifest

    if manifest is None:
        raise ConfigError("give DNA files or --manifest (whose models are then evaluated)")
    chans = tuple(c.strip() for c in channels.split(",") if c.strip())
    bad = [c for c in chans if c not in ("dna", "weights", "logits")]
    if bad or "dna" not in chans:
        raise ConfigError(f"--channels takes dna plus any of weights, logits (comma-separated), not {channels!r}")
    s = settings_from()
    cfg = ExtractConfig(n_probes=n_probes, generation=GenerationConfig(max_new_tokens=max_new_tokens), dna_dim=s.dna_dim)
    with ModelProgress() as hook:
        evs = evaluate_manifest(truth, manifest, blind=blind, channels=chans, extract_config=cfg,
                                cache_dir=s.cache_dir, progress=hook, **kw)
    names = list(evs)
    first = evs[names[0]]
    rows = []
    for i, r in enumerate(first.rows):
        row = {"metric": r.metric}
        for name in names:
            other = evs[name].rows
            match = next((x for x in other if x.metric == r.metric), None)
            row[name] = match.value if match else float("nan")
            if name == names[-1]:
                row["n"] = match.n if match else r.n
                row["note"] = match.note if match else r.note
        rows.append(row)
    setting = "blind: dates only" if blind else "with metadata"
    render_rows(rows, format, title=f"evaluation ({len(first.analysis.ids)} models, {setting}, fpr {kw['fpr']:g})")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_cmd)
