"""DNA extraction: probes -> answers -> embeddings -> DNA, faithful to the paper.

Stages (each testable alone): :mod:`lineage.dna.probes` (ordered, hashed probe set),
:mod:`lineage.loaders` (answers, batched, cached by :mod:`lineage.dna.cache`),
:mod:`lineage.dna.encoders` (answer embeddings, empty answers -> zero rows),
:mod:`lineage.core.measure.dna_math` (row reduction, concatenation, shared projection).

:func:`lineage.dna.batch.extract_dna` is the entry point (``lineage extract`` is it plus
rendering): every model through one :class:`Extractor`, run by an executor from
:mod:`lineage.dna.executors`, one :class:`ExtractResult` (DNA, report, file) per model.

Example
-------
>>> from lineage.dna.extract import ExtractConfig, Extractor
>>> from lineage.dna.batch import extract_dna
>>> ex = Extractor(ExtractConfig(n_probes=100), cache_dir="~/.cache/lineage")   # doctest: +SKIP
>>> dna = ex.extract("models/my-model")                                         # doctest: +SKIP
>>> results = extract_dna(["models/a", "models/b"], out="dna/")                 # doctest: +SKIP
>>> [(r.dna.model_id, r.report.n_cached, r.path) for r in results]              # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lineage.dna.record import DNA, GenerationConfig, Provenance
from lineage.errors import ConfigError, DegenerateModelError

__all__ = ["ExtractConfig", "Extractor", "ExtractReport", "ExtractResult", "entry_from"]

DEGENERATE_FRACTION = 0.5


class ExtractConfig(BaseModel):
    """Everything that shapes a DNA (and so its provenance), plus runtime knobs.

    Attributes
    ----------
    probes : str
        ``rand``, ``paper``, ``paper:<folder>`` or a ``.jsonl``/``.txt`` file.
    n_probes : int
        Number of probes (first n of a file / the paper mix).
    probe_seed : int
        Seed of the ``rand`` grammar.
    generation : GenerationConfig
    encoder : str or None
        None = offline MiniLM; ``paper`` = Qwen3-Embedding-8B (64-d prefix); or a folder / hub id.
    device, dtype : str
        ``auto`` = CUDA with bfloat16 when available, else CPU float32.
    batch_size : 'auto' or int
    threads : 'auto' or int
        CPU threads for generation (runtime only; ``auto`` avoids oversubscribing a busy CPU).
    dna_dim, row_dim : int
    projection_seed : int
        Seed of both shared projections (row reduction and final).
    normalize_rows : bool
        Per-answer L2 normalisation after the row reduction (the paper's setting;
        the reference CLI's ``--normalize-embeddings``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    probes: str = "rand"
    n_probes: int = Field(100, gt=0)
    probe_seed: int = 0
    generation: GenerationConfig = GenerationConfig()
    encoder: str | None = None
    device: str = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    batch_size: Literal["auto"] | int = "auto"
    threads: Literal["auto"] | int = "auto"
    dna_dim: int = Field(128, gt=0)
    row_dim: int = Field(64, gt=0)
    projection_seed: int = Field(42, ge=0, le=2**32 - 1)
    normalize_rows: bool = True

    @field_validator("batch_size")
    @classmethod
    def _positive(cls, v):
        if v != "auto" and int(v) <= 0:
            raise ValueError("batch_size must be 'auto' or a positive integer")
        return v

    def resolved_dtype(self) -> str:
        from lineage.dna.devices import resolve_device, resolve_dtype

        return resolve_dtype(self.dtype, resolve_device(self.device))

    def encoder_id(self) -> tuple[str, str]:
        """``(provenance encoder string, row reduction)`` without loading the encoder."""
        from lineage.dna.encoders import encoder_spec

        enc_id, _, mode = encoder_spec(self.encoder)
        return f"{enc_id}|rows={'l2' if self.normalize_rows else 'raw'}", mode

    def provenance(self, probe_set=None) -> Provenance:
        """The provenance every DNA made with this config carries."""
        from lineage import __version__
        from lineage.dna.probes import resolve_probes

        ps = probe_set or resolve_probes(self.probes, self.n_probes, self.probe_seed)
        enc, mode = self.encoder_id()
        return Provenance(probe_set=ps.name, probe_hash=ps.hash, n_probes=len(ps), generation=self.generation,
                          dtype=self.resolved_dtype(), encoder=enc, row_reduction=mode, row_dim=self.row_dim,
                          dna_dim=self.dna_dim, projection_seed=self.projection_seed, tool_version=__version__)


@dataclass
class ExtractReport:
    """What one ``extract`` call did (for summaries and benchmarks)."""

    model_id: str
    n_generated: int = 0
    n_cached: int = 0
    n_tokens: int = 0
    generate_seconds: float = 0.0
    seconds: float = 0.0
    batch_size: int | None = None
    n_empty: int = 0
    degenerate: bool = False

    @property
    def tokens_per_s(self) -> float:
        return self.n_tokens / self.generate_seconds if self.generate_seconds > 0 else 0.0


def entry_from(model) -> "object":
    """A ManifestEntry from an entry, a path, or a hub id string."""
    from lineage.manifest import ManifestEntry

    if isinstance(model, ManifestEntry):
        return model
    s = str(model)
    p = Path(s).expanduser()
    if p.exists() or s.startswith((".", "/", "~")) or s.endswith(".gguf") or s.count("/") != 1:
        name = p.stem if p.suffix == ".gguf" else p.name
        return ManifestEntry(id=name or s, path=p)
    return ManifestEntry(id=s, hub_id=s)


ProgressFn = Callable[[str, int, int, int], None]  # (model id, probes done, probes total, tokens so far)
#: ``progress(event, info)``: the events ``lineage.pipeline.ingest`` emits too, so one progress display serves both.
ProgressHook = Callable[[str, dict], None]


@dataclass
class ExtractResult:
    """One model's outcome in :func:`extract_dna`.

    Attributes
    ----------
    dna : DNA
    report : ExtractReport
        What extracting it took (a precomputed DNA: no answers generated or cached).
    path : Path or None
        The DNA file written (None without ``out``).
    """

    dna: DNA
    report: ExtractReport
    path: Path | None = None


class Extractor:
    """Extract DNAs with one config; the encoder is loaded once and reused.

    Parameters
    ----------
    config : ExtractConfig
    cache_dir : path
        Response cache root (``Settings.cache_dir``).
    progress : callable, optional
        ``progress(model_id, n_done, n_total, n_tokens)`` after each batch.
    """

    def __init__(self, config: ExtractConfig | None = None, cache_dir: str | Path | None = None,
                 progress: ProgressFn | None = None):
        from lineage.dna.cache import ResponseCache
        from lineage.dna.probes import resolve_probes

        self.config = config or ExtractConfig()
        if cache_dir is None:
            from lineage.settings import load_settings

            cache_dir = load_settings().cache_dir
        self.cache = ResponseCache(Path(cache_dir).expanduser())
        self.probes = resolve_probes(self.config.probes, self.config.n_probes, self.config.probe_seed)
        self.provenance_ = self.config.provenance(self.probes)
        self.progress = progress
        self._encoder = None
        self.reports: list[ExtractReport] = []

    @property
    def encoder(self):
        if self._encoder is None:
            from lineage.dna.encoders import load_encoder
            from lineage.dna.devices import resolve_device

            self._encoder = load_encoder(self.config.encoder, device=resolve_device(self.config.device))
        return self._encoder

    def check(self, entry) -> None:
        """Validate a model source (path, weights, tokenizer files) without loading it."""
        from lineage.loaders import open_source

        entry = entry_from(entry)
        if entry.source_kind != "dna":
            cfg = self.config
            open_source(entry, device=cfg.device, dtype=cfg.dtype, batch_size=cfg.batch_size,
                             threads=cfg.threads)

    # -- answers ---------------------------------------------------------------------
    def answers(self, entry) -> tuple[list[str], ExtractReport]:
        """Every probe's answer for one model, from the cache where possible."""
        from lineage.dna.cache import response_key
        from lineage.loaders import open_source

        entry = entry_from(entry)
        cfg = self.config
        source = open_source(entry, device=cfg.device, dtype=cfg.dtype, batch_size=cfg.batch_size,
                             threads=cfg.threads)
        dtype = source.resolved_dtype()
        if dtype != self.provenance_.dtype:
            raise ConfigError(f"model {entry.id!r} would run in {dtype}, the config says {self.provenance_.dtype}")
        key = response_key(source.identity(), self.probes.hash, cfg.generation, dtype)
        n = len(self.probes)
        slots = self.cache.load(key, n)
        missing = [i for i, a in enumerate(slots) if a is None]
        rep = ExtractReport(model_id=entry.id, n_cached=n - len(missing))
        meta = {"model_id": entry.id, "source": source.kind, "probe_hash": self.probes.hash,
                "generation": cfg.generation.model_dump(mode="json"), "dtype": dtype}
        if missing:
            def on_batch(idx: Sequence[int], texts: Sequence[str], counts: Sequence[int]) -> None:
                for i, t in zip(idx, texts):
                    slots[i] = t
                rep.n_tokens += sum(counts)
                self.cache.save(key, slots, meta)
                if self.progress:
                    self.progress(entry.id, sum(a is not None for a in slots), n, rep.n_tokens)

            try:
                stats = source.generate([self.probes.texts[i] for i in missing], missing, cfg.generation, on_batch)
            finally:
                source.close()
            rep.n_generated, rep.generate_seconds, rep.batch_size = len(missing), stats.seconds, stats.batch_size
        elif self.progress:
            self.progress(entry.id, n, n, 0)
        return [a or "" for a in slots], rep

    # -- DNA -------------------------------------------------------------------------
    def dna_from_answers(self, model_id: str, answers: Sequence[str], meta: dict | None = None) -> DNA:
        """Encode answers and project them (no generation)."""
        from lineage.core.measure.dna_math import dna_from_embeddings, empty_mask

        cfg = self.config
        if len(answers) != len(self.probes):
            raise ConfigError(f"model {model_id!r}: {len(answers)} answers for {len(self.probes)} probes")
        n_empty = int(empty_mask(answers).sum())
        if n_empty == len(answers):
            raise DegenerateModelError(f"model {model_id!r} answered every one of the {n_empty} probes with nothing")
        emb = self.encoder.encode(answers)
        vec = dna_from_embeddings(emb, mode=self.provenance_.row_reduction, row_dim=cfg.row_dim,
                                  dna_dim=cfg.dna_dim, seed=cfg.projection_seed, normalize=cfg.normalize_rows)
        return DNA(model_id=model_id, vector=vec, provenance=self.provenance_, n_empty=n_empty,
                   degenerate=n_empty / len(answers) > DEGENERATE_FRACTION, meta=dict(meta or {}))

    def extract(self, entry) -> DNA:
        """The DNA of one model (ManifestEntry, folder, .gguf path or hub id)."""
        return self.extract_with_report(entry)[0]

    def extract_with_report(self, entry) -> tuple[DNA, ExtractReport]:
        """The DNA of one model and what extracting it took.

        The report of a generated DNA is also appended to ``reports``; a precomputed DNA
        (read from its file, nothing generated) gets a report of its own that is not.
        """
        t0 = time.perf_counter()
        entry = entry_from(entry)
        if entry.source_kind == "dna":
            from lineage.dna.record import check_comparable
            from lineage.loaders.precomputed import load_precomputed

            d = load_precomputed(entry.dna, model_id=entry.id)
            ref = DNA(model_id="(this config)", vector=d.vector, provenance=self.provenance_)
            check_comparable([ref, d])
            return d, ExtractReport(model_id=entry.id, n_empty=d.n_empty, degenerate=d.degenerate,
                                    seconds=time.perf_counter() - t0)
        answers, rep = self.answers(entry)
        meta = {"source": entry.source_kind}
        d = self.dna_from_answers(entry.id, answers, meta)
        rep.n_empty, rep.degenerate, rep.seconds = d.n_empty, d.degenerate, time.perf_counter() - t0
        self.reports.append(rep)
        return d, rep
