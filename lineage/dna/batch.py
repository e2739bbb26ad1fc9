"""A batch of models to DNAs: :func:`extract_dna`, what ``lineage extract`` calls (the
per-model work is :class:`lineage.dna.extract.Extractor`; where it runs,
:mod:`lineage.dna.executors`)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from lineage.dna.executors import extract_each, make_executor
from lineage.dna.extract import ExtractConfig, ExtractResult, Extractor, ProgressHook, entry_from
from lineage.dna.files import dna_filename, save_dna
from lineage.errors import LineageError

__all__ = ["extract_dna"]


def extract_dna(models: Iterable, config: ExtractConfig | None = None, out: str | Path | None = None,
                cache_dir: str | Path | None = None, progress: ProgressHook | None = None,
                executor: str | object = "local", address: str | None = None) -> list[ExtractResult]:
    """Extract the DNA of every model; with ``out``, also write ``<out>/<dna_filename(id)>``.

    Every source is checked (path, weights, tokenizer files) before any model is run, so a
    typo fails in seconds, not after the other models. Models run through ``executor``
    (:mod:`lineage.dna.executors`); each DNA file is written as soon as its model is done.
    The first model that fails stops the call with its :class:`~lineage.errors.LineageError`
    (files already written stay; rerunning resumes from the response cache).

    Parameters
    ----------
    models : iterable of ManifestEntry, path or hub id
    config : ExtractConfig, optional
        Default ``ExtractConfig()``; the Ray executor pins ``auto`` device and dtype to its workers'.
    out : path, optional
    cache_dir : path, optional
        Response cache root; defaults to ``Settings().cache_dir``.
    progress : callable, optional
        ``progress(event, info)`` with the events of :func:`lineage.pipeline.ingest.ingest`:
        ``batch_start`` ``{"n_models"}`` once, ``model_start`` ``{"model"}``, ``extract_progress``
        ``{"model", "done", "total", "tokens"}`` after each batch of answers, ``model_done`` ``{"model", "skipped": False}`` and
        ``model_failed`` ``{"model", "error"}``.
    executor : {"local", "ray"} or an executor object
        Where models run: this process, one at a time (default), or one Ray task each. An
        executor named here is closed on return; an executor object is left to its caller.
    address : str, optional
        Ray cluster address (``executor="ray"`` only).

    Returns
    -------
    list of ExtractResult, in the order of ``models``
    """
    emit = progress or (lambda event, info: None)

    def on_batch(model_id: str, done: int, total: int, tokens: int) -> None:
        emit("extract_progress", {"model": model_id, "done": done, "total": total, "tokens": tokens})

    entries = [entry_from(m) for m in models]
    runner = make_executor(executor, address)
    try:
        ex = Extractor(runner.configure(config), cache_dir, progress=on_batch)
        for e in entries:  # fail on a bad path before spending minutes on the others
            ex.check(e)
        results = []
        emit("batch_start", {"n_models": len(entries)})
        for entry, outcome in extract_each(ex, entries, runner,
                                           on_start=lambda e: emit("model_start", {"model": e.id})):
            if isinstance(outcome, LineageError):
                emit("model_failed", {"model": entry.id, "error": outcome.message})
                raise outcome
            if out is not None:
                outcome.path = save_dna(outcome.dna, Path(out) / dna_filename(outcome.dna.model_id))
            results.append(outcome)
            emit("model_done", {"model": entry.id, "skipped": False})
    finally:
        if runner is not executor:  # made here: ours to close
            runner.close()
    return results
