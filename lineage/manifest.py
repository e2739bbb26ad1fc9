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
credentials (``user:password@``, a fragment, or any query parameter but ``api-version``),
an ``api_key_env`` outside the allowed prefixes, and impossible declared lineage (a model its own parent, the same parent
twice, a cycle among the batch's declarations). The ground truth refuses self-edges,
duplicate edges and cycles.

Secrets. A manifest may come from someone else, and its endpoint is a server of their
choosing: ``api_key_env`` names the variable whose value is sent there as a Bearer token, so
only variables with an allowed prefix may be named (:data:`DEFAULT_KEY_PREFIXES`, or the
``api_key_prefixes`` setting passed to :func:`load_manifest`); ``AWS_SECRET_ACCESS_KEY`` is
refused before any request. An endpoint URL is stored on the node and printed in provenance
and exports, so a URL that can carry a secret is refused whatever its parameter is called
(``?k=``, ``?code=``, ``#access_token=``): only ``api-version`` (Azure OpenAI) is allowed in
its query, with a version-like value, and no fragment at all.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import unicodedata
from pathlib import Path
from typing import Iterable, Literal
from urllib.parse import parse_qsl, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from lineage.errors import ManifestError
from lineage.io import MAX_DEPTH, MAX_FILE_BYTES, check_depth, load_yaml_text, read_text_file  # noqa: F401 (re-exported)

log = logging.getLogger("lineage")

#: Longest model id (characters); longer ones are refused naming the entry.
MAX_ID_LENGTH = 512
#: Longest name, family, organisation, licence, architecture or endpoint model name (characters).
MAX_TEXT_LENGTH = 512


_SECRET_PARAM = re.compile(r"(key|token|secret|passw|pwd|auth|sig|credential|session)", re.I)
#: Query parameters an endpoint URL may carry, each with the values it may take (no secret fits).
ALLOWED_QUERY = {"api-version": re.compile(r"[0-9][0-9A-Za-z.-]{0,31}")}
#: Prefixes of the environment variables ``api_key_env`` may name, unless settings say otherwise.
DEFAULT_KEY_PREFIXES = ("LINEAGE_KEY_",)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def url_credentials(url: str) -> str | None:
    """What secret a URL carries or may carry (``None`` when none): a ``user:password@`` part,
    a fragment, or a query parameter other than :data:`ALLOWED_QUERY` (a secret needs no
    telling name: ``?k=`` and ``?code=`` carry keys too). Never returns the secret, nor a
    parameter name that could be one."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "credentials (user:password@host)"
    if parts.fragment:
        return "a fragment (#...), where tokens are passed"
    for n, (name, value) in enumerate(parse_qsl(parts.query, keep_blank_values=True), start=1):
        allowed = ALLOWED_QUERY.get(name)
        if allowed is None or not allowed.fullmatch(value):
            shown = f"{name!r}" if _SECRET_PARAM.search(name) and len(name) <= 32 else f"number {n}"
            return (f"a query parameter ({shown}) that may carry a secret; only "
                    f"{', '.join(sorted(ALLOWED_QUERY))} is allowed")
    return None


def normalise_id(model_id: str) -> str:
    """A model id in Unicode normal form C: ``café`` typed as ``e`` + combining accent and as ``é``
    are one model, not two that print alike."""
    return unicodedata.normalize("NFC", model_id)


# Letters that print like Latin ones (Cyrillic and Greek), for the look-alike warning only
_CONFUSABLE = str.maketrans({
    "а": "a", "в": "B", "е": "e", "к": "k", "м": "M", "н": "H", "о": "o", "р": "p", "с": "c", "т": "T", "у": "y",
    "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X",
    "І": "I", "Ј": "J", "Ѕ": "S", "α": "a", "ο": "o", "ρ": "p", "ν": "v", "τ": "t", "ι": "i", "κ": "k",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P",
    "Τ": "T", "Υ": "Y", "Χ": "X",
})


def _skeleton(model_id: str) -> str:
    """What an id looks like: compatibility forms folded (NFKC), invisible format characters
    (zero-width, bidi controls) dropped, Cyrillic and Greek look-alikes read as Latin."""
    folded = unicodedata.normalize("NFKC", model_id)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf").translate(_CONFUSABLE)


def lookalike_ids(new_ids: Iterable[str], known_ids: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs ``(new, other)`` of distinct ids that print alike (see :func:`_skeleton`), each new id
    against the known ids and the other new ids; for a warning at ingest (both stay models)."""
    seen: dict[str, str] = {}
    for k in known_ids:
        seen.setdefault(_skeleton(k), k)
    out = []
    for m in new_ids:
        other = seen.setdefault(_skeleton(m), m)
        if other != m:
            out.append((m, other))
    return out


def check_key_env(name: str, prefixes=DEFAULT_KEY_PREFIXES) -> str:
    """``name`` when ``api_key_env`` may name it (an environment variable name starting with one
    of ``prefixes``); else ``ValueError`` saying why (the value is never read here)."""
    if not _ENV_NAME.fullmatch(name or ""):
        raise ValueError(f"api_key_env {name[:64]!r} is not an environment variable name")
    if not any(name.startswith(p) for p in prefixes):
        raise ValueError(f"api_key_env {name!r} does not start with {' or '.join(prefixes)}: its value would be sent "
                         "as a Bearer token to the server this manifest names. Put the key in a variable with an "
                         "allowed prefix (e.g. LINEAGE_KEY_OPENAI), or allow a prefix with the api_key_prefixes setting")
    return name


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` part and query string removed (safe to print)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=host, query="", fragment="").geturl()


Relation = Literal["finetune", "adapter", "merge", "quantized", "distillation", "pruned", "upscaled", "vocab", "permuted"]


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

    @field_validator("release_date", mode="before")
    @classmethod
    def _date_as_written(cls, v):
        # pydantic reads a number as seconds since 1970 (``0`` became 1970-01-01); a date is written out
        if isinstance(v, (int, float)):  # bool included
            raise ValueError("a release_date is a date written as YYYY-MM-DD, not a number")
        return v

    @field_validator("name", "family", "organisation", "licence", "architecture", "endpoint_model")
    @classmethod
    def _bounded_text(cls, v: str | None) -> str | None:
        # stored on the node and indexed (family): Neo4j refuses index keys above about 8 kB, which
        # failed the whole batch and left its run 'running' (#21)
        if v is not None and len(v) > MAX_TEXT_LENGTH:
            raise ValueError(f"at most {MAX_TEXT_LENGTH} characters (got {len(v):,})")
        return v

    @field_validator("base_model", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        if v is None:
            return []
        return [v] if isinstance(v, str) else v

    @field_validator("id", mode="after")
    @classmethod
    def _nfc_id(cls, v: str) -> str:
        return normalise_id(v)

    @field_validator("base_model", mode="after")
    @classmethod
    def _nfc_parents(cls, v: list[str]) -> list[str]:
        return [normalise_id(p) for p in v]

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

    @field_validator("api_key_env")
    @classmethod
    def _allowed_key_env(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None:
            return v
        prefixes = (info.context or {}).get("api_key_prefixes") or DEFAULT_KEY_PREFIXES
        return check_key_env(v, tuple(prefixes))

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


def parse_manifest(data: object, *, base_dir: Path | None = None, origin: str = "<manifest>",
                   api_key_prefixes=None) -> Manifest:
    """Validate manifest content already parsed from YAML/JSON (``api_key_prefixes``: the
    allowed prefixes of ``api_key_env``; None: :data:`DEFAULT_KEY_PREFIXES`)."""
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
            entry = ManifestEntry.model_validate(raw, context={"api_key_prefixes": api_key_prefixes})
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


def load_manifest(path: str | Path, *, api_key_prefixes=None) -> Manifest:
    """Read a YAML or JSONL manifest; every problem is a one-line :class:`ManifestError`.
    ``api_key_prefixes``: the allowed prefixes of ``api_key_env`` (``Settings.api_key_prefixes``;
    None: :data:`DEFAULT_KEY_PREFIXES`)."""
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
    m = parse_manifest(data, base_dir=path.parent.resolve(), origin=str(path), api_key_prefixes=api_key_prefixes)
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
    """Read a ground-truth genealogy; refuses a model listed twice, an edge naming a model the
    file does not list (a score against it would count a parent no DNA can stand for),
    self-edges, duplicate edges and cycles."""
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
    listed: set[str] = set()
    for i, m in enumerate(gt.models, start=1):
        if m.id in listed:
            raise ManifestError(f"{path}: model {i}: {m.id!r} is listed twice", hint="list each model once")
        listed.add(m.id)
    seen: set[tuple[str, str]] = set()
    for i, e in enumerate(gt.edges, start=1):
        for role, who in (("parent", e.parent), ("child", e.child)):
            if who not in listed:
                raise ManifestError(f"{path}: edge {i}: its {role} {who!r} is not among the file's models",
                                    hint="add it to \"models\" (with its family) or drop the edge")
        if e.parent == e.child:
            raise ManifestError(f"{path}: edge {i}: {e.child!r} is its own parent")
        if (e.child, e.parent) in seen:
            raise ManifestError(f"{path}: edge {i}: {e.parent!r} -> {e.child!r} appears twice")
        seen.add((e.child, e.parent))
    cycle = find_cycle(seen)
    if cycle:
        raise ManifestError(f"{path}: the genealogy has a cycle: {' -> '.join(map(repr, cycle))}")
    return gt
