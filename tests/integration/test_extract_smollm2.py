"""The real SmolLM2-135M-Instruct end to end (a few probes, short answers: CI-sized)."""

import numpy as np
import pytest

from lineage.dna.record import GenerationConfig
from lineage.dna.extract import ExtractConfig, Extractor
from tests.helpers.tiny import smollm2_folder, smollm2_gguf

pytestmark = pytest.mark.slow

CFG = ExtractConfig(n_probes=8, generation=GenerationConfig(max_new_tokens=24), device="cpu")


@pytest.fixture(scope="module")
def smol():
    try:
        return smollm2_folder()
    except FileNotFoundError as e:
        pytest.skip(str(e))


def test_smollm2_folder_end_to_end(smol, tmp_path):
    ex = Extractor(CFG, tmp_path)
    answers, rep = ex.answers(smol)
    assert rep.n_generated == 8 and rep.n_tokens > 8 * 5
    assert all(a.strip() for a in answers), answers  # an instruct model answers every probe
    assert sum(w in " ".join(answers).lower().split() for w in ("the", "a", "is", "of")) >= 3
    assert not any("<|im_end|>" in a or "<|im_start|>" in a for a in answers)  # special tokens stripped
    d = ex.extract(smol)
    assert ex.reports[-1].n_generated == 0 and not d.degenerate and d.n_empty == 0
    assert np.isfinite(d.vector).all() and 0.1 < np.linalg.norm(d.vector) < 100


def test_gguf_loader_matches_converted_folder(smol, tmp_path):
    gguf = smollm2_gguf()
    ex = Extractor(CFG.model_copy(update={"n_probes": 3}), tmp_path)
    from_gguf, _ = ex.answers(gguf)
    from_folder, _ = ex.answers(smol)
    assert from_gguf == from_folder  # same weights (dequantized), same tokenizer and template
