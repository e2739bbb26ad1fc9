"""Metadata from Hugging Face model cards (``README.md`` with YAML front matter).

Only fields the manifest leaves empty are filled from the card; the manifest
always wins. Read: ``base_model`` (one id or a list), ``base_model_relation``,
``license``, ``release_date`` (or ``created``), ``model_name``, ``family``,
``organisation``/``organization``. A card without front matter, or with front
matter that is not valid YAML, contributes nothing (it is not an error: many
real cards are like that).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from lineage.errors import InputError
from lineage.io import check_depth, load_yaml_text, read_text_file
from lineage.manifest import MAX_ID_LENGTH, ManifestEntry, log

_RELATIONS = {"finetune", "adapter", "merge", "quantized", "distillation", "pruned"}


#: Largest model card read (bytes); a bigger README contributes nothing.
MAX_CARD_BYTES = 1 * 2**20


def read_card(folder: Path) -> dict:
    """The YAML front matter of ``folder/README.md`` as a dict ({} when absent or unreadable).

    The front matter is parsed with the manifest's safe loader: no aliases (alias bombs),
    nesting limited, dates left as text. A card that is too large, not UTF-8, or whose
    front matter is refused contributes nothing, with a warning naming it."""
    card = Path(folder) / "README.md"
    if not card.is_file():
        return {}
    try:
        text = read_text_file(card, "model card", max_bytes=MAX_CARD_BYTES)
    except InputError as e:
        log.warning("warning: %s; model card ignored", e.message)
        return {}
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    try:
        data = load_yaml_text(text[3:end])
        check_depth(data)
    except (yaml.YAMLError, ValueError, RecursionError) as e:
        why = getattr(e, "problem", None) or str(e).splitlines()[0]
        log.warning("warning: %s: front matter refused (%s); model card ignored", card, why)
        return {}
    return data if isinstance(data, dict) else {}


def _date(v, where: str = "model card") -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v[:10])
        except ValueError:
            pass
    if v is not None:
        log.warning("warning: %s: release date %s is not a date (YYYY-MM-DD); ignored", where, _short(v))
    return None


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _card_parents(bm, model_id: str, where: str) -> list[str]:
    """The card's ``base_model`` as ids: a model named as its own parent, repeats, empty or
    over-long ids and values that are not text are dropped with a warning."""
    raw = [bm] if isinstance(bm, str) else (bm if isinstance(bm, list) else [bm])
    out: list[str] = []
    for x in raw:
        if not isinstance(x, (str, int, float)) or isinstance(x, bool):
            log.warning("warning: %s: base_model entry %s is not an id; ignored", where, _short(x))
            continue
        p = str(x)
        if p == model_id:
            log.warning("warning: %s: declares the model as its own parent; ignored", where)
        elif not p or len(p) > MAX_ID_LENGTH:
            log.warning("warning: %s: base_model id of %d characters; ignored", where, len(p))
        elif p in out:
            log.warning("warning: %s: base_model %s declared twice; kept once", where, _short(p))
        else:
            out.append(p)
    return out


def enrich(entry: ManifestEntry) -> tuple[ManifestEntry, str | None]:
    """Fill the entry's empty metadata from its model card.

    Returns the (possibly updated) entry and where its declared parents came
    from: ``"manifest"``, ``"model_card"`` or ``None`` when none are declared.
    """
    source = "manifest" if entry.base_model else None
    if entry.path is None or not Path(entry.path).is_dir():
        return entry, source
    card = read_card(Path(entry.path))
    if not card:
        return entry, source
    update: dict = {}
    where = f"model card of {entry.id!r} ({Path(entry.path) / 'README.md'})"
    if not entry.base_model and card.get("base_model"):
        parents = _card_parents(card["base_model"], entry.id, where)
        if parents:
            update["base_model"] = parents
            source = "model_card"
    if entry.base_model_relation is None and isinstance(card.get("base_model_relation"), str) and card["base_model_relation"] in _RELATIONS:
        update["base_model_relation"] = card["base_model_relation"]
    if entry.licence is None and card.get("license"):
        update["licence"] = str(card["license"])
    if entry.release_date is None:
        d = _date(card.get("release_date") or card.get("created"), where)
        if d is not None:
            update["release_date"] = d
    for field, keys in (("name", ("model_name",)), ("family", ("family",)),
                        ("organisation", ("organisation", "organization"))):
        if getattr(entry, field) is None:
            for k in keys:
                if card.get(k):
                    update[field] = str(card[k])
                    break
    return (entry.model_copy(update=update) if update else entry), source
