"""Manifests (batches of models to ingest) and ground-truth genealogies.

Manifest: YAML (a list of entries, or ``{models: [...]}``) or JSONL (one entry per
line). Each entry names exactly one source: ``path`` (a Hugging Face folder or a
``.gguf`` file), ``hub_id``, ``endpoint`` (an OpenAI-compatible base URL, with
``endpoint_model``), or only ``dna`` (a precomputed DNA file). Relative paths are
relative to the manifest file. Unknown fields are refused.

Ground truth (JSON): ``{"models": [{"id", "family"}...], "edges": [{"parent", "child", "relation"}...]}``.

Hostile input is refused here, before anything is written, as one :class:`ManifestError`
naming the file (and the entry): files over :data:`MAX_FILE_BYTES`, text that is not
UTF-8, a directory where a file is expected, YAML aliases (alias bombs), nesting deeper
than :data:`MAX_DEPTH`, ids longer than :data:`MAX_ID_LENGTH` (Neo4j's index refuses
keys above about 8 kB, and would fail the whole batch), endpoint URLs carrying
credentials, and impossible declared lineage (a model its own parent, the same parent
twice, a cycle among the batch's declarations). The ground truth refuses self-edges,
duplicate edges and cycles.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from pathlib import Path
from typing import Iterable, Literal
from urllib.parse import parse_qsl, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lineage.errors import ManifestError
from lineage.io import MAX_DEPTH, MAX_FILE_BYTES, check_depth, load_yaml_text, read_text_file  # noqa: F401 (re-exported)

log = logging.getLogger("lineage")

#: Longest model id (characters); longer ones are refused naming the entry.
MAX_ID_LENGTH = 512


_SECRET_PARAM = re.compile(r"(key|token|secret|passw|pwd|auth|sig|credential|session)", re.I)


def url_credentials(url: str) -> str | None:
    """What secret a URL carries (``None`` when none): a ``user:password@`` part, or a
    query parameter whose name looks like a key or token. Never returns the secret."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "credentials (user:password@host)"
    for name, _ in parse_qsl(parts.query, keep_blank_values=True):
        if _SECRET_PARAM.search(name):
            return f"a credential in its query (parameter {name!r})"
    return None


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` part and query string removed (safe to print)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=host, query="", fragment="").geturl()


Relation = Literal["finetune", "adapter", "merge", "quantized", "distillation", "pruned"]


class ManifestEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
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
    base_model: list[str] = Field(default_factory=list)  # each checked like an id below
    base_model_relation: Relation | None = None
    trust_remote_code: bool = False
    allow_pickle: bool = False

    @field_validator("base_model", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        if v is None:
            return []
        return [v] if isinstance(v, str) else v

    @field_validator("base_model")
    @classmethod
    def _parents_are_ids(cls, v: list[str]) -> list[str]:
        for p in v:
            if not p or len(p) > MAX_ID_LENGTH:
                raise ValueError(f"a base_model id must have 1 to {MAX_ID_LENGTH} characters")
        if len(set(v)) != len(v):
            dup = next(p for p in v if v.count(p) > 1)
            raise ValueError(f"base_model {dup!r} is declared twice")
        return v

    @field_validator("endpoint")
    @classmethod
    def _no_credentials_in_url(cls, v: str | None) -> str | None:
        if v is not None:
            why = url_credentials(v)
            if why:
                raise ValueError(f"the endpoint URL carries {why}; it would be stored in the graph. Remove it "
                                 "and put the key in an environment variable named by api_key_env")
        return v

    @model_validator(mode="after")
    def _one_source(self):
        sources = [n for n in ("path", "hub_id", "endpoint") if getattr(self, n) is not None]
        if len(sources) > 1:
            raise ValueError(f"give only one of path, hub_id, endpoint (got {', '.join(sources)})")
        if not sources and self.dna is None:
            raise ValueError("needs a source: one of path, hub_id, endpoint, or a precomputed dna file")
        if self.endpoint is not None and not self.endpoint_model:
            raise ValueError("an endpoint entry needs endpoint_model (the model name the server expects)")
        if self.id in self.base_model:
            raise ValueError(f"model {self.id!r} is declared as its own parent (base_model)")
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
        shown = repr(label) if len(repr(label)) <= 80 else repr(label)[:60] + "...'"
        where = f"{origin}: entry {i}" + (f" ({shown})" if label else "")
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
    cycle = find_cycle((e.id, p) for e in entries for p in e.base_model)
    if cycle:
        raise ManifestError(f"{origin}: declared lineage has a cycle: {' -> '.join(map(repr, cycle))} "
                            "(each model's base_model points back to it)",
                            hint="a model cannot descend from itself; fix the base_model fields of these entries")
    return Manifest(models=entries)


def find_cycle(edges: Iterable[tuple[str, str]]) -> list[str] | None:
    """A cycle in ``(child, parent)`` edges as ``[a, b, ..., a]`` (child to parent), or ``None``."""
    parents: dict[str, list[str]] = {}
    for child, parent in edges:
        parents.setdefault(child, []).append(parent)
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    for start in parents:
        if state.get(start):
            continue
        path, stack = [], [(start, iter(parents.get(start, ())))]
        state[start] = 1
        path.append(start)
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(parents.get(nxt, ()))))
    return None


def unknown_parents(manifest: Manifest, known_ids: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Declared ``(child, parent)`` pairs whose parent is neither in the batch nor in ``known_ids``
    (the graph's ids). Ingest reports them: such a declaration draws no edge."""
    known = set(known_ids) | set(manifest.ids())
    return [(e.id, p) for e in manifest.models for p in e.base_model if p not in known]


def check_declared_lineage(entries: Iterable[ManifestEntry], graph_parents: dict[str, list[str]] | None = None,
                           *, origin: str = "<manifest>") -> None:
    """Refuse a batch whose declarations (model cards included), together with those already
    in the graph (``graph_parents``: id -> declared parents), form a cycle."""
    edges = {m: list(ps) for m, ps in (graph_parents or {}).items()}
    for e in entries:
        edges[e.id] = list(e.base_model)
    cycle = find_cycle((c, p) for c, ps in edges.items() for p in ps)
    if cycle:
        raise ManifestError(f"{origin}: declared lineage has a cycle: {' -> '.join(map(repr, cycle))}",
                            hint="a model cannot descend from itself; fix base_model in the manifest or model card")


def load_manifest(path: str | Path) -> Manifest:
    """Read a YAML or JSONL manifest; every problem is a one-line :class:`ManifestError`."""
    path = Path(path)
    if not path.exists():
        raise ManifestError(f"manifest {path} does not exist", hint="pass the path of a .yaml or .jsonl manifest")
    text = read_text_file(path, "manifest")
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
            data = load_yaml_text(text)
        check_depth(data)
    except RecursionError:
        raise ManifestError(f"{path}: nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as e:
        raise ManifestError(f"{path}:{e.lineno}: invalid JSON ({e.msg})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ManifestError(f"{path}{line}: invalid YAML ({getattr(e, 'problem', e)})") from None
    except ValueError as e:  # check_depth
        raise ManifestError(f"{path}: {e}") from None
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
    """Read a ground-truth genealogy; refuses self-edges, duplicate edges and cycles."""
    path = Path(path)
    text = read_text_file(path, "ground-truth file")
    try:
        data = json.loads(text)
        check_depth(data)
        gt = GroundTruth.model_validate(data)
    except RecursionError:
        raise ManifestError(f"{path}: nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as e:
        raise ManifestError(f"{path}:{e.lineno}: invalid JSON ({e.msg})") from None
    except ValidationError as e:
        raise ManifestError(f"{path}: {_format_validation(e)}") from None
    except ValueError as e:
        raise ManifestError(f"{path}: {e}") from None
    seen: set[tuple[str, str]] = set()
    for i, e in enumerate(gt.edges, start=1):
        if e.parent == e.child:
            raise ManifestError(f"{path}: edge {i}: {e.child!r} is its own parent")
        if (e.child, e.parent) in seen:
            raise ManifestError(f"{path}: edge {i}: {e.parent!r} -> {e.child!r} appears twice")
        seen.add((e.child, e.parent))
    cycle = find_cycle(seen)
    if cycle:
        raise ManifestError(f"{path}: the genealogy has a cycle: {' -> '.join(map(repr, cycle))}")
    return gt
