"""Row types of an analysis: the records the graph stores for neighbours, undocumented
relations and contradicted declarations (shared by the DNA-only and the combined inference)."""

from __future__ import annotations

from dataclasses import dataclass


class _Row:
    """Frozen dataclass rows that also unpack like tuples."""

    def __iter__(self):
        return iter(getattr(self, f) for f in self.__dataclass_fields__)


@dataclass(frozen=True)
class Neighbour(_Row):
    """``b`` is ``a``'s ``rank``-th nearest model (1 = nearest)."""

    a: str
    b: str
    distance: float
    rank: int


@dataclass(frozen=True)
class UndocumentedRelation(_Row):
    a: str
    b: str
    score: float
    p_value: float
    kind: str


@dataclass(frozen=True)
class Conflict(_Row):
    child: str
    declared_parent: str
    distance: float
    p_value: float
    reason: str
    channel: str = "dna"
