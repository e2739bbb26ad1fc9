"""Read a dump of Hugging Face Hub model metadata (JSONL or Parquet) into validated records.

The reader is pure: a file in, a :class:`HubDump` out, nothing written anywhere. Each record
is laid out as the Hub's model API (``GET /api/models``, ``huggingface_hub.ModelInfo``)
returns it; the fields read are listed in :data:`READ_FIELDS` and mapped in docs/metadata.md
("Importing a Hub metadata dump").

What is refused, and why
------------------------
The whole file is validated before :func:`read_hub_dump` returns, so an importer that writes
only after reading never leaves a half-imported dump behind. The first problem found ends the
read with one :class:`HubDumpError` naming the place (``file:line`` for JSONL, ``file: record
N`` for Parquet, counting from 1), the model id when there is one, and the fix:

- a line that is not UTF-8, not JSON (a truncated last line included) or not a JSON object;
  a Parquet file that does not open or whose data does not decode (truncated, corrupt);
- a record with no ``id`` (nor the older ``modelId``), an ``id`` and ``modelId`` that differ,
  an id that is empty, longer than 512 characters or holds whitespace or control characters;
- a field of the wrong type (``downloads`` that is a string, ``tags`` that is not a list of
  strings, a ``base_model`` that is a number, a date that is not ISO 8601, ...);
- a ``base_model_relation`` other than the Hub's four (``adapter``, ``merge``, ``quantized``,
  ``finetune``);
- a model declared as its own base, the same id twice, and declarations that form a cycle.

Unknown top-level fields are *not* an error: the Hub adds fields over time (``trendingScore``,
``gguf``, ``inference`` ... arrived one by one), and a dump taken next year must still import.
They are ignored and counted by name (:attr:`HubDump.unknown_fields`), and the importer
reports the count. Fields of the API that are known but carry nothing lineage uses
(``siblings``, ``safetensors``, ``config``, ...) are listed in :data:`IGNORED_FIELDS` and are
neither read nor counted.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from lineage.errors import InputError

#: The Hub's documented values of ``cardData.base_model_relation``
#: (https://huggingface.co/docs/hub/model-cards#specifying-a-base-model).
RELATIONS = ("adapter", "merge", "quantized", "finetune")

#: Top-level fields of the model API that the importer reads.
READ_FIELDS = ("id", "modelId", "author", "createdAt", "lastModified", "downloads", "likes", "library_name",
               "pipeline_tag", "tags", "gated", "cardData", "base_model", "license")

#: Top-level fields of the model API that are known and deliberately not read (not counted as unknown).
IGNORED_FIELDS = frozenset({
    "_id", "sha", "private", "disabled", "siblings", "spaces", "safetensors", "config", "transformersInfo",
    "trendingScore", "downloadsAllTime", "inference", "inferenceProviderMapping", "widgetData", "model-index",
    "mask_token", "usedStorage", "gguf", "card_data", "xetEnabled", "resourceGroup", "security_repo_status",
    "spaces_count",
})

#: Longest model id accepted (Hub ids are ``org/name``, each part at most 96 characters).
MAX_ID_LENGTH = 512

_BAD_ID = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


class HubDumpError(InputError):
    """A dump that cannot be imported; the message names the file, the line or record and the id."""

    hint = "fix or remove that record (docs/metadata.md, 'Importing a Hub metadata dump', lists the fields)"


@dataclass(frozen=True, slots=True)
class HubRecord:
    """One model of the dump, validated; ``where`` is ``file:line`` or ``file: record N``.

    Empty values are ``None`` (or an empty tuple); dates are ISO 8601 strings as the Hub writes them.
    ``licence_from`` and ``base_from`` name the field each value was read from (``cardData.license``,
    ``tags:license``, ``cardData.base_model``, ``base_model``, ``tags:base_model``).
    """

    id: str
    where: str
    base_models: tuple[str, ...] = ()
    relation: str | None = None
    base_from: str | None = None
    licence: str | None = None
    licence_from: str | None = None
    author: str | None = None
    created_at: str | None = None
    last_modified: str | None = None
    downloads: int | None = None
    likes: int | None = None
    library_name: str | None = None
    pipeline_tag: str | None = None
    tags: tuple[str, ...] = ()
    gated: str | None = None  # "auto" | "manual" | None (not gated); the API's ``true`` reads as "auto"


@dataclass
class HubDump:
    """A validated dump: its records in file order and the unknown top-level fields seen, by name."""

    path: Path
    records: list[HubRecord]
    unknown_fields: Counter = field(default_factory=Counter)

    @property
    def n_unknown(self) -> int:
        """How many unknown field values were ignored (one per field per record)."""
        return sum(self.unknown_fields.values())


def read_hub_dump(path: str | Path) -> HubDump:
    """Read and validate a whole Hub metadata dump.

    Parameters
    ----------
    path : path
        ``.jsonl`` / ``.ndjson`` / ``.json`` (one JSON object per line) or ``.parquet``.

    Returns
    -------
    HubDump

    Raises
    ------
    HubDumpError
        The first problem in the file, in one line (see the module docstring).
    """
    path = Path(path)
    if not path.is_file():
        raise HubDumpError(f"{path} does not exist or is not a file",
                           hint="pass the path of a .jsonl or .parquet dump of Hub model metadata")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        rows = _parquet_rows(path)
    elif suffix in (".jsonl", ".ndjson", ".json"):
        rows = _jsonl_rows(path)
    else:
        raise HubDumpError(f"{path}: unknown dump format {path.suffix!r}",
                           hint="name the file .jsonl (one JSON object per line) or .parquet")
    dump = HubDump(path=path, records=[])
    first_seen: dict[str, str] = {}
    for where, raw in rows:
        rec = _record(raw, where, dump.unknown_fields)
        if rec.id in first_seen:
            raise HubDumpError(f"{where}: model {rec.id!r} appears twice (first at {first_seen[rec.id]})",
                               hint="keep one record per model id (the newer lastModified) and import again")
        first_seen[rec.id] = where
        dump.records.append(rec)
    _check_cycles(dump.records)
    return dump


def _check_cycles(records: list[HubRecord]) -> None:
    from lineage.manifest import find_cycle

    cycle = find_cycle((r.id, b) for r in records for b in r.base_models)
    if cycle:
        where = {r.id: r.where for r in records}
        raise HubDumpError(f"{where[cycle[0]]}: model {cycle[0]!r}: declared base models form a cycle: "
                           f"{' -> '.join(map(repr, cycle))}",
                           hint="a model cannot descend from itself; remove the wrong base_model from one of these records")


# -- file formats --------------------------------------------------------------------------------

def _jsonl_rows(path: Path) -> Iterator[tuple[str, Any]]:
    """``(where, object)`` per non-blank line; bytes are decoded strictly, line by line."""
    name = path.name
    with path.open("rb") as f:
        for n, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise HubDumpError(f"{name}:{n}: not UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1})",
                                   hint="the dump must be UTF-8; re-export it, or re-encode that line") from None
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                cut = not raw.endswith(b"\n")
                raise HubDumpError(
                    f"{name}:{n}: " + (f"the last line is cut off ({e.msg} at column {e.colno})" if cut
                                       else f"invalid JSON ({e.msg} at column {e.colno})"),
                    hint=("the file is truncated: download it again, or delete its incomplete last line" if cut
                          else "each line must be one JSON object; fix or delete that line")) from None
            except RecursionError:
                raise HubDumpError(f"{name}:{n}: JSON nested too deeply", hint="fix or delete that line") from None
            yield f"{name}:{n}", obj


def _parquet_rows(path: Path) -> Iterator[tuple[str, Any]]:
    """``(where, dict)`` per row, read in record batches (struct columns become dicts)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = path.name
    hint = "the Parquet file is truncated or corrupt: download or export it again"
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError) as e:
        raise HubDumpError(f"{name}: not a readable Parquet file ({_first_line(e)})", hint=hint) from None
    n = 0
    try:
        for batch in pf.iter_batches(batch_size=16_384):
            for row in batch.to_pylist():
                n += 1
                yield f"{name}: record {n}", row
    except UnicodeDecodeError as e:
        raise HubDumpError(f"{name}: record {n + 1}: a string is not UTF-8 ({e.reason})",
                           hint="the dump must hold UTF-8 strings; re-export it") from None
    except (pa.ArrowException, OSError, ValueError) as e:
        raise HubDumpError(f"{name}: cannot read past record {n} ({_first_line(e)})", hint=hint) from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:200]}" if text else type(e).__name__


# -- one record ----------------------------------------------------------------------------------

class _Bad(Exception):
    """A field of the record is wrong (message without the place; :func:`_record` adds it)."""


def _record(raw: Any, where: str, unknown: Counter) -> HubRecord:
    if not isinstance(raw, dict):
        raise HubDumpError(f"{where}: expected a JSON object (one model), got {_kind(raw)}",
                           hint="each line must be one model's metadata as the Hub's model API returns it")
    mid = _id(raw, where)
    try:
        for k, v in raw.items():
            if k not in _READ and k not in IGNORED_FIELDS and v is not None:
                unknown[k] += 1
        card = raw.get("cardData")
        if card is None:
            card = {}
        elif not isinstance(card, dict):
            raise _Bad(f"cardData must be an object, got {_kind(card)}")
        tags = _str_list(raw.get("tags"), "tags")
        bases, base_from = _bases(card, raw, tags)
        relation = _relation(card, tags)
        if mid in bases:
            raise _Bad("declares itself as its own base model")
        licence, licence_from = _licence(card, raw, tags)
        gated = raw.get("gated")
        if gated is True:
            gated = "auto"
        elif gated is False:
            gated = None
        elif gated is not None and gated not in ("auto", "manual"):
            raise _Bad(f"gated must be false, true, 'auto' or 'manual', got {_show(gated)}")
        return HubRecord(
            id=mid, where=where, base_models=bases, relation=relation if bases else None, base_from=base_from,
            licence=licence, licence_from=licence_from,
            author=_str(raw.get("author"), "author"),
            created_at=_date(raw.get("createdAt"), "createdAt"),
            last_modified=_date(raw.get("lastModified"), "lastModified"),
            downloads=_count(raw.get("downloads"), "downloads"), likes=_count(raw.get("likes"), "likes"),
            library_name=_str(raw.get("library_name"), "library_name"),
            pipeline_tag=_str(raw.get("pipeline_tag"), "pipeline_tag"),
            tags=tuple(tags), gated=gated,
        )
    except _Bad as e:
        raise HubDumpError(f"{where}: model {mid!r}: {e}") from None


_READ = frozenset(READ_FIELDS)


def _id(raw: dict, where: str) -> str:
    mid, legacy = raw.get("id"), raw.get("modelId")
    if mid is None:
        mid = legacy
    elif legacy is not None and legacy != mid:
        raise HubDumpError(f"{where}: id {mid!r} and modelId {legacy!r} differ",
                           hint="keep one of the two fields (id is the current name of modelId)")
    if mid is None:
        raise HubDumpError(f"{where}: record has no id (nor modelId)",
                           hint="every model needs its Hub id (org/name) in the field id")
    if not isinstance(mid, str):
        raise HubDumpError(f"{where}: id must be a string, got {_kind(mid)}", hint="write the Hub id as a JSON string")
    if not mid or len(mid) > MAX_ID_LENGTH or _BAD_ID.search(mid):
        raise HubDumpError(f"{where}: id {mid[:80]!r} is empty, longer than {MAX_ID_LENGTH} characters, "
                           f"or holds whitespace or control characters",
                           hint="a Hub id is org/name without spaces; fix the id")
    return mid


def _bases(card: dict, raw: dict, tags: list[str]) -> tuple[tuple[str, ...], str | None]:
    """Declared base models: ``cardData.base_model``, else top-level ``base_model``, else the Hub's
    ``base_model:...`` tags (``base_model:<id>`` and ``base_model:<relation>:<id>``)."""
    for value, name in ((card.get("base_model"), "cardData.base_model"), (raw.get("base_model"), "base_model")):
        if value is None:
            continue
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(b, str) for b in value):
            raise _Bad(f"{name} must be a model id or a list of ids, got {_show(value)}")
        out = tuple(dict.fromkeys(b.strip() for b in value if b.strip()))
        for b in out:
            if len(b) > MAX_ID_LENGTH or _BAD_ID.search(b):
                raise _Bad(f"{name} {b[:80]!r} is not a model id (whitespace or control characters, or too long)")
        if out:
            return out, name
    found = []
    for t in tags:
        if t.startswith("base_model:"):
            rest = t[len("base_model:"):]
            kind, sep, target = rest.partition(":")
            b = target if sep and kind in RELATIONS else rest
            if b and not _BAD_ID.search(b):
                found.append(b)
    out = tuple(dict.fromkeys(found))
    return out, ("tags:base_model" if out else None)


def _relation(card: dict, tags: list[str]) -> str | None:
    rel = card.get("base_model_relation")
    if rel is None:
        for t in tags:
            kind, sep, _ = t[len("base_model:"):].partition(":") if t.startswith("base_model:") else ("", "", "")
            if sep and kind in RELATIONS:
                return kind
        return None
    if rel not in RELATIONS:
        raise _Bad(f"cardData.base_model_relation must be one of {', '.join(RELATIONS)}, got {_show(rel)}")
    return rel


def _licence(card: dict, raw: dict, tags: list[str]) -> tuple[str | None, str | None]:
    for value, name in ((card.get("license"), "cardData.license"), (raw.get("license"), "license")):
        if value is None:
            continue
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = value[0] if len(value) == 1 else (" OR ".join(value) if value else None)
        if value is None:
            continue
        if not isinstance(value, str):
            raise _Bad(f"{name} must be a string, got {_show(value)}")
        if value.strip().lower() == "other" and isinstance(card.get("license_name"), str) and card["license_name"].strip():
            # the Hub's convention (license: other, license_name: <id>), stored as the card reader stores it
            from lineage.licences.table import other_licence

            return other_licence(card["license_name"][:200]), "cardData.license_name"
        if value.strip():
            return value.strip(), name
    for t in tags:
        if t.startswith("license:") and len(t) > len("license:"):
            return t[len("license:"):], "tags:license"
    return None, None


def _str(v: Any, name: str) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise _Bad(f"{name} must be a string, got {_show(v)}")
    return v or None


def _str_list(v: Any, name: str) -> list[str]:
    if v is None:
        return []
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise _Bad(f"{name} must be a list of strings, got {_show(v)}")
    return v


def _count(v: Any, name: str) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise _Bad(f"{name} must be a whole number >= 0, got {_show(v)}")
    return v


def _date(v: Any, name: str) -> str | None:
    """An ISO 8601 date-time as a string; Parquet timestamps arrive as datetimes and are written back as ISO."""
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.isoformat().replace("+00:00", "Z")
    if not isinstance(v, str):
        raise _Bad(f"{name} must be an ISO 8601 date, got {_show(v)}")
    try:
        datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise _Bad(f"{name} must be an ISO 8601 date such as 2024-05-01T12:00:00.000Z, got {_show(v)}") from None
    return v


def _kind(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(v), type(v).__name__)


def _show(v: Any) -> str:
    text = json.dumps(v, default=str, ensure_ascii=True)
    return (text[:60] + "...") if len(text) > 63 else text
