"""Combined inference on a synthetic family whose weights have a known history (pure, seconds)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from lineage.core.analysis import analyse_population
from tests.unit.test_weights import base, finetune, lora, prof, prune, quantize

D0 = dt.date(2024, 1, 1)


def _population():
    a = base(0, n_layers=8)
    b = finetune(a, 1)                      # fine-tune of a
    c = finetune(b, 2)                      # grandchild (declared as a's child: wrong)
    d = lora(a, 3, rank=4, scale=0.03)      # adapter of a
    e = {k: 0.5 * b[k] + 0.5 * d[k] for k in a}  # merge of b and d
    q = quantize(a, bits=4, group=32)       # quantised copy of a
    p = finetune(prune(a, {3, 6}), 4, scale=0.001)  # depth-pruned, healed
    u1, u2 = base(50, n_layers=8), base(51, n_layers=8)  # two unrelated labs (same shapes)
    weights = {"a": a, "b": b, "c": c, "d": d, "e": e, "q": q, "p": p, "u1": u1, "u2": u2}
    ids = list(weights)
    truth = {"b": ("a", "finetune"), "c": ("b", "finetune"), "d": ("a", "adapter"), "e": ("b", "merge"),
             "q": ("a", "quantized"), "p": ("a", "pruned")}
    # DNAs: one cluster for the family, the strangers apart; the DNA is deliberately blunt inside the family
    rng = np.random.default_rng(0)
    centre = rng.standard_normal(16)
    X = np.stack([centre + 0.3 * rng.standard_normal(16) if m not in ("u1", "u2") else rng.standard_normal(16) * 3
                  for m in ids])
    dates = [D0 + dt.timedelta(days=14 * i) for i in range(len(ids))]
    return ids, X, [prof(weights[m]) for m in ids], dates, truth


def test_weights_recover_parents_kinds_and_the_wrong_declaration():
    ids, X, profiles, dates, truth = _population()
    declared = [[], ["a"], ["a"], ["a"], ["b", "d"], ["a"], [], [], []]  # c wrongly declares a; p undocumented
    an = analyse_population(ids, X, release_dates=dates, declared_parents=declared, weights=profiles, fpr=0.05, k=5)
    got = {p.child: (p.parent, p.kind) for p in an.parents if p.kind != "merge"}
    got["e"] = next(("b", p.kind) for p in an.parents if p.child == "e")
    for child, (parent, kind) in truth.items():
        assert got[child][0] == parent, (child, got[child])
        assert got[child][1] == kind, (child, got[child])
    assert "a" not in got and "u1" not in got and "u2" not in got
    merge_parents = {p.parent for p in an.parents if p.child == "e"}
    assert merge_parents == {"b", "d"}
    assert {(c.child, c.declared_parent) for c in an.conflicts} == {("c", "a")}
    assert any(u.a == "a" and u.b == "p" and u.kind == "parent" for u in an.undocumented)
    assert all({u.a, u.b} <= {"a", "b", "c", "d", "e", "q", "p"} for u in an.undocumented)
    edge = next(p for p in an.parents if p.child == "b")
    assert edge.channel == "weights" and edge.evidence[0].channel == "weights"


def test_blind_inference_needs_no_declarations():
    ids, X, profiles, dates, truth = _population()
    an = analyse_population(ids, X, release_dates=dates, weights=profiles, fpr=0.05, k=5)
    got = {p.child: p.parent for p in an.parents if p.kind != "merge"}
    for child, (parent, kind) in truth.items():
        if kind != "merge":
            assert got[child] == parent, child
