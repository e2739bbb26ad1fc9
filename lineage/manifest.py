"""Manifests (batches of models to ingest) and ground-truth genealogies.

Manifest: YAML (a list of entries, or ``{models: [...]}``) or JSONL (one entry per
line). Each entry names exactly one source: ``path`` (a Hugging Face folder or a
``.gguf`` file), ``hub_id``, ``endpoint`` (an OpenAI-compatible base URL, with
``endpoint_model``), or only ``dna`` (a precomputed DNA file). Relative paths are
relative to the manifest file. Unknown fields are refused.

Ground truth (JSON): ``{"models": [{"id", "family"}...], "edges": [{"parent", "child", "relation"}...]}``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lineage.errors import ManifestError

class _Loader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps: dates stay text and pydantic parses them,
    so a bad date is a one-line error naming the entry instead of a crash inside PyYAML."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

Relation = Literal["finetune", "adapter", "merge", "quantized", "distillation", "pruned"]


class ManifestEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    path: Path | None = None
    hub_id: str | None = None
    endpoint: str | None = None
    endpoint_model: str | None = None
    api_key_env: str | None = None
    dna: Path | None = None
    name: str | None = None
    family: str | None = None
    organisation: str | None = None
    release_date: dt.date | None = None
    licence: str | None = None
    architecture: str | None = None
    params: int | None = None
    base_model: list[str] = Field(default_factory=list)
    base_model_relation: Relation | None = None
    trust_remote_code: bool = False
    allow_pickle: bool = False

    @field_validator("base_model", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        if v is None:
            return []
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _one_source(self):
        sources = [n for n in ("path", "hub_id", "endpoint") if getattr(self, n) is not None]
        if len(sources) > 1:
            raise ValueError(f"give only one of path, hub_id, endpoint (got {', '.join(sources)})")
        if not sources and self.dna is None:
            raise ValueError("needs a source: one of path, hub_id, endpoint, or a precomputed dna file")
        if self.endpoint is not None and not self.endpoint_model:
            raise ValueError("an endpoint entry needs endpoint_model (the model name the server expects)")
        return self

    @property
    def source_kind(self) -> str:
        """What the DNA comes from. A precomputed ``dna`` wins: the other source then only
        says where the model lives (its card is still read for metadata)."""
        if self.dna is not None:
            return "dna"
        if self.endpoint:
            return "endpoint"
        if self.hub_id:
            return "hub"
        if self.path is not None:
            return "gguf" if str(self.path).endswith(".gguf") else "folder"
        return "dna"


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Path | None = None
    models: list[ManifestEntry]

    def ids(self) -> list[str]:
        return [m.id for m in self.models]


def _format_validation(e: ValidationError) -> str:
    err = e.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if p != "models")
    msg = err["msg"].removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def parse_manifest(data: object, *, base_dir: Path | None = None, origin: str = "<manifest>") -> Manifest:
    """Validate manifest content already parsed from YAML/JSON."""
    if isinstance(data, dict) and "models" in data:
        extra = set(data) - {"models"}
        if extra:
            raise ManifestError(f"{origin}: unknown top-level field(s) {sorted(extra)}; only 'models' is allowed")
        data = data["models"]
    if not isinstance(data, list) or not data:
        raise ManifestError(f"{origin}: expected a non-empty list of model entries")
    entries: list[ManifestEntry] = []
    seen: set[str] = set()
    for i, raw in enumerate(data, start=1):
        label = raw.get("id") if isinstance(raw, dict) else None
        where = f"{origin}: entry {i}" + (f" ({label!r})" if label else "")
        if not isinstance(raw, dict):
            raise ManifestError(f"{where}: expected a mapping of fields, got {type(raw).__name__}")
        try:
            entry = ManifestEntry.model_validate(raw)
        except ValidationError as e:
            raise ManifestError(f"{where}: {_format_validation(e)}") from None
        if entry.id in seen:
            raise ManifestError(f"{where}: duplicate id {entry.id!r}; ids must be unique in a manifest")
        seen.add(entry.id)
        if base_dir is not None:
            for attr in ("path", "dna"):
                p = getattr(entry, attr)
                if p is not None and not p.is_absolute():
                    setattr(entry, attr, (base_dir / p).resolve())
        entries.append(entry)
    return Manifest(models=entries)


def load_manifest(path: str | Path) -> Manifest:
    """Read a YAML or JSONL manifest; every problem is a one-line :class:`ManifestError`."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest {path} does not exist", hint="pass the path of a .yaml or .jsonl manifest")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix in (".jsonl", ".ndjson"):
            data = []
            for n, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        data.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise ManifestError(f"{path}:{n}: invalid JSON ({e.msg})") from None
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            data = yaml.load(text, Loader=_Loader)
    except json.JSONDecodeError as e:
        raise ManifestError(f"{path}:{e.lineno}: invalid JSON ({e.msg})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ManifestError(f"{path}{line}: invalid YAML ({getattr(e, 'problem', e)})") from None
    m = parse_manifest(data, base_dir=path.parent.resolve(), origin=str(path))
    m.path = path
    return m


class TruthEdge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parent: str
    child: str
    relation: str


class TruthModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    family: str


class GroundTruth(BaseModel):
    """The true genealogy of a population (the zoo writes one)."""

    model_config = ConfigDict(extra="forbid")
    models: list[TruthModel]
    edges: list[TruthEdge]

    def parent_of(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {m.id: [] for m in self.models}
        for e in self.edges:
            out.setdefault(e.child, []).append(e.parent)
        return out


def load_truth(path: str | Path) -> GroundTruth:
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"ground-truth file {path} does not exist")
    try:
        return GroundTruth.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as e:
        raise ManifestError(f"{path}: {_format_validation(e)}") from None
