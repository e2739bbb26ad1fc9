"""Model formats beyond a plain folder, read alike by every channel: LoRA adapters kept apart from
their base (one merge, checked against PEFT) and GGUF files (dequantised).

The adapters are made by PEFT itself (the library that writes them on the Hub) on tiny
models built on the fly; nothing is mocked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from lineage.errors import ModelLoadError
from tests.helpers.tiny import build_tiny_model

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _peft_adapter(base: Path, out: Path, *, arch_targets, seed: int = 0, relative: bool = True, **extra) -> Path:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    cfg = LoraConfig(r=4, lora_alpha=8, target_modules=list(arch_targets), lora_dropout=0.0, **extra)
    peft_model = get_peft_model(model, cfg)
    with torch.no_grad():  # a trained adapter: B is no longer zero
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.02)
    peft_model.save_pretrained(out)
    AutoTokenizer.from_pretrained(base).save_pretrained(out)
    conf = json.loads((out / "adapter_config.json").read_text())
    conf["base_model_name_or_path"] = str(Path("..") / base.name) if relative else str(base.resolve())
    (out / "adapter_config.json").write_text(json.dumps(conf))
    return out


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("adapters")
    base = build_tiny_model(root / "base", arch="llama", seed=3)
    adapter = _peft_adapter(base, root / "adapter", arch_targets=("q_proj", "v_proj", "down_proj"))
    return base, adapter


def test_the_merge_is_peft_s_merge(pair):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from lineage.loaders.adapter import is_adapter, merge_into, read_adapter

    base, adapter = pair
    assert is_adapter(adapter) and not is_adapter(base)
    info = read_adapter(adapter)
    assert info.base == base.resolve() and info.scale == 2.0
    ours = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    merge_into(ours, info)
    theirs = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32),
                                       str(adapter)).merge_and_unload()
    a, b = ours.state_dict(), theirs.state_dict()
    assert a.keys() == b.keys()
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-6
    plain = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).state_dict()
    changed = {k for k in a if not torch.equal(a[k], plain[k])}
    assert changed and all(any(t in k for t in ("q_proj", "v_proj", "down_proj")) for k in changed)


def test_every_channel_reads_the_adapter_as_its_merged_model(pair, tmp_path):
    from lineage.core.channels.logits import compare_logits
    from lineage.core.channels.weights import compare_weights, difference_rank
    from lineage.dna.record import GenerationConfig
    from lineage.evidence.logits import logits_profile
    from lineage.evidence.weights import exact_distance, weight_profile, weights_available
    from lineage.loaders.hf import HFSource

    base, adapter = pair
    src, base_src = HFSource("ad", path=adapter, device="cpu", dtype="float32"), HFSource("b", path=base, device="cpu",
                                                                                            dtype="float32")
    assert src.identity() != base_src.identity() and src.identity().startswith("adapter:")
    got = {}
    src.generate(["Hello there", "What is a file?"], [0, 1], GenerationConfig(max_new_tokens=6),
                 lambda slots, texts, _n: got.update(zip(slots, texts)))
    base_src.load()
    assert set(got) == {0, 1} and src.model is not None
    merged = dict(src.model.named_parameters())["model.layers.0.self_attn.q_proj.weight"]
    plain = dict(base_src.model.named_parameters())["model.layers.0.self_attn.q_proj.weight"]
    assert not torch.equal(merged, plain)  # the model that answered is the merged one

    assert weights_available(adapter)
    wa, wb = weight_profile(adapter, cache_dir=tmp_path), weight_profile(base, cache_dir=tmp_path)
    cmp = compare_weights(wa, wb)
    assert cmp.applicable and cmp.p_value < 1e-10 and 0 < cmp.distance < 0.2
    assert difference_rank(wa, wb) is not None and difference_rank(wa, wb) <= 8  # low rank: an adapter
    assert 0 < exact_distance(adapter, base) < 0.2

    la, lb = logits_profile(adapter, cache_dir=tmp_path), logits_profile(base, cache_dir=tmp_path)
    c = compare_logits(la, lb)
    assert c.mode == "jsd" and 0 < c.distance < 0.5
    # a changed adapter is another model in every cache
    other = _peft_adapter(base, base.parent / "adapter2", arch_targets=("q_proj",), seed=1)
    try:
        assert weight_profile(other, cache_dir=tmp_path).signature["profile_key"] != wa.signature["profile_key"]
        assert HFSource("o", path=other, device="cpu", dtype="float32").identity() != src.identity()
    finally:
        shutil.rmtree(other)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(base_model_name_or_path="../nowhere"), "the adapter's base '../nowhere' is not a model folder"),
    (lambda d: d.update(base_model_name_or_path="HuggingFaceTB/SmolLM2-135M"), "is not a model folder here"),
    (lambda d: d.update(use_dora=True), "LoRA with use_dora cannot be merged as plain LoRA"),
    (lambda d: d.update(peft_type="IA3"), "adapter type 'IA3' is not supported (only LoRA)"),
    (lambda d: d.update(r=0), "has no positive whole rank r"),
])
def test_adapters_that_cannot_be_merged_faithfully_are_refused_in_one_line(pair, tmp_path, change, message):
    from lineage.loaders.hf import HFSource

    base, adapter = pair
    bad = tmp_path / "bad"
    shutil.copytree(adapter, bad)
    shutil.copytree(base, tmp_path / base.name)
    conf = json.loads((bad / "adapter_config.json").read_text())
    change(conf)
    (bad / "adapter_config.json").write_text(json.dumps(conf))
    with pytest.raises(ModelLoadError) as err:
        HFSource("bad-adapter", path=bad, device="cpu", dtype="float32")
    assert message in str(err.value) and "'bad-adapter'" in str(err.value) and "\n" not in str(err.value)


def test_an_adapter_for_another_base_is_refused(pair, tmp_path):
    from lineage.loaders.hf import HFSource

    base, adapter = pair
    wider = build_tiny_model(tmp_path / "wider", arch="llama", seed=4, hidden=96)
    bad = tmp_path / "mismatched"
    shutil.copytree(adapter, bad)
    conf = json.loads((bad / "adapter_config.json").read_text())
    conf["base_model_name_or_path"] = str(wider)
    (bad / "adapter_config.json").write_text(json.dumps(conf))
    src = HFSource("mismatched", path=bad, device="cpu", dtype="float32")
    with pytest.raises(ModelLoadError, match="does not fit its base"):
        src.load()


def test_a_gguf_file_is_read_by_the_weights_and_next_token_channels(tmp_path):
    """The Q4_1 GGUF of SmolLM2 against the folder converted from it: one model's weights, the
    GGUF's quantisation visible, one tokenizer (so the pair is not 'foreign')."""
    from lineage.core.channels.logits import compare_logits
    from lineage.core.channels.weights import compare_weights
    from lineage.evidence.logits import logits_profile
    from lineage.evidence.weights import weight_profile, weights_available
    from tests.helpers.tiny import smollm2_folder, smollm2_gguf

    gguf, folder = smollm2_gguf(), smollm2_folder()
    assert weights_available(gguf)
    g, f = weight_profile(gguf, cache_dir=tmp_path), weight_profile(folder, cache_dir=tmp_path)
    assert g.signature["tokenizer"] == f.signature["tokenizer"] is not None
    assert g.signature["hidden_size"] == f.signature["hidden_size"] and g.n_layers == f.n_layers == 30
    cmp = compare_weights(g, f)
    assert cmp.applicable and cmp.p_value < 1e-10 and cmp.distance < 1e-3
    assert g.stats["distinct_per_group"] <= 16  # Q4_1: at most 16 values in a group of 32
    assert weight_profile(gguf, cache_dir=tmp_path).sketches.keys() == g.sketches.keys()  # from the cache
    lg = logits_profile(gguf, cache_dir=tmp_path)
    c = compare_logits(lg, logits_profile(folder, cache_dir=tmp_path))
    assert c.mode == "jsd" and c.distance < 0.01


def test_a_file_named_gguf_that_is_not_one_is_refused_by_both_channels_in_one_line(tmp_path):
    from lineage.evidence.logits import logits_profile
    from lineage.evidence.weights import weight_profile

    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"not a gguf file")
    for read in (weight_profile, logits_profile):
        with pytest.raises(ModelLoadError) as err:
            read(fake, cache_dir=tmp_path, model_id="fake")
        assert "'fake'" in str(err.value) and "not a GGUF file" in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "evidence").exists()  # nothing half-written in the cache
