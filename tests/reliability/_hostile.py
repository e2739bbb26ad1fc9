"""Helpers for the hostile-input tests: DNA files, manifests, graph counts."""

from __future__ import annotations

import json

import numpy as np


def dna_file(path, model_id, dim=128, vector=None, **prov_changes):
    from lineage.dna.files import dna_to_dict, save_dna
    from lineage.dna.record import DNA, Provenance
    from lineage.dna.synthetic import SYNTHETIC_PROVENANCE

    prov = Provenance(**{**SYNTHETIC_PROVENANCE, "dna_dim": dim, **prov_changes})
    v = np.random.default_rng(abs(hash(model_id)) % 2**32).normal(size=dim).astype(np.float32)
    if vector is None:
        save_dna(DNA(model_id=model_id, vector=v, provenance=prov), path)
        return path
    data = dna_to_dict(DNA(model_id=model_id, vector=v, provenance=prov))
    data["vector"] = vector  # written as given: the check must be the reader's
    path.write_text(json.dumps(data))
    return path


def jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def population(tmp_path, n=4, prefix="ok"):
    """n valid DNA files and their manifest rows."""
    rows = []
    for i in range(n):
        dna_file(tmp_path / f"{prefix}{i}.json", f"{prefix}{i}")
        rows.append({"id": f"{prefix}{i}", "dna": f"{prefix}{i}.json", "family": "f"})
    return rows


def counts(graph) -> dict:
    return {(r["kind"], r["what"]): r["n"] for r in graph.query("graph_counts")}
