"""How fast each family's DNA changes over time.

For a family, the speed is the least-squares slope of root-to-tip distance in the
(rooted) tree against release date, in DNA distance per year (365.25 days): the
root-to-tip regression of molecular dating (e.g. TempEst). A steeper slope is a
family whose models drift further in behaviour per year. ``r2`` says how well a
straight line fits (with two models it is 1 by construction; look at
``n_models``). Families with fewer than two dated models, or all released the
same day, get no speed.

A slope is reported as a speed only when it means one: a negative slope (later
models *closer* to the root) or a fit that explains little (``r2 < MIN_R2`` with
three or more models) is kept with a ``note`` saying so, and :attr:`FamilySpeed.valid`
is False; the graph then stores no speed for the family, only the slope and the note.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

MIN_R2 = 0.3


@dataclass(frozen=True)
class FamilySpeed:
    """DNA change per year within one family."""

    family: str
    speed: float
    n_models: int
    r2: float
    span_days: int
    note: str = ""

    @property
    def valid(self) -> bool:
        """True when ``speed`` is a meaningful rate (positive, with a fit that explains the trend)."""
        return not self.note


def family_speeds(
    ids: Sequence[str],
    root_to_tip: Mapping[str, float],
    release_dates: Sequence[dt.date | None],
    families: Sequence[str | None],
) -> list[FamilySpeed]:
    """Per-family slope of root-to-tip distance against release date.

    Parameters
    ----------
    ids : sequence of str, length n_models
    root_to_tip : mapping of model id to float
        e.g. :meth:`lineage.core.infer.tree.Tree.root_to_tip`.
    release_dates : sequence of date or None, length n_models
    families : sequence of str or None, length n_models

    Returns
    -------
    list of FamilySpeed
        Sorted by family name.
    """
    groups: dict[str, list[tuple[float, float]]] = {}
    for m, d, f in zip(ids, release_dates, families):
        if f and d is not None and m in root_to_tip:
            groups.setdefault(f, []).append((d.toordinal(), float(root_to_tip[m])))
    out = []
    for fam in sorted(groups):
        pts = np.array(groups[fam], dtype=np.float64)
        if pts.shape[0] < 2:
            continue
        days = pts[:, 0]
        span = int(days.max() - days.min())
        if span == 0:
            continue
        t = (days - days.mean()) / 365.25
        y = pts[:, 1] - pts[:, 1].mean()
        slope = float((t @ y) / (t @ t))
        ss_tot = float(y @ y)
        resid = y - slope * t
        r2 = 1.0 - float(resid @ resid) / ss_tot if ss_tot > 0 else 1.0
        note = ""
        if slope <= 0:
            note = f"negative slope ({slope:.3g} per year): later models are not farther from the root; no speed"
        elif pts.shape[0] >= 3 and r2 < MIN_R2:
            note = f"no trend: a straight line explains {r2:.2f} of the variance (< {MIN_R2}); no speed"
        out.append(FamilySpeed(family=fam, speed=slope, n_models=int(pts.shape[0]), r2=r2, span_days=span, note=note))
    return out
