"""A population of models as the inference sees it: DNAs, metadata and optional weight evidence.

One type instead of parallel lists rebuilt by every caller (the graph, the evaluation
from files, the demo). Pure data: adapters fill it (from Neo4j, from files, from a
manifest) and :func:`analyse` hands it to :func:`lineage.core.infer.analysis.analyse_population`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import numpy as np

from lineage.core.infer.analysis import Analysis, analyse_population


@dataclass(frozen=True)
class Population:
    """Models and what is known about them, aligned by position.

    Attributes
    ----------
    ids : tuple of str, length n_models
    X : ndarray of shape (n_models, n_dims)
        DNA vectors.
    release_dates, families, declared_parents, declared_relations, declared_sources : tuples
        Metadata (``None`` / empty where unknown).
    weights : tuple of WeightProfile or None
        Weight evidence where a model's weights were read (:mod:`lineage.core.channels.weights`).
    logits : tuple of LogitsProfile or None
        Next-token evidence where a model was run on the fixed text (:mod:`lineage.core.channels.logits`).
    refine : callable, optional
        Exact weight distance of a pair ``(parent_index, child_index)`` (an adapter
        that can read both models' files), for near-ties.
    """

    ids: tuple[str, ...]
    X: np.ndarray
    release_dates: tuple[dt.date | None, ...] = ()
    families: tuple[str | None, ...] = ()
    declared_parents: tuple[tuple[str, ...], ...] = ()
    declared_relations: tuple[str | None, ...] = ()
    declared_sources: tuple[str | None, ...] = ()
    weights: tuple[Any, ...] = ()
    logits: tuple[Any, ...] = ()
    refine: Callable[[int, int], float | None] | None = field(default=None, compare=False)

    def __post_init__(self):
        n = len(self.ids)
        fill = {"release_dates": None, "families": None, "declared_parents": (), "declared_relations": None,
                "declared_sources": None, "weights": None, "logits": None}
        for name, empty in fill.items():
            seq = getattr(self, name)
            if not seq:
                object.__setattr__(self, name, tuple([empty] * n))
            elif len(seq) != n:
                raise ValueError(f"{name} has {len(seq)} entries for {n} models")
            else:
                object.__setattr__(self, name, tuple(tuple(x) if name == "declared_parents" else x for x in seq))
        object.__setattr__(self, "ids", tuple(self.ids))
        X = np.asarray(self.X, dtype=np.float32)
        if X.ndim != 2 or X.shape[0] != n:
            raise ValueError(f"X must have shape (n_models={n}, n_dims), got {X.shape}")
        object.__setattr__(self, "X", X)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def has_weights(self) -> bool:
        return any(w is not None for w in self.weights)

    def index(self, model_id: str) -> int:
        return self.ids.index(model_id)

    def subset(self, keep: Sequence[str]) -> "Population":
        """The models in ``keep`` (in this population's order)."""
        wanted = set(keep)
        idx = [i for i, m in enumerate(self.ids) if m in wanted]
        pick = lambda seq: tuple(seq[i] for i in idx)  # noqa: E731
        refine = None
        if self.refine is not None:
            base = self.refine
            refine = lambda p, c: base(idx[p], idx[c])  # noqa: E731
        return Population(ids=pick(self.ids), X=self.X[idx], release_dates=pick(self.release_dates),
                          families=pick(self.families), declared_parents=pick(self.declared_parents),
                          declared_relations=pick(self.declared_relations),
                          declared_sources=pick(self.declared_sources), weights=pick(self.weights),
                          logits=pick(self.logits), refine=refine)

    def blind(self) -> "Population":
        """The same models with declared parents, relations and families removed (dates kept)."""
        n = len(self)
        return replace(self, families=(None,) * n, declared_parents=((),) * n, declared_relations=(None,) * n,
                       declared_sources=(None,) * n)

    @property
    def has_logits(self) -> bool:
        return any(x is not None for x in self.logits)

    def without_weights(self) -> "Population":
        """The DNA alone: no weight and no next-token evidence."""
        return replace(self, weights=(None,) * len(self), logits=(None,) * len(self), refine=None)

    def analysis_kwargs(self) -> dict:
        """Keyword arguments of :func:`~lineage.core.infer.analysis.analyse_population` for this population."""
        return dict(release_dates=list(self.release_dates), families=list(self.families),
                    declared_parents=[list(p) for p in self.declared_parents],
                    declared_relations=list(self.declared_relations),
                    weights=list(self.weights) if self.has_weights else None,
                    refine=self.refine if self.has_weights else None,
                    logits=list(self.logits) if self.has_logits else None)


def analyse(pop: Population, *, k: int = 10, **kwargs) -> Analysis:
    """:func:`~lineage.core.infer.analysis.analyse_population` on a :class:`Population`."""
    return analyse_population(list(pop.ids), pop.X, k=min(k, len(pop) - 1), **pop.analysis_kwargs(), **kwargs)
