"""Synthetic populations on disk: simulated DNAs as DNA files, a manifest and a ground truth.

For benchmarks and tests at sizes no real zoo reaches (10,000 models). The DNAs
come from :func:`lineage.core.score.simulate.simulate_population`; their provenance
says ``probe_set='synthetic'`` so they can never be mixed with real DNAs.
"""

from __future__ import annotations

import json
from pathlib import Path

from lineage.dna.record import DNA, GenerationConfig, Provenance
from lineage.dna.files import dna_filename, dna_to_dict
from lineage.io import atomic_write_text

SYNTHETIC_PROVENANCE = dict(probe_set="synthetic", probe_hash="0" * 16, n_probes=0, generation=GenerationConfig(),
                            dtype="float32", encoder="synthetic", row_reduction="none", projection_seed=0)


def write_synthetic_population(out: str | Path, n_models: int, *, dim: int = 128, random_state: int = 0,
                               one_file: bool = False, unrelated: bool = False) -> dict:
    """Write ``manifest.jsonl``, ``truth.json`` and one DNA file per model under ``out``.

    With ``unrelated`` the models are independent standard-normal DNAs with no family, date
    or declaration (a population with no relatives: every parent inferred on it is false).

    Returns paths ``{"manifest", "truth", "dir"}``. With ``one_file`` the DNAs go
    into the manifest folder all the same (one file each): ingest reads them the
    way it reads any precomputed DNA.
    """
    from lineage.core.score.simulate import simulate_population

    out = Path(out)
    (out / "dna").mkdir(parents=True, exist_ok=True)
    pop = simulate_population(n_models, dim=dim, random_state=random_state)
    if unrelated:
        import numpy as np

        X = np.random.default_rng(random_state).standard_normal((n_models, dim)).astype(np.float32)
        n = len(pop.ids)
        pop = type(pop)(ids=pop.ids, X=X, release_dates=[None] * n, families=[None] * n,
                        true_parents=[[] for _ in range(n)], true_relations=[None] * n,
                        declared_parents=[[] for _ in range(n)], declared_relations=[None] * n)
    prov = Provenance(**SYNTHETIC_PROVENANCE, dna_dim=dim)
    lines = []
    for i, m in enumerate(pop.ids):
        fname = dna_filename(m)
        d = DNA(model_id=m, vector=pop.X[i], provenance=prov)
        (out / "dna" / fname).write_text(json.dumps(dna_to_dict(d)))
        entry = {"id": m, "dna": f"dna/{fname}", "family": pop.families[i],
                 "release_date": pop.release_dates[i].isoformat() if pop.release_dates[i] else None,
                 "base_model": pop.declared_parents[i] or None, "base_model_relation": pop.declared_relations[i]}
        lines.append(json.dumps({k: v for k, v in entry.items() if v is not None}))
    atomic_write_text(out / "manifest.jsonl", "\n".join(lines) + "\n")
    atomic_write_text(out / "truth.json", json.dumps(pop.truth_dict()))
    return {"manifest": out / "manifest.jsonl", "truth": out / "truth.json", "dir": out}
