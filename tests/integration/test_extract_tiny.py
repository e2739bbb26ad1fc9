"""End to end on tiny real models built on the fly (seconds), with the real MiniLM encoder."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from lineage.dna.record import GenerationConfig, check_comparable
from lineage.dna.files import save_dna
from lineage.errors import DegenerateModelError, ModelLoadError, ProvenanceMismatch, UnsafeModelError
from lineage.dna.batch import extract_dna
from lineage.dna.extract import ExtractConfig, Extractor
from lineage.loaders.hf import HFSource
from lineage.manifest import ManifestEntry
from tests.helpers.tiny import build_tiny_model

GEN = GenerationConfig(max_new_tokens=12)
CFG = ExtractConfig(n_probes=10, generation=GEN, batch_size=4, device="cpu")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return {
        "gpt2": build_tiny_model(root / "gpt2", arch="gpt2", seed=1),
        "llama": build_tiny_model(root / "llama", arch="llama", seed=2, chat=True),
        "mute": build_tiny_model(root / "mute", arch="gpt2", seed=3, eos_bias=50.0),
    }


@pytest.fixture(scope="module")
def extractor(tmp_path_factory):
    return Extractor(CFG, tmp_path_factory.mktemp("cache"))


def test_same_inputs_give_bit_identical_dna(models, tmp_path):
    a = Extractor(CFG, tmp_path / "c1").extract(models["gpt2"])
    b = Extractor(CFG, tmp_path / "c2").extract(models["gpt2"])  # fresh cache: generated again
    assert a.vector.dtype == np.float32 and a.vector.shape == (128,)
    assert np.array_equal(a.vector, b.vector)
    assert a.provenance == b.provenance and a.provenance.n_probes == 10


def test_adding_a_model_never_changes_another(models, tmp_path):
    alone = extract_dna([models["gpt2"]], config=CFG, cache_dir=tmp_path / "c1")
    together = extract_dna([models["llama"], models["gpt2"]], config=CFG, cache_dir=tmp_path / "c2",
                           out=tmp_path / "out")
    assert np.array_equal(alone[0].dna.vector, together[1].dna.vector)
    assert not np.allclose(together[0].dna.vector, together[1].dna.vector)
    assert sorted((tmp_path / "out").glob("*.dna.json")) == sorted(r.path for r in together)
    assert alone[0].path is None


def test_extract_dna_reports_each_model_and_its_progress(models, tmp_path):
    events = []
    first = extract_dna([models["gpt2"], models["llama"]], config=CFG, cache_dir=tmp_path / "c",
                        progress=lambda event, info: events.append((event, info.get("model", info.get("n_models")))))
    assert events[0] == ("batch_start", 2)  # the count comes first, after every source was checked
    assert [r.report.model_id for r in first] == [r.dna.model_id for r in first] == ["gpt2", "llama"]
    assert all(r.report.n_generated == 10 and r.report.n_cached == 0 and r.report.n_tokens > 0 for r in first)
    starts = [m for e, m in events if e == "model_start"]
    done = [m for e, m in events if e == "model_done"]
    assert starts == done == ["gpt2", "llama"]
    batches = [m for e, m in events if e == "extract_progress"]
    assert batches.count("gpt2") == 3 and batches.count("llama") == 3  # 10 probes in batches of 4
    assert events.index(("model_done", "gpt2")) < events.index(("model_start", "llama"))
    again = extract_dna([models["llama"]], config=CFG, cache_dir=tmp_path / "c")
    assert again[0].report.n_cached == 10 and again[0].report.n_generated == 0
    assert np.array_equal(again[0].dna.vector, first[1].dna.vector)


def test_extract_dna_checks_every_source_before_running_any(models, tmp_path):
    events = []
    with pytest.raises(ModelLoadError, match="missing"):
        extract_dna([models["gpt2"], tmp_path / "missing"], config=CFG, cache_dir=tmp_path / "c",
                    out=tmp_path / "out", progress=lambda event, info: events.append(event))
    assert events == [] and not (tmp_path / "out").exists()


def test_cache_hit_loads_no_model_and_generates_nothing(models, extractor):
    first = extractor.extract(models["llama"])
    loads = HFSource.n_loads
    again = extractor.extract(models["llama"])
    rep = extractor.reports[-1]
    assert HFSource.n_loads == loads, "a cache hit must not load the model"
    assert rep.n_generated == 0 and rep.n_cached == 10
    assert np.array_equal(first.vector, again.vector)


def test_killed_run_resumes_from_saved_batches(models, tmp_path):
    full = Extractor(CFG, tmp_path / "ref").extract(models["gpt2"])

    class Killed(Exception):
        pass

    def die_after_first_batch(model_id, done, total, n_tokens):
        if done >= 4:
            raise Killed

    with pytest.raises(Killed):
        Extractor(CFG, tmp_path / "c", progress=die_after_first_batch).extract(models["gpt2"])
    files = list((tmp_path / "c" / "responses").glob("*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["n_done"] == 4
    ex = Extractor(CFG, tmp_path / "c")
    resumed = ex.extract(models["gpt2"])
    assert ex.reports[-1].n_cached == 4 and ex.reports[-1].n_generated == 6
    assert np.array_equal(resumed.vector, full.vector)


def test_reencoding_needs_no_generation(models, extractor):
    extractor.extract(models["gpt2"])
    other = Extractor(CFG.model_copy(update={"normalize_rows": False}), extractor.cache.root)
    d = other.extract(models["gpt2"])
    assert other.reports[-1].n_generated == 0
    assert d.provenance.encoder.endswith("rows=raw")


def test_empty_answers_keep_their_slot(extractor):
    answers = [f"answer number {i} about the sea" for i in range(10)]
    a, b = list(answers), list(answers)
    a[2] = ""
    b[5] = "   "
    da, db = extractor.dna_from_answers("a", a), extractor.dna_from_answers("b", b)
    assert da.n_empty == db.n_empty == 1 and not da.degenerate
    assert not np.allclose(da.vector, db.vector)
    # reproduce slot handling by hand: zero row in slot 2, then the pure core
    from lineage.core.measure.dna_math import dna_from_embeddings

    emb = extractor.encoder.encode([t for t in a])
    assert np.all(emb[2] == 0)
    assert np.array_equal(dna_from_embeddings(emb, mode="projection"), da.vector)
    mostly = [""] * 6 + answers[:4]
    assert extractor.dna_from_answers("m", mostly).degenerate


def test_all_empty_model_is_refused(models, extractor):
    with pytest.raises(DegenerateModelError, match="mute"):
        extractor.extract(models["mute"])


def test_provenance_mismatch_is_refused(models, extractor, tmp_path):
    d10 = extractor.extract(models["gpt2"])
    d8 = Extractor(CFG.model_copy(update={"n_probes": 8}), extractor.cache.root).extract(models["gpt2"])
    with pytest.raises(ProvenanceMismatch, match="n_probes"):
        check_comparable([d10, d8])
    f = save_dna(d8, tmp_path / "d8.dna.json")
    with pytest.raises(ProvenanceMismatch):
        extractor.extract(ManifestEntry(id="pre", dna=f))
    same = extractor.extract(ManifestEntry(id="pre10", dna=save_dna(d10, tmp_path / "d10.dna.json")))
    assert np.array_equal(same.vector, d10.vector) and same.model_id == "pre10"


def test_bad_model_folders_are_one_line_errors(models, tmp_path):
    ex = Extractor(CFG, tmp_path / "c")
    with pytest.raises(ModelLoadError, match="does not exist"):
        ex.check(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError, match="no config.json"):
        ex.check(empty)
    nw = tmp_path / "noweights"
    shutil.copytree(models["gpt2"], nw)
    (nw / "model.safetensors").unlink()
    with pytest.raises(ModelLoadError, match="no weights"):
        ex.check(nw)
    notok = tmp_path / "notok"
    shutil.copytree(models["gpt2"], notok)
    (notok / "tokenizer.json").unlink()
    with pytest.raises(ModelLoadError, match="no tokenizer"):
        ex.check(notok)
    trunc = tmp_path / "trunc"
    shutil.copytree(models["gpt2"], trunc)
    w = trunc / "model.safetensors"
    w.write_bytes(w.read_bytes()[:-1000])
    with pytest.raises(ModelLoadError, match="truncated"):
        ex.check(trunc)
    bad = tmp_path / "badheader"
    shutil.copytree(models["gpt2"], bad)
    (bad / "model.safetensors").write_bytes(b"\xff" * 64)
    with pytest.raises(ModelLoadError, match="not a valid safetensors"):
        ex.check(bad)
    gg = tmp_path / "fake.gguf"
    gg.write_bytes(b"NOPE" + b"\0" * 100)
    with pytest.raises(ModelLoadError, match="not a GGUF"):
        ex.check(gg)


def test_pickle_only_checkpoint_needs_explicit_permission(models, tmp_path):
    import torch
    from safetensors.torch import load_file

    pk = tmp_path / "pickled"
    shutil.copytree(models["gpt2"], pk)
    torch.save(load_file(pk / "model.safetensors"), pk / "pytorch_model.bin")
    (pk / "model.safetensors").unlink()
    ex = Extractor(CFG, tmp_path / "c")
    with pytest.raises(UnsafeModelError, match="pickle"):
        ex.extract(pk)
    ex.check(ManifestEntry(id="trusted", path=pk, allow_pickle=True))  # allowed when asked for
