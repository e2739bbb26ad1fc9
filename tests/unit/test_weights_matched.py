"""The weights channel's matched (permutation-invariant) test on synthetic weight sets (pure numpy)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from lineage.core.channels.weights import (PROBE_STRINGS, WeightProfile, compare_weights, matched_test,
                                           profile_from_matrices, unit_signatures)

PROBES = {s: i for i, s in enumerate(PROBE_STRINGS)}


def model(seed: int, n_layers: int = 4, d: int = 32, h: int = 64, vocab: int = 200) -> dict[str, np.ndarray]:
    """A llama-shaped weight set: embeddings, attention, a gated MLP and the norm it reads through."""
    rng = np.random.default_rng(seed)
    t = lambda *shape: (rng.standard_t(5, size=shape) * 0.05).astype(np.float32)  # noqa: E731
    out = {"model.embed_tokens.weight": (rng.standard_normal((vocab, d)) * 0.05).astype(np.float32)}
    for i in range(n_layers):
        p = f"model.layers.{i}."
        out[p + "self_attn.q_proj.weight"] = t(d, d)
        out[p + "self_attn.o_proj.weight"] = t(d, d)
        out[p + "mlp.gate_proj.weight"] = t(h, d)
        out[p + "mlp.up_proj.weight"] = t(h, d)
        out[p + "mlp.down_proj.weight"] = t(d, h)
        out[p + "post_attention_layernorm.weight"] = rng.uniform(0.5, 1.5, size=d).astype(np.float32)
    return out


def permute(m: dict, seed: int, residual: bool = True) -> dict:
    """The same function under other weights: units, attention rows and (optionally) the residual basis reordered."""
    rng = np.random.default_rng(seed)
    d = m["model.embed_tokens.weight"].shape[1]
    r = rng.permutation(d) if residual else np.arange(d)
    out = {}
    for k, v in m.items():
        if k.endswith("embed_tokens.weight"):
            out[k] = v[:, r]
        elif k.endswith("norm.weight"):
            out[k] = v[r]
    for i in range(1 + max(int(k.split(".")[2]) for k in m if ".layers." in k)):
        p = f"model.layers.{i}."
        heads = rng.permutation(m[p + "self_attn.q_proj.weight"].shape[0])
        units = rng.permutation(m[p + "mlp.up_proj.weight"].shape[0])
        out[p + "self_attn.q_proj.weight"] = m[p + "self_attn.q_proj.weight"][heads][:, r]
        out[p + "self_attn.o_proj.weight"] = m[p + "self_attn.o_proj.weight"][r][:, heads]
        for name in ("gate_proj", "up_proj"):
            out[p + f"mlp.{name}.weight"] = m[p + f"mlp.{name}.weight"][units][:, r]
        out[p + "mlp.down_proj.weight"] = m[p + "mlp.down_proj.weight"][r][:, units]
    return out


def finetune(m: dict, seed: int, scale: float = 0.003) -> dict:
    rng = np.random.default_rng(seed)
    return {k: (v + rng.standard_normal(v.shape).astype(np.float32) * scale * (v.ndim == 2)) for k, v in m.items()}


def width_prune(m: dict, keep: float = 0.75) -> dict:
    """Minitron-style width pruning: the same MLP units dropped in every layer (here the last ones)."""
    out = dict(m)
    for k, v in m.items():
        if k.endswith(("gate_proj.weight", "up_proj.weight")):
            out[k] = v[: int(v.shape[0] * keep)]
        elif k.endswith("down_proj.weight"):
            out[k] = v[:, : int(v.shape[1] * keep)]
    return out


def prof(m: dict, tokenizer: str = "tok-a", probes=PROBES):
    return profile_from_matrices(m, {"architecture": "llama", "hidden_size": 32, "tokenizer": tokenizer},
                                 probe_ids=probes)


def test_signatures_are_invariant_to_the_residual_basis_and_follow_the_units():
    m = model(0)
    a, b = unit_signatures(m, PROBES), unit_signatures(permute(m, 1), PROBES)
    assert a[1] == b[1] == ("up", "gate", "down") and len(a[2]) == len(PROBE_STRINGS)
    for layer, sa in a[0].items():
        sb = b[0][layer]
        # the same rows, reordered: sorting each part's rows lexicographically lines them up
        key = lambda s: np.lexsort(np.round(s.reshape(len(s), -1), 4).T[::-1])  # noqa: E731
        assert np.allclose(sa[key(sa)], sb[key(sb)], atol=1e-4)


def test_a_permuted_copy_is_related_only_by_the_matched_test():
    a = model(0)
    child = finetune(permute(a, 1), 2, scale=0.002)
    c = compare_weights(prof(child), prof(a))
    assert c.p_direct > 0.01  # the matrices as stored look independent
    assert c.p_matched < 1e-12 and c.matched and c.p_value < 1e-12 and c.permuted(0.01)
    assert c.matched_cosine > 0.9
    # a related pair the direct test decides keeps the direct verdict (no matched test needed)
    kid = compare_weights(prof(finetune(a, 3)), prof(a))
    assert kid.p_value < 1e-100 and not kid.matched and not kid.permuted(0.01)


def test_permuting_only_the_units_is_caught_too():
    a = model(4)
    b = permute(a, 5, residual=False)
    # the embedding is untouched, so the direct test already relates the pair; the matched test does too
    # (the direct test's null spread is an upper confidence bound at this depth, so its p is ~1e-9, not below 1e-12)
    assert compare_weights(prof(b), prof(a)).p_value < 1e-8
    assert matched_test(prof(b), prof(a)).p_value < 1e-12


def _signatures_only(m: dict) -> WeightProfile:
    units, parts, probes = unit_signatures(m, PROBES)
    return WeightProfile(signature={}, units=units, unit_parts=parts, unit_probes=probes)


def test_independent_models_false_positive_rate():
    """Independent pairs: at p <= 0.01 the matched test calls about 1% related over 200 pairs (at
    most 6, the binomial(200, 0.01) 99th percentile), and so does the channel's combined p-value
    over 100 pairs (at most 4)."""
    p_matched = [matched_test(_signatures_only(model(1000 + 2 * s)), _signatures_only(model(1001 + 2 * s))).p_value
                 for s in range(200)]
    assert sum(p <= 0.01 for p in p_matched) <= 6, sorted(p_matched)[:8]
    assert sum(p <= 0.05 for p in p_matched) <= 18  # binomial(200, 0.05) 99th percentile
    p_all = [compare_weights(prof(model(5000 + 2 * s, n_layers=3)), prof(model(5001 + 2 * s, n_layers=3))).p_value
             for s in range(100)]
    assert sum(p <= 0.01 for p in p_all) <= 4, sorted(p_all)[:6]


def test_a_width_pruned_child_is_related_even_when_also_permuted():
    a = model(7)
    pruned = width_prune(finetune(a, 8, scale=0.001))
    direct = compare_weights(prof(pruned), prof(a))
    assert direct.p_value < 1e-12  # attention is untouched: the direct test decides
    hidden = permute(pruned, 9)
    t = matched_test(prof(hidden), prof(a))
    assert t is not None and t.p_value < 1e-12 and t.n_units == 48
    c = compare_weights(prof(hidden), prof(a))
    assert c.p_value < 1e-12 and c.matched and c.p_direct > c.p_matched


def test_no_signatures_without_probe_tokens():
    m = model(0)
    assert unit_signatures(m, {}) is None
    few = {s: i for s, i in list(PROBES.items())[:5]}
    assert unit_signatures(m, few) is None
    p = profile_from_matrices(m, {"architecture": "llama"})
    assert not p.units and matched_test(p, p) is None


def test_vocabulary_change_keeps_matching_by_token_string():
    """Probe tokens are found by string: another id order (a re-ordered or extended vocabulary)
    gives the same signatures."""
    m = model(0)
    shift = {s: i + 10 for s, i in PROBES.items()}
    moved = dict(m)
    E = m["model.embed_tokens.weight"]
    E2 = np.zeros((E.shape[0] + 40, E.shape[1]), dtype=np.float32)
    E2[10: 10 + E.shape[0]] = E
    moved["model.embed_tokens.weight"] = E2
    a, b = unit_signatures(m, PROBES), unit_signatures(moved, shift)
    assert all(np.allclose(a[0][i], b[0][i], atol=1e-5) for i in a[0])


D0 = dt.date(2024, 1, 1)


def test_the_inference_names_permuted_vocab_and_pruned_children():
    from lineage.core.infer.analysis import analyse_population

    root = model(20, n_layers=6)
    perm = finetune(permute(root, 21), 22, scale=0.002)
    vocab = finetune(dict(root), 23)
    E = root["model.embed_tokens.weight"]
    vocab["model.embed_tokens.weight"] = np.concatenate(
        [E, np.random.default_rng(24).standard_normal((16, E.shape[1])).astype(np.float32) * 0.05])
    pruned = width_prune(finetune(root, 25, scale=0.001))
    stranger = model(30, n_layers=6)
    ids = ["root", "perm", "vocab", "pruned", "stranger"]
    toks = ["tok-a", "tok-a", "tok-b", "tok-a", "tok-c"]
    profiles = [prof(m, t) for m, t in zip([root, perm, vocab, pruned, stranger], toks)]
    rng = np.random.default_rng(0)
    X = np.stack([rng.standard_normal(8) for _ in ids])  # DNAs that say nothing
    dates = [D0 + dt.timedelta(days=14 * i) for i in range(len(ids))]
    an = analyse_population(ids, X, release_dates=dates, weights=profiles, fpr=0.05, k=4)
    got = {p.child: (p.parent, p.kind) for p in an.parents}
    assert got == {"perm": ("root", "permuted"), "vocab": ("root", "vocab"), "pruned": ("root", "pruned")}
