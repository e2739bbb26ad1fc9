"""The GPU engine's logic (length-sorted batches, left padding, static KV cache), run on CPU.

Nothing is mocked: the same ``HFSource.generate`` code the CUDA path runs, on a real
(tiny, random) model in float32 on CPU, where results are deterministic. Sorting, batch
size and the KV cache kind are speed knobs: answers must come back per probe slot,
identical whatever the knobs. The ``gpu`` test repeats the logic on CUDA where there is one.
"""

from __future__ import annotations

import pytest

from lineage.dna.probes import resolve_probes
from lineage.dna.record import GenerationConfig
from lineage.loaders.hf import HFSource
from tests.helpers.tiny import build_tiny_model

pytestmark = pytest.mark.slow

N_PROBES, MAX_NEW = 24, 12


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "llama", arch="llama", seed=3, chat=True)


def _answers(path, device="cpu", dtype="float32", **knobs):
    probes = resolve_probes("rand", N_PROBES, 0).texts
    src = HFSource("tiny", path=path, device=device, dtype=dtype, **knobs)
    slots: list[str | None] = [None] * len(probes)
    seen: list[int] = []

    def on_batch(idx, texts, counts):
        assert len(idx) == len(texts) == len(counts)
        seen.extend(idx)
        for i, t in zip(idx, texts):
            slots[i] = t

    # indices are probe slots, deliberately not 0..n-1, as when part of a run is cached
    slots_of = [100 + 2 * i for i in range(len(probes))]
    stats = src.generate(probes, slots_of, GenerationConfig(max_new_tokens=MAX_NEW), lambda i, t, c: on_batch(
        [(j - 100) // 2 for j in i], t, c))
    src.close()
    assert sorted(seen) == list(range(len(probes)))  # every slot exactly once
    assert all(s is not None for s in slots)
    return slots, stats, seen


def test_length_sorted_batches_give_the_same_answers_as_unsorted(model):
    sorted_, stats, order = _answers(model, batch_size=5, sort_by_length=True)
    unsorted, _, order_u = _answers(model, batch_size=5, sort_by_length=False)
    one_by_one, _, _ = _answers(model, batch_size=1)
    assert sorted_ == unsorted == one_by_one
    assert order_u == list(range(N_PROBES)) and order != order_u  # sorting really changed the batches
    assert stats.batch_size == 5 and stats.n_tokens > 0


def test_sorting_reduces_padding(model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    probes = resolve_probes("rand", N_PROBES, 0).texts
    lens = [len(tok(tok.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                            add_generation_prompt=True), add_special_tokens=False)["input_ids"])
            for p in probes]

    def padding(order, bs=5):
        chunks = [order[i:i + bs] for i in range(0, len(order), bs)]
        return sum(max(lens[j] for j in c) * len(c) - sum(lens[j] for j in c) for c in chunks)

    assert padding(sorted(range(N_PROBES), key=lens.__getitem__)) < padding(list(range(N_PROBES)))


def test_static_kv_cache_gives_the_same_answers(model):
    dynamic, _, _ = _answers(model, batch_size=5)
    static, _, _ = _answers(model, batch_size=5, kv_cache="static")
    assert static == dynamic


def test_generate_kwargs_force_full_length_answers(model):
    """What bench_gpu.py relies on: min_new_tokens makes every answer max_new_tokens long."""
    _, stats, _ = _answers(model, batch_size=8, generate_kwargs={"min_new_tokens": MAX_NEW})
    assert stats.n_tokens == N_PROBES * MAX_NEW


@pytest.mark.gpu
def test_cuda_bf16_path_answers_every_slot(model):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    answers, stats, _ = _answers(model, device="cuda", dtype="bfloat16", batch_size="auto")
    assert stats.batch_size >= 1 and stats.n_tokens > 0 and len(answers) == N_PROBES
