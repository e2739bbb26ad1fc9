"""Model metadata from where models keep it: one reader per source kind.

Each reader takes a path, never loads a model, reads a bounded number of bytes, and returns
:class:`Metadata`: typed :class:`Fact` values, each naming where it was read
(``gguf:general.license``, ``card:license``, ``config.json:model_type``,
``safetensors:__metadata__.license``, ``adapter_config:base_model_name_or_path``), and the
``warning:`` lines for what it had to ignore. A reader never raises for a bad file: a
truncated or lying GGUF header keeps the keys read before the fault, a card whose front
matter is not valid YAML contributes nothing, and each says so in a warning.

Readers (tier in brackets; the docs page docs/metadata.md lists every key):

- :func:`read_card` [card]: the ``README.md`` front matter in the folder, or beside a file
  (license, and license_name when license is ``other``: stored as ``other: <name>``; base_model, base_model_relation, tags, extra_gated_prompt, model_name, family,
  organisation, release_date);
- :func:`read_gguf` [header]: the GGUF key/values and tensor table, not the tensors
  (general.*, <arch>.block_count / embedding_length / context_length, file_type, the
  declared base models ``general.base_model.N.*``);
- :func:`read_config` [header]: ``config.json`` (model_type, widths, context, dtype,
  quantization_config);
- :func:`read_safetensors` [header]: the ``__metadata__`` of each ``*.safetensors`` header;
- :func:`read_adapter_config` [header]: ``adapter_config.json`` (base, PEFT type, rank).

Counted values (the parameter count from the tensor shapes of a GGUF or safetensors
header, the quantisation read off the GGUF tensor types when the file type is absent) are
tier ``derived``. The tiers order the merge in :mod:`lineage.modelcard`: manifest > card >
header > derived. :func:`read_metadata` runs every reader that applies to a path.
"""

from __future__ import annotations

import datetime as dt
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lineage.licences.table import other_licence

__all__ = ["Fact", "Metadata", "read_metadata", "read_card", "read_gguf", "read_config", "read_safetensors",
           "read_adapter_config", "TIERS", "MAX_CARD_BYTES", "MAX_GGUF_HEADER_BYTES"]

#: Merge order, strongest first.
TIERS = ("manifest", "card", "header", "derived")

#: Largest model card read (bytes); a bigger README contributes nothing.
MAX_CARD_BYTES = 1 * 2**20
#: Most GGUF header bytes read (key/values plus tensor table). Real headers are a few MB
#: (a 262,144-token vocabulary is ~5 MB); a header claiming more is not believed.
MAX_GGUF_HEADER_BYTES = 128 * 2**20
#: Longest GGUF key and longest string value kept (longer values are skipped; a chat template is ~5 kB).
MAX_GGUF_KEY = 1024
MAX_GGUF_STRING = 1 * 2**20
#: Longest array kept as a value (tokenizer vocabularies are skipped, not stored).
MAX_KEPT_ARRAY = 256
MAX_GGUF_KV = 1 << 16
MAX_GGUF_TENSORS = 1 << 20
#: Largest safetensors header read, and most files read per folder.
MAX_SAFETENSORS_HEADER = 100_000_000
MAX_SAFETENSORS_FILES = 1000
#: Longest text value recorded (a gating prompt, a name) and most tags kept.
MAX_TEXT = 4000
MAX_TAGS = 64
MAX_JSON_BYTES = 4 * 2**20

_RELATIONS = {"finetune", "adapter", "merge", "quantized", "distillation", "pruned", "upscaled", "vocab", "permuted"}


@dataclass(frozen=True)
class Fact:
    """One value about a model and where it was read.

    ``field`` is the node property it fills (``licence``, ``architecture``, ``params``,
    ``quantisation``, ``context_length``, ``base_models``, ...), ``source`` the file and key
    (``gguf:general.license``), ``tier`` one of :data:`TIERS`."""

    field: str
    value: Any
    source: str
    tier: str


@dataclass
class Metadata:
    """What the readers found: facts in reading order and the warnings they raised."""

    facts: list[Fact] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, field_: str, value: Any, source: str, tier: str = "header") -> None:
        if value is not None and value != [] and value != "":
            self.facts.append(Fact(field_, value, source, tier))

    def extend(self, other: "Metadata") -> "Metadata":
        self.facts += other.facts
        self.warnings += other.warnings
        return self

    def get(self, field_: str) -> Any:
        """The first value read for ``field_`` (None when none)."""
        return next((f.value for f in self.facts if f.field == field_), None)


def _short(v: Any, n: int = 60) -> str:
    text = repr(v)
    return text if len(text) <= n else text[: n - 3] + "..."


def _text(v: Any, limit: int = MAX_TEXT) -> str | None:
    if isinstance(v, str) and v.strip():
        return v.strip()[:limit]
    return None


def _date(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v.strip()[:10])
        except ValueError:
            return None
    return None


def read_metadata(path: str | Path) -> Metadata:
    """Every reader that applies to ``path``: a ``.gguf`` file (its header and the card
    beside it) or a folder (card, config.json, safetensors headers, adapter config)."""
    p = Path(path)
    out = Metadata()
    if p.is_file():
        out.extend(read_card(p.parent))
        if p.suffix.lower() == ".gguf":
            out.extend(read_gguf(p))
    elif p.is_dir():
        out.extend(read_card(p))
        out.extend(read_config(p))
        adapter = (p / "adapter_config.json").is_file() and not (p / "config.json").is_file()
        if adapter:
            out.extend(read_adapter_config(p))
        out.extend(read_safetensors(p, count_params=not adapter))
    return out


# ---------------------------------------------------------------- model card

def front_matter(folder: str | Path) -> tuple[dict, list[str]]:
    """The YAML front matter of ``folder/README.md`` ({} when absent) and warnings.

    Parsed with the manifest's safe loader (no aliases, nesting limited, dates as text). A
    card that is too large, not UTF-8, or whose front matter is refused gives {} and a
    warning naming it: the model lands without it."""
    from lineage.errors import InputError
    from lineage.io import check_depth, load_yaml_text, read_text_file

    card = Path(folder) / "README.md"
    if not card.is_file():
        return {}, []
    try:
        text = read_text_file(card, "model card", max_bytes=MAX_CARD_BYTES)
    except InputError as e:
        return {}, [f"warning: {e.message}; model card ignored"]
    if not text.startswith("---"):
        return {}, []
    end = text.find("\n---", 3)
    if end < 0:
        return {}, [f"warning: {card}: front matter has no closing '---'; model card ignored"]
    import yaml

    try:
        data = load_yaml_text(text[3:end])
        check_depth(data)
    except (yaml.YAMLError, ValueError, RecursionError) as e:
        why = getattr(e, "problem", None) or str(e).splitlines()[0]
        return {}, [f"warning: {card}: front matter refused ({why}); model card ignored"]
    return (data if isinstance(data, dict) else {}), []


def read_card(folder: str | Path) -> Metadata:
    """The Hugging Face model card (``README.md`` with YAML front matter) in ``folder``."""
    data, warnings = front_matter(folder)
    out = Metadata(warnings=list(warnings))
    where = Path(folder) / "README.md"

    def ignored(key: str, why: str) -> None:
        out.warnings.append(f"warning: {where}: {key} {_short(data[key])} {why}; ignored")

    lic = data.get("license")
    if lic is not None:
        if not _text(lic):
            ignored("license", "is not a licence name")
        elif _text(lic).strip().lower() == "other" and _text(data.get("license_name")):
            # the Hub's convention: license: other, license_name: <id>, license_link: <url>; the
            # licence table resolves the name (lineage.licences.table.LicenceTable.lookup)
            out.add("licence", other_licence(_text(data["license_name"], 200)), "card:license_name", "card")
        else:
            out.add("licence", _text(lic, 200), "card:license", "card")
    if "base_model" in data and data["base_model"] is not None:
        raw = data["base_model"]
        items = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else None
        if items is None:
            ignored("base_model", "is neither an id nor a list of ids")
        else:
            ids = []
            for x in items:
                if isinstance(x, str) and x.strip():
                    ids.append(x.strip())
                else:
                    out.warnings.append(f"warning: {where}: base_model entry {_short(x)} is not an id; ignored")
            out.add("base_models", ids, "card:base_model", "card")
    rel = data.get("base_model_relation")
    if rel is not None:
        if isinstance(rel, str) and rel in _RELATIONS:
            out.add("base_model_relation", rel, "card:base_model_relation", "card")
        else:
            ignored("base_model_relation", f"is not one of {sorted(_RELATIONS)}")
    tags = data.get("tags")
    if isinstance(tags, list):
        out.add("tags", [t.strip()[:100] for t in tags if isinstance(t, str) and t.strip()][:MAX_TAGS], "card:tags", "card")
    gate = data.get("extra_gated_prompt")
    if gate is not None:
        if _text(gate):
            out.add("gating_prompt", _text(gate), "card:extra_gated_prompt", "card")
        else:
            ignored("extra_gated_prompt", "is not text")
    for field_, keys in (("name", ("model_name",)), ("family", ("family",)),
                         ("organisation", ("organisation", "organization"))):
        for k in keys:
            if data.get(k) is not None:
                if isinstance(data[k], (str, int, float)) and not isinstance(data[k], bool) and str(data[k]).strip():
                    out.add(field_, str(data[k]).strip()[:MAX_TEXT], f"card:{k}", "card")
                else:
                    ignored(k, "is not text")
                break
    for k in ("release_date", "created"):
        if data.get(k) is not None:
            d = _date(data[k])
            if d is None:
                out.warnings.append(f"warning: {where}: release date {_short(data[k])} is not a date (YYYY-MM-DD); ignored")
            else:
                out.add("release_date", d, f"card:{k}", "card")
            break
    return out


# ---------------------------------------------------------------- GGUF header

class _Fault(Exception):
    """The header ends early or contradicts itself; the message says how."""


# value type -> (struct format, size); 8 is a string, 9 an array
_SCALARS = {0: ("<B", 1), 1: ("<b", 1), 2: ("<H", 2), 3: ("<h", 2), 4: ("<I", 4), 5: ("<i", 4), 6: ("<f", 4),
            7: ("<?", 1), 10: ("<Q", 8), 11: ("<q", 8), 12: ("<d", 8)}
_SKIPPED = object()  # a value too large to keep (a vocabulary, an over-long string)


class _Bounded:
    """Reads a file front to back, never past its end nor past ``budget`` bytes."""

    def __init__(self, f, size: int, budget: int):
        self.f, self.size, self.pos, self.limit = f, size, 0, min(size, budget)
        self.budget = budget

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.limit:
            if self.pos + n > self.size:
                raise _Fault(f"ends at byte {self.size:,}, inside a field of {n:,} bytes at byte {self.pos:,} "
                             "(the file is truncated)")
            raise _Fault(f"is larger than the {self.budget:,} bytes read of a header")
        b = self.f.read(n)
        if len(b) != n:
            raise _Fault(f"ends at byte {self.pos + len(b):,}")
        self.pos += n
        return b

    def skip(self, n: int) -> None:
        if self.pos + n > self.limit:
            self.take(n)  # raises with the reason
        self.f.seek(n, 1)
        self.pos += n

    def unpack(self, fmt: str, n: int):
        return struct.unpack(fmt, self.take(n))[0]

    def string(self, cap: int):
        n = self.unpack("<Q", 8)
        if n > self.size - self.pos:
            raise _Fault(f"claims a {n:,}-byte string at byte {self.pos:,}, past the end of the {self.size:,}-byte "
                         "file (the file is truncated, or the header lies)")
        if n > cap:
            self.skip(n)
            return _SKIPPED
        return self.take(n).decode("utf-8", errors="replace")

    def value(self, vtype: int, depth: int = 0):
        if vtype in _SCALARS:
            fmt, n = _SCALARS[vtype]
            return self.unpack(fmt, n)
        if vtype == 8:
            return self.string(MAX_GGUF_STRING)
        if vtype == 9:
            if depth > 2:
                raise _Fault("nests arrays deeper than 3 levels")
            etype, count = self.unpack("<I", 4), self.unpack("<Q", 8)
            least = _SCALARS[etype][1] if etype in _SCALARS else 8 if etype in (8, 9) else None
            if least is None:
                raise _Fault(f"has an array of unknown type {etype} at byte {self.pos:,}")
            if count * least > self.size - self.pos:
                raise _Fault(f"claims an array of {count:,} items at byte {self.pos:,}, more than the {self.size:,}-byte "
                             "file can hold (the file is truncated, or the header lies)")
            if etype in _SCALARS and count > MAX_KEPT_ARRAY:
                self.skip(count * least)
                return _SKIPPED
            if count > MAX_KEPT_ARRAY:  # a vocabulary or merge list: stepped over, not decoded
                for _ in range(count):
                    self.skip_value(etype, depth + 1)
                return _SKIPPED
            items = [self.value(etype, depth + 1) for _ in range(count)]
            return _SKIPPED if any(x is _SKIPPED for x in items) else items
        raise _Fault(f"has a value of unknown type {vtype} at byte {self.pos:,}")

    def skip_value(self, vtype: int, depth: int) -> None:
        if vtype == 8:
            n = self.unpack("<Q", 8)
            if n > self.size - self.pos:
                raise _Fault(f"claims a {n:,}-byte string at byte {self.pos:,}, past the end of the {self.size:,}-byte "
                             "file (the file is truncated, or the header lies)")
            self.skip(n)
        else:
            self.value(vtype, depth)


def gguf_header(path: str | Path, *, max_bytes: int = MAX_GGUF_HEADER_BYTES) -> tuple[dict, list[tuple[int, tuple, int]], str | None]:
    """The key/values and tensor table of a GGUF file, read without its tensors.

    Returns ``(kv, tensors, fault)``: the keys read (values too large to keep are left
    out: vocabularies, merges), ``(n_elements, shape, ggml_type)`` per tensor (empty when
    the table could not be read whole), and how the header is broken (None when it is
    sound). Counts, lengths and the total are bounded, so a lying header costs at most
    ``max_bytes`` of reading."""
    p = Path(path)
    size = p.stat().st_size
    kv: dict = {}
    tensors: list = []
    with open(p, "rb", buffering=1 << 20) as f:
        r = _Bounded(f, size, max_bytes)
        try:
            if r.take(4) != b"GGUF":
                raise _Fault("does not start with the GGUF magic")
            version = r.unpack("<I", 4)
            if version not in (2, 3):
                raise _Fault(f"has version {version} (2 and 3 are read)")
            n_tensors, n_kv = r.unpack("<Q", 8), r.unpack("<Q", 8)
            if n_kv > MAX_GGUF_KV or n_tensors > MAX_GGUF_TENSORS:
                raise _Fault(f"claims {n_kv:,} keys and {n_tensors:,} tensors (at most {MAX_GGUF_KV:,} and "
                             f"{MAX_GGUF_TENSORS:,} are believed)")
            for i in range(n_kv):
                key = r.string(MAX_GGUF_KEY)
                if key is _SKIPPED:
                    raise _Fault(f"has a key longer than {MAX_GGUF_KEY} bytes (key {i + 1} of {n_kv})")
                vtype = r.unpack("<I", 4)
                try:
                    v = r.value(vtype)
                except _Fault as e:
                    raise _Fault(f"{e} (key {key!r}, {i + 1} of {n_kv}; {len(kv)} keys kept)") from None
                if v is not _SKIPPED:
                    kv[key] = v
            table = []
            for i in range(n_tensors):
                r.string(MAX_GGUF_KEY)
                n_dims = r.unpack("<I", 4)
                if n_dims > 8:
                    raise _Fault(f"gives tensor {i + 1} {n_dims} dimensions")
                shape = tuple(r.unpack("<Q", 8) for _ in range(n_dims))
                ttype, _offset = r.unpack("<I", 4), r.unpack("<Q", 8)
                n = 1
                for d in shape:
                    n *= d
                table.append((n, shape, ttype))
            tensors = table
        except _Fault as e:
            return kv, tensors, str(e)
    return kv, tensors, None


def _quant_name(enum_name: str, value: int) -> str | None:
    import gguf

    try:
        name = getattr(gguf, enum_name)(value).name
    except ValueError:
        return None
    return name.removeprefix("MOSTLY_").removeprefix("ALL_")


def _hub_id_of(url: str) -> str | None:
    """``org/name`` of a huggingface.co URL (None for anything else)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.hostname not in ("huggingface.co", "www.huggingface.co", "hf.co"):
        return None
    segs = [s for s in parts.path.split("/") if s]
    return "/".join(segs[:2]) if len(segs) >= 2 else None


def read_gguf(path: str | Path) -> Metadata:
    """What a GGUF file's header says about the model: architecture, name, basename, size
    label, licence, tags, quantisation (``general.file_type``, else the tensor types),
    layers, width, context length, parameter count (tensor shapes), organisation, date and
    declared base models (``general.base_model.N.repo_url``, else ``organization/name``).
    A key of the wrong type is ignored with a warning; a broken header keeps what was read
    before the fault."""
    p = Path(path)
    out = Metadata()
    try:
        kv, tensors, fault = gguf_header(p)
    except OSError as e:
        out.warnings.append(f"warning: cannot read GGUF header of {p}: {e.strerror}; header ignored")
        return out
    if fault:
        out.warnings.append(f"warning: GGUF header of {p} {fault}; what follows the fault is ignored")

    def get(key: str, kind: type | tuple, what: str):
        if key not in kv:
            return None
        v = kv[key]
        ok = isinstance(v, kind) and not (kind is int and isinstance(v, bool))
        if not ok or (isinstance(v, str) and not v.strip()) or (isinstance(v, int) and not isinstance(v, bool) and v < 0):
            out.warnings.append(f"warning: GGUF header of {p}: {key} = {_short(v)} is not {what}; ignored")
            return None
        return v.strip()[:MAX_TEXT] if isinstance(v, str) else v

    arch = get("general.architecture", str, "an architecture name")
    out.add("architecture", arch, "gguf:general.architecture")
    out.add("name", get("general.name", str, "text"), "gguf:general.name")
    out.add("basename", get("general.basename", str, "text"), "gguf:general.basename")
    out.add("size_label", get("general.size_label", str, "text"), "gguf:general.size_label")
    out.add("licence", get("general.license", str, "a licence name"), "gguf:general.license")
    out.add("organisation", get("general.organization", str, "text"), "gguf:general.organization")
    tags = get("general.tags", list, "a list")
    if tags:
        out.add("tags", [t.strip()[:100] for t in tags if isinstance(t, str) and t.strip()][:MAX_TAGS], "gguf:general.tags")
    date = get("general.date", str, "a date")
    if date:
        if _date(date) is None:
            out.warnings.append(f"warning: GGUF header of {p}: general.date = {_short(date)} is not a date; ignored")
        else:
            out.add("release_date", _date(date), "gguf:general.date")
    ft = get("general.file_type", int, "a file type number")
    if ft is not None:
        q = _quant_name("LlamaFileType", ft)
        if q is None:
            out.warnings.append(f"warning: GGUF header of {p}: general.file_type = {ft} is no known file type; ignored")
        out.add("quantisation", q, "gguf:general.file_type")
    if arch:
        for field_, key in (("n_layers", "block_count"), ("hidden_size", "embedding_length"),
                            ("context_length", "context_length")):
            out.add(field_, get(f"{arch}.{key}", int, "a count"), f"gguf:{arch}.{key}")
    n_base = get("general.base_model.count", int, "a count")
    if n_base:
        ids = []
        for i in range(min(n_base, 16)):
            url = get(f"general.base_model.{i}.repo_url", str, "a URL")
            name = get(f"general.base_model.{i}.name", str, "text")
            org = get(f"general.base_model.{i}.organization", str, "text")
            hub = _hub_id_of(url) if url else None
            if hub or name:
                ids.append(hub or (f"{org}/{name}" if org else name))
        out.add("base_models", ids, "gguf:general.base_model")
    if tensors:
        out.add("params", sum(n for n, _, _ in tensors), "gguf:tensor_shapes", "derived")
        if out.get("quantisation") is None:
            weight: dict[int, int] = {}
            for n, shape, t in tensors:
                if len(shape) >= 2:
                    weight[t] = weight.get(t, 0) + n
            if weight:
                out.add("quantisation", _quant_name("GGMLQuantizationType", max(weight, key=weight.get)),
                        "gguf:tensor_types", "derived")
    return out


# ---------------------------------------------------------------- JSON files in a folder

def _json_file(path: Path, what: str, out: Metadata) -> dict | None:
    from lineage.errors import InputError
    from lineage.io import read_text_file

    if not path.is_file():
        return None
    try:
        data = json.loads(read_text_file(path, what, max_bytes=MAX_JSON_BYTES))
    except InputError as e:
        out.warnings.append(f"warning: {e.message}; {what} ignored")
        return None
    except json.JSONDecodeError as e:
        out.warnings.append(f"warning: {path}:{e.lineno}: {what} is not valid JSON ({e.msg}); ignored")
        return None
    if not isinstance(data, dict):
        out.warnings.append(f"warning: {path}: {what} is not a JSON object; ignored")
        return None
    return data


def _count(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None


def read_config(folder: str | Path) -> Metadata:
    """A Hugging Face ``config.json``: architecture (``model_type``, else the first of
    ``architectures``), layers, width, context length, the weights' dtype and the
    quantisation its ``quantization_config`` names."""
    out = Metadata()
    cfg = _json_file(Path(folder) / "config.json", "config.json", out)
    if cfg is None:
        return out
    if _text(cfg.get("model_type"), 200):
        out.add("architecture", _text(cfg["model_type"], 200), "config.json:model_type")
    elif isinstance(cfg.get("architectures"), list) and cfg["architectures"] and _text(cfg["architectures"][0], 200):
        out.add("architecture", _text(cfg["architectures"][0], 200), "config.json:architectures")
    for field_, keys in (("n_layers", ("num_hidden_layers", "n_layer")), ("hidden_size", ("hidden_size", "n_embd")),
                         ("context_length", ("max_position_embeddings", "n_positions"))):
        k = next((k for k in keys if _count(cfg.get(k))), None)
        if k:
            out.add(field_, cfg[k], f"config.json:{k}")
    k = next((k for k in ("torch_dtype", "dtype") if _text(cfg.get(k), 40)), None)
    if k:
        out.add("weights_dtype", _text(cfg[k], 40), f"config.json:{k}")
    out.add("quantisation", _config_quantisation(cfg.get("quantization_config")), "config.json:quantization_config")
    return out


def _config_quantisation(q: Any) -> str | None:
    """``quantization_config`` as a name: the method and its bits (``gptq 4-bit``, ``bitsandbytes 8-bit``)."""
    if not isinstance(q, dict):
        return None
    method = _text(q.get("quant_method"), 40)
    bits = _count(q.get("bits")) or (4 if q.get("load_in_4bit") is True else 8 if q.get("load_in_8bit") is True else None)
    if method is None:
        return None
    return f"{method} {bits}-bit" if bits else method


def read_adapter_config(folder: str | Path) -> Metadata:
    """A PEFT ``adapter_config.json``: the base it runs on (a requirement to run, recorded
    as ``adapter_base``: :mod:`lineage.loaders.adapter` explains why it is not taken as a
    lineage claim), the PEFT type and the LoRA rank."""
    out = Metadata()
    cfg = _json_file(Path(folder) / "adapter_config.json", "adapter_config.json", out)
    if cfg is None:
        return out
    out.add("adapter_base", _text(cfg.get("base_model_name_or_path"), 1000), "adapter_config:base_model_name_or_path")
    out.add("peft_type", _text(cfg.get("peft_type"), 40), "adapter_config:peft_type")
    out.add("lora_rank", _count(cfg.get("r")), "adapter_config:r")
    return out


#: ``__metadata__`` keys read as facts (kohya's ``modelspec.*`` and plain names).
_ST_KEYS = {"licence": ("modelspec.license", "license"), "architecture": ("modelspec.architecture", "architecture"),
            "name": ("modelspec.title", "name"), "organisation": ("modelspec.author", "organization"),
            "release_date": ("modelspec.date", "date")}


def _safetensors_header(path: Path) -> dict:
    size = path.stat().st_size
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) != 8:
            raise ValueError("shorter than 8 bytes")
        (n,) = struct.unpack("<Q", raw)
        if n <= 0 or n > size - 8 or n > MAX_SAFETENSORS_HEADER:
            raise ValueError(f"header length {n:,} does not fit the file ({size:,} bytes)")
        head = json.loads(f.read(n))
    if not isinstance(head, dict):
        raise ValueError("header is not a JSON object")
    return head


def read_safetensors(folder: str | Path, *, count_params: bool = True) -> Metadata:
    """The headers of the ``*.safetensors`` files in ``folder`` (not their tensors): the
    ``__metadata__`` map (kept whole, as JSON, in ``safetensors_metadata``; licence,
    architecture, name, author and date read from ``modelspec.*`` keys) and, when
    ``count_params``, the parameter count summed over the tensor shapes."""
    out = Metadata()
    files = sorted(Path(folder).glob("*.safetensors"))[:MAX_SAFETENSORS_FILES]
    total, meta, counted = 0, {}, bool(files)
    for f in files:
        try:
            head = _safetensors_header(f)
        except (OSError, ValueError, UnicodeDecodeError) as e:
            out.warnings.append(f"warning: {f}: safetensors header unreadable ({e}); its metadata is ignored")
            counted = False
            continue
        m = head.get("__metadata__")
        if isinstance(m, dict):
            meta.update({str(k)[:200]: str(v)[:MAX_TEXT] for k, v in list(m.items())[:200]})
        for k, v in head.items():
            shape = v.get("shape") if isinstance(v, dict) and k != "__metadata__" else None
            if isinstance(shape, list) and all(_count(d) is not None or d == 0 for d in shape):
                n = 1
                for d in shape:
                    n *= d
                total += n
    if meta:
        out.add("safetensors_metadata", json.dumps(meta, sort_keys=True)[:MAX_TEXT], "safetensors:__metadata__")
        for field_, keys in _ST_KEYS.items():
            k = next((k for k in keys if _text(meta.get(k))), None)
            if k is None:
                continue
            v: Any = _text(meta[k])
            if field_ == "release_date":
                v = _date(v)
                if v is None:
                    out.warnings.append(f"warning: {folder}: safetensors __metadata__ {k} is not a date; ignored")
            out.add(field_, v, f"safetensors:__metadata__.{k}")
    if count_params and counted and total > 0:
        out.add("params", total, "safetensors:shapes", "derived")
    return out

