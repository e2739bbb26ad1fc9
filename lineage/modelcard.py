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

from lineage.manifest import ManifestEntry

_RELATIONS = {"finetune", "adapter", "merge", "quantized", "distillation", "pruned"}


def read_card(folder: Path) -> dict:
    """The YAML front matter of ``folder/README.md`` as a dict ({} when absent or unreadable)."""
    card = Path(folder) / "README.md"
    if not card.is_file():
        return {}
    text = card.read_text(encoding="utf-8", errors="replace")
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    try:
        data = yaml.safe_load(text[3:end])
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def _date(v) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v[:10])
        except ValueError:
            return None
    return None


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
    if not entry.base_model and card.get("base_model"):
        bm = card["base_model"]
        update["base_model"] = [bm] if isinstance(bm, str) else [str(x) for x in bm]
        source = "model_card"
    if entry.base_model_relation is None and card.get("base_model_relation") in _RELATIONS:
        update["base_model_relation"] = card["base_model_relation"]
    if entry.licence is None and card.get("license"):
        update["licence"] = str(card["license"])
    if entry.release_date is None:
        d = _date(card.get("release_date") or card.get("created"))
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
