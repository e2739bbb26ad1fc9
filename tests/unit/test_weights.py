"""The weights channel on synthetic weight sets with a known history (pure numpy, seconds)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lineage.core.channels.weights import (SKETCH_RANK, compare_weights, difference_rank, merge_fit, profile_from_matrices,
                                  tensor_role)

ROLES = {"self_attn.q_proj": (48, 48), "self_attn.o_proj": (48, 48), "mlp.up_proj": (128, 48), "mlp.down_proj": (48, 128)}


def base(seed: int, n_layers: int = 6) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {"model.embed_tokens.weight": rng.standard_normal((300, 48)).astype(np.float32) * 0.05}
    for i in range(n_layers):
        for role, shape in ROLES.items():
            # heavy-ish tails, as trained weights have
            out[f"model.layers.{i}.{role}.weight"] = (rng.standard_t(5, size=shape) * 0.05).astype(np.float32)
    return out


def finetune(m, seed: int, scale: float = 0.003):
    rng = np.random.default_rng(seed)
    return {k: (v + rng.standard_normal(v.shape).astype(np.float32) * scale) for k, v in m.items()}


def lora(m, seed: int, rank: int = 4, scale: float = 0.01):
    rng = np.random.default_rng(seed)
    out = {}
    for k, v in m.items():
        if "layers" in k:
            a = rng.standard_normal((rank, v.shape[1])) * scale
            b = rng.standard_normal((v.shape[0], rank)) * scale
            v = (v + b @ a).astype(np.float32)
        out[k] = v
    return out


def quantize(m, bits: int = 4, group: int = 16):
    qmax = 2 ** (bits - 1) - 1
    out = {}
    for k, v in m.items():
        if "layers" in k:
            g = v.reshape(-1, group)
            s = np.abs(g).max(axis=1, keepdims=True) / qmax
            v = (np.round(g / s).clip(-qmax - 1, qmax) * s).reshape(v.shape).astype(np.float32)
        out[k] = v
    return out


def prune(m, drop: set[int]):
    layers = sorted({int(k.split(".")[2]) for k in m if "layers" in k})
    keep = [i for i in layers if i not in drop]
    out = {k: v for k, v in m.items() if "layers" not in k}
    for new, old in enumerate(keep):
        for role in ROLES:
            out[f"model.layers.{new}.{role}.weight"] = m[f"model.layers.{old}.{role}.weight"]
    return out


def prof(m):
    return profile_from_matrices(m, {"architecture": "llama", "hidden_size": 48})


def test_roles_strip_the_layer_number():
    assert tensor_role("model.layers.12.mlp.up_proj.weight") == ("model.layers.*.mlp.up_proj.weight", 12)
    assert tensor_role("model.embed_tokens.weight") == ("model.embed_tokens.weight", None)


def test_self_child_and_stranger():
    a = base(0)
    child = finetune(a, 1)
    p_a, p_c, p_u = prof(a), prof(child), prof(base(99))
    same = compare_weights(p_a, p_a)
    kid = compare_weights(p_c, p_a)
    stranger = compare_weights(p_u, p_a)
    assert same.p_value < 1e-100 and same.distance == pytest.approx(0.0, abs=1e-12)
    assert kid.p_value < 1e-50 and kid.cosine > 0.99
    # the sketch distance estimates the true relative weight distance
    true = np.sqrt(sum(np.sum((child[k] - a[k]) ** 2) for k in a) / sum(np.sum(a[k] ** 2) for k in a))
    assert kid.distance == pytest.approx(true, rel=0.15)
    assert stranger.p_value > 1e-3 and abs(stranger.cosine) < 0.1


def test_unrelated_p_values_are_roughly_uniform():
    ps = [compare_weights(prof(base(2 * s)), prof(base(2 * s + 1))).p_value for s in range(30)]
    assert stats.kstest(ps, "uniform").pvalue > 0.01
    assert np.mean(np.array(ps) <= 0.05) <= 0.2


def test_grandchild_is_farther_than_its_parent():
    a = base(3)
    c = finetune(a, 4)
    g = finetune(c, 5)
    assert compare_weights(prof(g), prof(c)).distance < compare_weights(prof(g), prof(a)).distance


def test_adapter_difference_is_low_rank_and_full_finetune_is_not():
    a = base(6)
    assert difference_rank(prof(lora(a, 7, rank=4)), prof(a)) <= 4
    assert difference_rank(prof(finetune(a, 8)), prof(a)) == SKETCH_RANK


def test_quantized_copy_shows_its_bits():
    a = base(9)
    # an 8-bit grid has up to 32 distinct values in a group of 32: the grid test sees it
    q8 = profile_from_matrices(quantize(a, bits=8, group=32), {"hidden_size": 48})
    assert q8.quantized_bits == 8
    # group 16 here; the profile reads groups of 32, which hold two scales: at most 2 * 16 values
    q = profile_from_matrices(quantize(a, bits=4, group=32), {"hidden_size": 48})
    assert q.quantized_bits == 4 and prof(a).quantized_bits is None
    assert compare_weights(q, prof(a)).p_value < 1e-50


def test_pruned_model_matches_the_layers_it_kept():
    a = base(10, n_layers=8)
    pr = finetune(prune(a, {2, 5}), 11, scale=0.001)
    cmp = compare_weights(prof(pr), prof(a))
    assert cmp.layer_map == (0, 1, 3, 4, 6, 7)
    assert cmp.p_value < 1e-50
    assert compare_weights(prof(prune(base(12, 8), {2, 5})), prof(a)).p_value > 1e-3


def test_merge_fits_its_two_components_only():
    a = base(13)
    x, y = finetune(a, 14), lora(a, 15)
    m = {k: 0.5 * x[k] + 0.5 * y[k] for k in a}
    t, res = merge_fit(prof(m), prof(x), prof(y))
    assert t == pytest.approx(0.5, abs=0.02) and res < 0.05
    # a merge also lies between the base and either component; the true pair fits far better
    for wrong in ((x, a), (y, a)):
        assert merge_fit(prof(m), *map(prof, wrong))[1] > 10 * res


def test_per_channel_int8_and_int4_copies_are_quantized_too():
    """One scale per output row (int8 per-channel, int4 per-channel): every row sits on its
    own integer grid, though groups of 32 inside it do not reach the row's extremes."""
    a = base(0, n_layers=4)
    for bits in (8, 4):
        qmax = 2 ** (bits - 1) - 1
        q = {}
        for k, v in a.items():
            if "layers" in k:
                s = np.abs(v).max(axis=1, keepdims=True) / qmax
                v = (np.round(v / s).clip(-qmax - 1, qmax) * s).astype(np.float32)
            q[k] = v
        assert prof(q).quantized_bits == bits
    assert prof(a).quantized_bits is None
