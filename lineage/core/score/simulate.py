"""Synthetic populations of model DNAs with a known genealogy (seeded).

Used by tests, benchmarks and the evaluation to check the inference where the
truth is known. The model of evolution:

* families start from independent random root vectors (``root_spread`` is the
  typical distance between two family roots; 1.7 matches unrelated small models
  measured with the real pipeline);
* a family grows one model at a time; a new model picks its parent among the
  family's earlier models (the family base with probability ``fanout``, since bases
  fan out, otherwise uniformly), is released ``30 + Exp(mean_gap_days)`` days
  (at most a year) after it, and
  lies at distance ``rate_f * years`` from it in a random direction, where
  ``rate_f`` is the family's speed (``rate`` times a log-normal factor);
* some children are quantized (tiny step, a few days later) or merges of two
  family models (midpoint plus a step); both are leaves;
* metadata is imperfect: a fraction of children declare no parent
  (``p_undocumented``) and a fraction declare a wrong, older parent from another
  family (``p_wrong``), so undocumented-relation and conflict detection can be
  scored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SimulatedPopulation:
    """A population with its true genealogy and its (imperfect) declared metadata.

    Attributes
    ----------
    ids : list of str
    X : ndarray of shape (n_models, dim), float32
    release_dates : list of date
    families : list of str
    true_parents : list of list of str
        The real parents (two for merges, none for family bases).
    true_relations : list of str or None
    declared_parents : list of list of str
        What the metadata claims.
    declared_relations : list of str or None
    family_rates : dict of str to float
        Each family's true speed (distance per year of a single step).
    """

    ids: list[str]
    X: np.ndarray
    release_dates: list[dt.date]
    families: list[str]
    true_parents: list[list[str]]
    true_relations: list[str | None]
    declared_parents: list[list[str]]
    declared_relations: list[str | None]
    architectures: list[str] = field(default_factory=list)
    family_rates: dict[str, float] = field(default_factory=dict)

    def truth_dict(self) -> dict:
        """The ground truth in the ``GroundTruth`` JSON layout (see :mod:`lineage.manifest`)."""
        return {
            "models": [{"id": m, "family": f} for m, f in zip(self.ids, self.families)],
            "edges": [
                {"parent": p, "child": m, "relation": r or "finetune"}
                for m, ps, r in zip(self.ids, self.true_parents, self.true_relations)
                for p in ps
            ],
        }


def simulate_population(
    n_models: int = 100,
    *,
    n_families: int | None = None,
    dim: int = 128,
    root_spread: float = 1.7,
    rate: float = 1.5,
    mean_gap_days: float = 90.0,
    fanout: float = 0.4,
    p_quantized: float = 0.1,
    p_merge: float = 0.03,
    p_undocumented: float = 0.1,
    p_wrong: float = 0.05,
    start: dt.date = dt.date(2019, 1, 1),
    random_state: int = 0,
) -> SimulatedPopulation:
    """Simulate ``n_models`` DNAs evolving in families.

    Parameters
    ----------
    n_models : int
    n_families : int, optional
        Default ``max(1, n_models // 12)``.
    dim : int
        DNA dimension.
    root_spread : float
        Typical Euclidean distance between two family roots.
    rate : float
        Median family speed: distance of a fine-tune from its parent per year.
    mean_gap_days : float
        Mean time between a parent's and a child's release.
    fanout : float
        Probability that a new model descends from its family's base.
    p_quantized, p_merge : float
        Share of children that are quantized copies / merges (leaves).
    p_undocumented, p_wrong : float
        Share of children whose metadata omits the parent / names a wrong one.
    random_state : int

    Returns
    -------
    SimulatedPopulation
        Models in a shuffled order.
    """
    rng = np.random.default_rng(random_state)
    F = n_families or max(1, n_models // 12)
    F = min(F, n_models)
    sizes = 1 + rng.multinomial(n_models - F, np.full(F, 1.0 / F))
    root_scale = root_spread / np.sqrt(2 * dim)
    archs = ["llama", "gpt2", "mistral", "qwen2", "t5", "gemma"]

    ids, vecs, dates, fams, parents, rels, arch, rates = [], [], [], [], [], [], [], {}
    for f, size in enumerate(sizes):
        fam = f"fam{f:03d}"
        rate_f = float(rate * np.exp(rng.normal(0.0, 0.35)))
        rates[fam] = rate_f
        a = archs[int(rng.integers(len(archs)))]
        base_i = len(ids)
        members: list[int] = []  # indices eligible as parents
        for j in range(size):
            mid = f"{fam}/m{j:04d}"
            if j == 0:
                vecs.append(rng.normal(0.0, root_scale, dim))
                dates.append(start + dt.timedelta(days=int(rng.integers(0, 5 * 365))))
                parents.append([])
                rels.append(None)
                members.append(len(ids))
            else:
                p = base_i if rng.random() < fanout else members[int(rng.integers(len(members)))]
                u = rng.random()
                direction = rng.normal(size=dim)
                direction /= np.linalg.norm(direction)
                if u < p_quantized:
                    gap = int(rng.integers(0, 15))
                    vecs.append(vecs[p] + direction * 0.08 * rate)
                    parents.append([ids[p]])
                    rels.append("quantized")
                elif u < p_quantized + p_merge and len(members) >= 2:
                    q = members[int(rng.integers(len(members)))]
                    while q == p:
                        q = members[int(rng.integers(len(members)))]
                    gap = 1 + int(rng.exponential(mean_gap_days / 3))
                    p, other = (p, q) if dates[p] >= dates[q] else (q, p)  # the later parent sets the date
                    vecs.append((vecs[p] + vecs[other]) / 2 + direction * 0.1 * rate)
                    parents.append([ids[p], ids[other]])
                    rels.append("merge")
                else:
                    gap = int(min(30 + rng.exponential(mean_gap_days), 365))
                    vecs.append(vecs[p] + direction * rate_f * gap / 365.25)
                    parents.append([ids[p]])
                    rels.append("finetune")
                dates.append(dates[p] + dt.timedelta(days=gap))
                if rels[-1] == "finetune":
                    members.append(len(ids))
            ids.append(mid)
            fams.append(fam)
            arch.append(a)

    declared_p: list[list[str]] = []
    declared_r: list[str | None] = []
    for i in range(len(ids)):
        if not parents[i]:
            declared_p.append([])
            declared_r.append(None)
            continue
        u = rng.random()
        if u < p_undocumented:
            declared_p.append([])
            declared_r.append(None)
        elif u < p_undocumented + p_wrong:
            older = [k for k in range(len(ids)) if fams[k] != fams[i] and dates[k] <= dates[i]]
            if older:
                declared_p.append([ids[older[int(rng.integers(len(older)))]]])
                declared_r.append(rels[i])
            else:
                declared_p.append(list(parents[i]))
                declared_r.append(rels[i])
        else:
            declared_p.append(list(parents[i]))
            declared_r.append(rels[i])

    order = rng.permutation(len(ids))
    pick = lambda seq: [seq[k] for k in order]  # noqa: E731
    return SimulatedPopulation(
        ids=pick(ids),
        X=np.asarray(np.stack(vecs)[order], dtype=np.float32),
        release_dates=pick(dates),
        families=pick(fams),
        true_parents=pick(parents),
        true_relations=pick(rels),
        declared_parents=pick(declared_p),
        declared_relations=pick(declared_r),
        architectures=pick(arch),
        family_rates=rates,
    )
