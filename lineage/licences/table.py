"""The licence table shipped as data (``lineage/data/licences.yaml``) and lookup by the
strings model cards use.

Lookup is tolerant of case, spaces, ``_`` and runs of ``-`` and of the ``license-``
/ ``licenseref-`` prefixes, and knows every entry's Hub ``license:`` value, SPDX id and
aliases. A string the table does not hold is *unknown* (:attr:`LicenceMatch.status`
``"unknown"``): it is never mapped to the nearest entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from lineage.errors import InputError

#: Obligation kinds, in the order findings list them.
KINDS = ("non_commercial", "share_alike", "use_restrictions", "outputs_restriction", "naming",
         "attribution", "notice", "user_threshold")
#: Kinds a descendant's own licence can drop (a licence conflict); the others are carried
#: obligations a graph cannot check (a NOTICE file, a user count).
CONFLICT_KINDS = ("non_commercial", "share_alike", "use_restrictions", "outputs_restriction", "naming")

_SEP = re.compile(r"[\s_\-]+")
#: The Hub's ``license: other`` with a ``license_name``, as the card reader stores it: ``other: <name>``.
_OTHER = re.compile(r"^\s*other\s*:\s*(?P<name>\S.*?)\s*$", re.IGNORECASE | re.DOTALL)


def other_licence(name: str) -> str:
    """The licence string for a card's ``license: other`` with ``license_name: name``."""
    return f"other: {name.strip()}"


def normalise(text: str) -> str:
    """A licence string as the key lookup compares: lower case, separators as one ``-``."""
    key = _SEP.sub("-", text.strip().lower()).strip("-")
    for prefix in ("licenseref-", "license-"):
        if key.startswith(prefix) and len(key) > len(prefix):
            key = key[len(prefix):]
    return key


@dataclass(frozen=True)
class Obligation:
    """One obligation of a licence.

    ``inherits``: it travels to derivatives made from the weights; ``via_outputs``: it also
    travels to a model trained on the outputs (distillation, synthetic data).
    """

    kind: str
    summary: str
    clause: str
    inherits: bool = True
    via_outputs: bool = False
    prefix: str | None = None
    threshold: int | None = None


@dataclass(frozen=True)
class Licence:
    id: str
    name: str
    url: str
    spdx: str | None
    commercial: bool | None
    outputs: str
    checked: str
    known: bool = True
    aliases: tuple[str, ...] = ()
    obligations: tuple[Obligation, ...] = ()

    @property
    def expression(self) -> str:
        """The SPDX id, or a ``LicenseRef-`` for a licence the SPDX list lacks."""
        return self.spdx or "LicenseRef-lineage-" + re.sub(r"[^A-Za-z0-9.\-]", "-", self.id)

    def kinds(self) -> set[str]:
        return {o.kind for o in self.obligations}


@dataclass(frozen=True)
class LicenceMatch:
    """What a model's licence string resolves to. ``status``: ``known`` (an entry with its
    obligations), ``unidentified`` (an entry such as ``other`` that says the terms are not
    named), ``unknown`` (a string the table does not hold) or ``none`` (no licence given)."""

    raw: str | None
    licence: Licence | None
    status: str

    @property
    def id(self) -> str | None:
        return self.licence.id if self.licence is not None else None


@dataclass
class LicenceTable:
    licences: dict[str, Licence]
    _index: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for lic in self.licences.values():
            for name in (lic.id, lic.spdx, *lic.aliases):
                if not name:
                    continue
                key = normalise(name)
                other = self._index.get(key)
                if other is not None and other != lic.id:
                    raise InputError(f"licence table: {name!r} names both {other!r} and {lic.id!r}")
                self._index[key] = lic.id

    def get(self, licence_id: str) -> Licence:
        return self.licences[licence_id]

    def lookup(self, text: str | None) -> LicenceMatch:
        """The entry a card's licence string names, or ``unknown`` / ``none``.

        ``other: <name>`` (the Hub's ``license: other`` with ``license_name: <name>``, see
        :func:`other_licence`) is looked up by its name; a name the table does not hold is
        ``unknown`` with the string as written (``other: <name>``: reported by
        ``unknown_licences`` and judged unverified), never a permissive licence.
        """
        if text is None or not str(text).strip():
            return LicenceMatch(None, None, "none")
        other = _OTHER.match(str(text))
        lid = self._index.get(normalise(other.group("name") if other else str(text)))
        if lid is None:
            return LicenceMatch(str(text), None, "unknown")
        lic = self.licences[lid]
        return LicenceMatch(str(text), lic, "known" if lic.known else "unidentified")

    def __iter__(self):
        return iter(self.licences.values())

    def __len__(self) -> int:
        return len(self.licences)


def parse_table(data: object, origin: str = "licence table") -> LicenceTable:
    """A :class:`LicenceTable` from the parsed YAML; a malformed entry is an :class:`InputError`."""
    if not isinstance(data, dict) or not isinstance(data.get("licences"), dict):
        raise InputError(f"{origin}: expected a mapping 'licences:'")
    out: dict[str, Licence] = {}
    for lid, e in data["licences"].items():
        where = f"{origin}: licence {lid!r}"
        if not isinstance(e, dict):
            raise InputError(f"{where} is not a mapping")
        missing = [k for k in ("name", "url", "commercial", "outputs", "checked", "obligations") if k not in e]
        if missing:
            raise InputError(f"{where} lacks {', '.join(missing)}")
        if e["outputs"] not in ("free", "derivative"):
            raise InputError(f"{where}: outputs must be 'free' or 'derivative'")
        obligations = []
        for i, o in enumerate(e["obligations"] or []):
            if not isinstance(o, dict) or o.get("kind") not in KINDS:
                raise InputError(f"{where}: obligation {i + 1} needs a kind, one of {', '.join(KINDS)}")
            if not o.get("summary") or not o.get("clause"):
                raise InputError(f"{where}: obligation {i + 1} ({o['kind']}) needs a summary and a clause")
            extra = set(o) - {"kind", "summary", "clause", "inherits", "via_outputs", "prefix", "threshold"}
            if extra:
                raise InputError(f"{where}: obligation {i + 1} has unknown field(s) {', '.join(sorted(extra))}")
            obligations.append(Obligation(
                kind=o["kind"], summary=str(o["summary"]), clause=str(o["clause"]),
                inherits=bool(o.get("inherits", True)),
                via_outputs=bool(o.get("via_outputs", e["outputs"] == "derivative")),
                prefix=o.get("prefix"), threshold=o.get("threshold")))
        out[str(lid)] = Licence(
            id=str(lid), name=str(e["name"]), url=str(e["url"]), spdx=e.get("spdx"), commercial=e["commercial"],
            outputs=e["outputs"], checked=str(e["checked"]), known=bool(e.get("known", True)),
            aliases=tuple(str(a) for a in e.get("aliases") or ()), obligations=tuple(obligations))
    return LicenceTable(out)


@lru_cache(maxsize=1)
def load_table() -> LicenceTable:
    """The shipped table (parsed once per process)."""
    from lineage.io import load_yaml_text

    text = resources.files("lineage.data").joinpath("licences.yaml").read_text(encoding="utf-8")
    return parse_table(load_yaml_text(text), "lineage/data/licences.yaml")
