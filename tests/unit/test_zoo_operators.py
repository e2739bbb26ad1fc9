"""The zoo's hiding operators on small seeded models (no zoo build): permute, vocab, upscale, noise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from lineage.zoo import operators
from tests.helpers.tiny import build_tiny_model, train_tokenizer

TEXT = "The quick brown fox jumps over the lazy dog. What is the capital of France?"


def _gqa_llama(path: Path, seed: int = 3) -> Path:
    """A llama with grouped-query attention (4 query heads over 2 key/value heads), untied head."""
    from transformers import LlamaConfig, LlamaForCausalLM

    path.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer(path, vocab_size=300)
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=48, intermediate_size=80, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                      tie_word_embeddings=False, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():  # norms away from 1, so a wrong permutation of their weights shows
        for n, p in model.named_parameters():
            if "norm" in n:
                p.uniform_(0.5, 1.5)
    model.save_pretrained(str(path))
    return path


@torch.no_grad()
def _logits(path: Path, text: str = TEXT) -> torch.Tensor:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    return model(**tok(text, return_tensors="pt")).logits[0]


def _state(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


@pytest.mark.parametrize("arch", ["gpt2", "llama", "gqa"])
def test_permuted_model_computes_the_same_logits_with_other_weights(tmp_path, arch):
    parent = _gqa_llama(tmp_path / "p") if arch == "gqa" else build_tiny_model(tmp_path / "p", arch=arch, seed=5)
    if arch == "gpt2":  # layer-norm weights and biases away from their defaults, so their permutation matters
        from transformers import AutoModelForCausalLM

        m = AutoModelForCausalLM.from_pretrained(parent)
        with torch.no_grad():
            for n, p in m.named_parameters():
                if ".ln_" in n or n.startswith("transformer.ln_f"):
                    p.uniform_(0.5, 1.5)
        m.save_pretrained(parent)
    child = tmp_path / "c"
    operators.permute(parent, child, seed=11)
    texts = [TEXT, "Numbers: one two three", "Explain why the sky is blue"]
    for t in texts:
        assert torch.allclose(_logits(parent, t), _logits(child, t), atol=1e-4), t
    ps, cs = _state(parent), _state(child)
    moved = [k for k in ps if ps[k].ndim == 2 and not torch.equal(ps[k], cs[k])]
    assert len(moved) == len([k for k in ps if ps[k].ndim == 2])  # every matrix changed
    # a permutation: the multiset of each matrix's values is kept
    for k in moved:
        assert torch.equal(torch.sort(ps[k].reshape(-1)).values, torch.sort(cs[k].reshape(-1)).values), k


def test_permutation_without_the_residual_keeps_embeddings(tmp_path):
    parent = build_tiny_model(tmp_path / "p", arch="llama", seed=5)
    operators.permute(parent, tmp_path / "c", seed=1, residual=False)
    ps, cs = _state(parent), _state(tmp_path / "c")
    assert torch.equal(ps["model.embed_tokens.weight"], cs["model.embed_tokens.weight"])
    assert not torch.equal(ps["model.layers.0.mlp.up_proj.weight"], cs["model.layers.0.mlp.up_proj.weight"])
    assert torch.allclose(_logits(parent), _logits(tmp_path / "c"), atol=1e-4)


def test_vocab_extension_adds_tokens_and_rows_and_keeps_the_old_ones(tmp_path, monkeypatch):
    from transformers import AutoTokenizer

    monkeypatch.setattr(operators.corpus, "text", lambda topic, style="plain": " ".join([TEXT] * 20))
    parent = build_tiny_model(tmp_path / "p", arch="gpt2", seed=5)
    child = tmp_path / "c"
    facts = operators.vocab_extend(parent, child, seed=2, topic="text", n_new=6)
    tp, tc = AutoTokenizer.from_pretrained(parent), AutoTokenizer.from_pretrained(child)
    assert facts["n_new_tokens"] == 6 and len(tc) == len(tp) + 6
    vp = json.loads((parent / "tokenizer.json").read_text())["model"]["vocab"]
    vc = json.loads((child / "tokenizer.json").read_text())["model"]["vocab"]
    assert all(vc[s] == i for s, i in vp.items())  # old tokens keep their ids
    ps, cs = _state(parent), _state(child)
    assert cs["transformer.wte.weight"].shape[0] == ps["transformer.wte.weight"].shape[0] + 6
    assert torch.equal(cs["transformer.wte.weight"][: len(tp)], ps["transformer.wte.weight"])  # no training
    # the new merges are used: the extended tokenizer needs fewer tokens for the text
    assert len(tc(TEXT)["input_ids"]) < len(tp(TEXT)["input_ids"])


def test_upscale_stacks_two_overlapping_copies_of_the_layers(tmp_path):
    from transformers import AutoConfig

    parent = build_tiny_model(tmp_path / "p", arch="llama", seed=5, layers=3)
    facts = operators.upscale(parent, tmp_path / "c", seed=2, overlap=1)
    assert facts["layers"] == [0, 1, 1, 2]
    assert AutoConfig.from_pretrained(tmp_path / "c").num_hidden_layers == 4
    ps, cs = _state(parent), _state(tmp_path / "c")
    for new, old in enumerate(facts["layers"]):
        assert torch.equal(cs[f"model.layers.{new}.mlp.up_proj.weight"], ps[f"model.layers.{old}.mlp.up_proj.weight"])
    assert torch.isfinite(_logits(tmp_path / "c")).all()


def test_noise_moves_every_matrix_by_about_its_scale(tmp_path):
    parent = build_tiny_model(tmp_path / "p", arch="gpt2", seed=5)
    operators.noise(parent, tmp_path / "c", seed=2, scale=0.01)
    ps, cs = _state(parent), _state(tmp_path / "c")
    for k, v in ps.items():
        if v.ndim == 2:
            rel = float((cs[k] - v).std() / v.std())
            assert 0.007 < rel < 0.013, (k, rel)
    assert not torch.allclose(_logits(parent), _logits(tmp_path / "c"), atol=1e-6)


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_weights_channel_relates_a_permuted_copy_read_from_its_folder(tmp_path, arch):
    """End to end on real folders: the adapter finds the probe tokens in tokenizer.json, the
    cached profile keeps the unit signatures, and only the matched test relates the copy."""
    from lineage.core.channels.weights import compare_weights
    from lineage.evidence.weights import weight_profile

    parent = build_tiny_model(tmp_path / "p", arch=arch, seed=5, layers=3)
    operators.permute(parent, tmp_path / "c", seed=11)
    a = weight_profile(parent, cache_dir=tmp_path / "cache")
    again = weight_profile(parent, cache_dir=tmp_path / "cache")  # from the cache
    assert a.units and sorted(again.units) == sorted(a.units) == [0, 1, 2]
    assert again.unit_parts == a.unit_parts == (("up", "gate", "down") if arch == "llama" else ("up", "down"))
    assert all((again.units[i] == a.units[i]).all() and again.units[i].dtype == a.units[i].dtype for i in a.units)
    c = compare_weights(weight_profile(tmp_path / "c", cache_dir=tmp_path / "cache"), again)
    assert c.p_direct > 0.01 and c.p_matched < 1e-10 and c.permuted(0.01)
    stranger = build_tiny_model(tmp_path / "s", arch=arch, seed=6, layers=3)
    assert compare_weights(weight_profile(stranger, cache_dir=tmp_path / "cache"), a).p_value > 0.01
