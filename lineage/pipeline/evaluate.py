"""Evaluate inferred lineage from files: DNA files, a ground truth and optionally a manifest.

The scoring itself is pure and lives in :mod:`lineage.core.score.evaluation`; this module
reads the files and hands arrays to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from lineage.core.score.evaluation import (Classifier, Evaluation, EvaluationRow, Split, cross_validate_relatedness,
                                     evaluate_population)

__all__ = ["Classifier", "Evaluation", "EvaluationRow", "Split", "cross_validate_relatedness",
           "evaluate_files", "evaluate_population"]


def evaluate_files(
    truth: str | Path,
    dna_paths: Sequence[str | Path],
    *,
    manifest: str | Path | None = None,
    fpr: float = 0.01,
    split: str = "both",
    classifier: str = "null",
    n_splits: int = 5,
    method: str = "nj",
    k: int = 10,
    random_state: int = 0,
) -> Evaluation:
    """Load DNA files, a ground truth and optionally a manifest, then :func:`evaluate_population`.

    Models in the truth without a DNA file are ignored; DNA files of models not in
    the truth are refused (their truth is unknown).
    """
    from lineage.dna.record import stack
    from lineage.dna.files import expand_dna_paths, load_dna
    from lineage.errors import ConfigError, InputError
    from lineage.manifest import load_manifest, load_truth

    if split not in ("model", "family", "both"):
        raise ConfigError(f"split must be model, family or both, not {split!r}")
    if classifier not in ("null", "svm", "both"):
        raise ConfigError(f"classifier must be null, svm or both, not {classifier!r}")
    gt = load_truth(truth)
    dnas = [load_dna(p) for p in expand_dna_paths(dna_paths)]
    if len(dnas) < 3:
        raise InputError(f"need at least 3 DNA files to evaluate, got {len(dnas)}", hint="pass more DNA files")
    ids, X = stack(dnas)
    fam = {m.id: m.family for m in gt.models}
    unknown = [m for m in ids if m not in fam]
    if unknown:
        raise InputError(f"model {unknown[0]!r} has a DNA file but is not in {truth}",
                         hint="add it to the ground truth or leave its DNA file out")
    kwargs: dict = {}
    if manifest is not None:
        man = {e.id: e for e in load_manifest(manifest).models}
        entries = [man.get(m) for m in ids]
        kwargs = dict(
            release_dates=[e.release_date if e else None for e in entries],
            families=[e.family if e else None for e in entries],
            declared_parents=[list(e.base_model) if e else [] for e in entries],
            declared_relations=[e.base_model_relation if e else None for e in entries],
        )
    splits = ("model", "family") if split == "both" else (split,)
    clfs = ("null", "svm") if classifier == "both" else (classifier,)
    try:
        return evaluate_population(ids, X, gt.parent_of(), fam, fpr=fpr, splits=splits, classifiers=clfs,
                                   n_splits=n_splits, method=method, k=k, random_state=random_state, **kwargs)
    except ValueError as e:
        raise InputError(f"cannot evaluate: {e}") from None


def evaluate_manifest(
    truth: str | Path,
    manifest: str | Path,
    *,
    blind: bool = False,
    channels: Sequence[str] = ("dna", "weights", "logits"),
    extract_config=None,
    cache_dir: str | Path | None = None,
    fpr: float = 0.05,
    split: str = "both",
    n_splits: int = 5,
    method: str = "nj",
    k: int = 10,
    random_state: int = 0,
    progress=None,
) -> dict[str, Evaluation]:
    """The whole inference for a manifest's models, scored per channel set against a ground truth.

    Every model's DNA comes from the response cache when its answers are there (else it
    is extracted: generation runs); weight and next-token profiles come from their caches
    (else the weights are read, or the model run on the fixed text, once). ``blind`` ignores declared parents, relations and families
    (release dates are kept): the setting in which the inference must stand on evidence.

    Returns
    -------
    dict of str to Evaluation
        ``"dna"`` (the DNA alone) and, when another channel applies to any model,
        ``"combined"`` (every channel in ``channels``).
    """
    import logging

    from lineage.core.score.evaluation import evaluate_channels
    from lineage.core.infer.population import Population
    from lineage.dna.extract import ExtractConfig, Extractor
    from lineage.dna.record import stack
    from lineage.errors import InputError, LineageError
    from lineage.evidence.profiles import model_evidence
    from lineage.evidence.weights import exact_refiner
    from lineage.manifest import load_manifest, load_truth
    from lineage.modelcard import enrich

    if split not in ("model", "family", "both"):
        raise InputError(f"split must be model, family or both, not {split!r}")
    gt = load_truth(truth)
    man = load_manifest(manifest)
    entries = [enrich(e)[0] for e in man.models]
    fam = {m.id: m.family for m in gt.models}
    unknown = [e.id for e in entries if e.id not in fam]
    if unknown:
        raise InputError(f"model {unknown[0]!r} is in {manifest} but not in {truth}",
                         hint="add it to the ground truth or leave it out of the manifest")
    if len(entries) < 3:
        raise InputError(f"need at least 3 models to evaluate, got {len(entries)}")
    ex = Extractor(extract_config or ExtractConfig(), cache_dir=cache_dir)
    dnas, profiles, lprofiles = [], [], []
    if progress:
        progress("batch_start", {"n_models": len(entries)})
    for e in entries:
        if progress:
            progress("model_start", {"model": e.id})
        try:
            dnas.append(ex.extract(e))
        except LineageError as err:
            raise InputError(f"model {e.id!r}: {err}", hint="fix or drop this model to evaluate the rest") from None
        # policy: raise (one InputError naming the model and the fix); an endpoint without
        # logprobs is not an error: its next-token channel is absent, with a warning
        evidence = model_evidence(e, cache_dir=cache_dir, channels=channels, on_error="raise")
        for channel, why in evidence.notes.items():
            logging.getLogger("lineage").warning("warning: %s; the %s channel is absent for this model", why, channel)
        profiles.append(evidence.weights)
        lprofiles.append(evidence.logits)
        if progress:
            progress("model_done", {"model": e.id})
    ids, X = stack(dnas)
    by_id = {e.id: (e, w, lg) for e, w, lg in zip(entries, profiles, lprofiles)}
    ents = [by_id[m][0] for m in ids]
    pop = Population(ids=ids, X=X, release_dates=[e.release_date for e in ents],
                     families=[e.family for e in ents], declared_parents=[list(e.base_model) for e in ents],
                     declared_relations=[e.base_model_relation for e in ents],
                     weights=[by_id[m][1] for m in ids], logits=[by_id[m][2] for m in ids],
                     refine=exact_refiner([getattr(e, "path", None) for e in ents]))
    if blind:
        pop = pop.blind()  # undocumented relations and conflicts are scored as if nothing were declared
    try:
        return evaluate_channels(pop, gt.parent_of(), fam, fpr=fpr, n_splits=n_splits, method=method, k=k,
                                 random_state=random_state,
                                 splits=("model", "family") if split == "both" else (split,),
                                 true_relations={(ed.parent, ed.child): ed.relation for ed in gt.edges})
    except ValueError as e:
        raise InputError(f"cannot evaluate: {e}") from None
