"""A cache is an optimisation, never an input: forged cache entries cannot change an answer.

For each cache kind (probe answers, weight profiles, next-token profiles) an attacker who can
write cache files but not read ``cache.key`` plants another model's content under a model's
entry, packaged five ways: the other entry's file copied over (swap), the content edited in
place under the old seal (edit), the seal removed (strip), the file rewritten in the format the
previous release wrote (downgrade) and a seal recomputed without the key (unkeyed). The ingest
that reads the cache then gives exactly the inferred parents, weight matches and DNAs of an
untampered run, warns naming the file, and leaves the genuine content in the cache. Both ways
the cache is read are covered: a fresh graph (profiles built during the ingest) and a rerun over
models already in the graph (profiles read back for the analysis).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lineage.dna.extract import ExtractConfig
from lineage.dna.record import GenerationConfig
from lineage.pipeline.ingest import ingest
from tests.helpers.tiny import build_tiny_model
from tests.reliability._hostile import counts, dna_file

pytestmark = pytest.mark.neo4j

TAMPERS = ("swap", "edit", "strip", "downgrade", "unkeyed")
# a DNA from answers needs generation; kept small (10 probes, 8 tokens) so a rebuild costs seconds
EXTRACT = ExtractConfig(n_probes=10, generation=GenerationConfig(max_new_tokens=8), batch_size=5, device="cpu")


def _finetune(base: Path, out: Path, seed: int, scale: float = 0.02) -> Path:
    """``base`` with small seeded noise on every weight: a fine-tune the weights channel should match."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(base))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * scale * (p.std() if p.numel() > 1 else 1.0))
    model.save_pretrained(str(out))
    AutoTokenizer.from_pretrained(str(base)).save_pretrained(str(out))
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Two families (a base and a fine-tune each) and an outsider, with DNA files for the
    profile tests (their answers come from the weights and next-token channels)."""
    root = tmp_path_factory.mktemp("forgery")
    paths = {"a0": build_tiny_model(root / "a0", seed=10), "b0": build_tiny_model(root / "b0", seed=11),
             "c0": build_tiny_model(root / "c0", seed=12)}
    paths["a1"] = _finetune(paths["a0"], root / "a1", seed=1)
    paths["b1"] = _finetune(paths["b0"], root / "b1", seed=2)
    rows = [{"id": mid, "path": str(p), "dna": str(dna_file(root / f"{mid}.json", mid)), "family": mid[0]}
            for mid, p in sorted(paths.items())]
    profiles = root / "profiles.jsonl"
    profiles.write_text("".join(json.dumps(r) + "\n" for r in rows))
    answers = root / "answers.jsonl"  # DNAs extracted from the models' answers
    answers.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "dna"}) + "\n" for r in rows))
    return {"root": root, "profiles": profiles, "answers": answers}


def _answer(graph) -> dict:
    """What an ingest concludes: parent edges, weight matches and undocumented relations with
    every property, and each model's DNA."""
    edges = graph.query("export_edges", types=["INFERRED_PARENT", "WEIGHTS_MATCH", "UNDOCUMENTED_RELATION"])
    rows = sorted((a, b, t, json.dumps(p, sort_keys=True, default=str)) for a, b, t, p in edges[0]["edges"])
    dnas = {r["id"]: r["dna"] for r in graph.query("population")}
    return {"edges": rows, "dnas": dnas}


@pytest.fixture(scope="module")
def baseline(models, settings, _graph_session, tmp_path_factory):
    """Each manifest ingested once into an empty graph with an untampered cache: the answer every
    tampered run must reproduce, the cache keys of each model, and the warm cache the tampered
    runs start from."""
    out = {}
    for kind in ("profiles", "answers"):
        cache = tmp_path_factory.mktemp(f"cache-{kind}")
        _graph_session.query("clear_graph")
        rep = ingest(models[kind], settings=settings.model_copy(update={"cache_dir": cache}), extract_config=EXTRACT)
        assert rep.n_failed == 0, rep.failures
        keys = {r["id"]: {"weights": r.get("weights_key"), "logits": r.get("logits_key")}
                for r in _graph_session.query("population")}
        out[kind] = {"manifest": models[kind], "cache": cache, "keys": keys, "answer": _answer(_graph_session),
                     "counts": counts(_graph_session)}
    return out


def test_the_baseline_has_something_to_forge(baseline):
    """The population gives answers a forgery could change: the fine-tunes' weights match their
    bases, parents are inferred, and every cache kind holds an entry per model."""
    ans = baseline["profiles"]["answer"]
    matches = {(a, b) for a, b, t, _ in ans["edges"] if t == "WEIGHTS_MATCH"}
    assert {frozenset(m) for m in matches} >= {frozenset({"a0", "a1"}), frozenset({"b0", "b1"})}
    assert any(t == "INFERRED_PARENT" for _, _, t, _ in ans["edges"])
    cache = baseline["profiles"]["cache"]
    assert len(list((cache / "evidence" / "weights").glob("*.npz"))) == 5
    assert len(list((cache / "evidence" / "logits").glob("*.npz"))) == 5
    assert len(list((baseline["answers"]["cache"] / "responses").glob("*.json"))) == 5


# -- tampering, the way an attacker with write access to the cache folders would --------------

def _read_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    path.write_bytes(buf.getvalue())


def _unkeyed_seal(path: Path, cache: Path, meta: bytes, arrays: dict[str, np.ndarray]) -> str:
    """What an attacker without the key can compute: the seal's layout hashed with plain sha256."""
    h = hashlib.sha256()
    parts = [path.relative_to(cache).as_posix().encode(), meta]
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        parts += [name.encode(), f"{a.dtype.str}{a.shape}".encode(), a.tobytes()]
    for p in parts:
        h.update(len(p).to_bytes(8, "big"))
        h.update(p)
    return "hmac-sha256/1:" + h.hexdigest()


def _tamper_npz(victim: Path, donor: Path, how: str, cache: Path) -> None:
    """Put ``donor``'s profile under ``victim``'s entry, packaged as ``how``."""
    if how == "swap":
        shutil.copyfile(donor, victim)
        return
    mine, theirs = _read_npz(victim), _read_npz(donor)
    forged = {k: theirs[k] for k in theirs if k not in ("meta", "seal")}
    meta = mine["meta"]
    if how == "edit":
        _write_npz(victim, {"meta": meta, "seal": mine["seal"], **forged})
    elif how == "strip":
        _write_npz(victim, {"meta": meta, **forged})
    elif how == "downgrade":  # as the release before seals wrote it: meta and arrays only, an older format tag
        old = json.loads(bytes(meta).decode())
        old["format"] = old["format"].replace("/2:", "/1:").replace("/1:k", "/0:k")
        _write_npz(victim, {"meta": np.frombuffer(json.dumps(old).encode(), dtype=np.uint8), **forged})
    elif how == "unkeyed":
        seal = _unkeyed_seal(victim, cache, bytes(meta), forged)
        _write_npz(victim, {"meta": meta, "seal": np.frombuffer(seal.encode(), dtype=np.uint8), **forged})
    assert _read_npz(victim).keys() >= forged.keys()


def _forged_answers(n: int) -> list[str]:
    """Answers a capable model might give: nothing like the tiny models' noise, so a DNA made
    from them would sit far from every model of the population."""
    return [f"Answer {i}: Paris is the capital of France, and water boils at 100 degrees." for i in range(n)]


def _tamper_json(victim: Path, donor: Path, how: str) -> None:
    """Put other answers under ``victim``'s response-cache entry: ``donor``'s file copied over
    (swap), or edited answers packaged as ``how``."""
    if how == "swap":
        shutil.copyfile(donor, victim)
        return
    mine = json.loads(victim.read_text())
    mine["answers"] = _forged_answers(len(mine["answers"]))
    if how == "strip":
        mine.pop("seal")
    elif how == "downgrade":  # the case: format /1 (no checksum at all)
        mine.pop("seal")
        mine["format"] = "lineage-responses/1"
    elif how == "unkeyed":  # format /2's plain sha256 of the answers, which anyone can recompute
        mine.pop("seal")
        mine["format"] = "lineage-responses/2"
        mine["sha256"] = hashlib.sha256(json.dumps(mine["answers"], ensure_ascii=False,
                                                   separators=(",", ":")).encode()).hexdigest()
    victim.write_text(json.dumps(mine))


def _genuine(path: Path) -> dict:
    """An entry's content: its arrays and its metadata less the time the build took."""
    out = {k: v for k, v in _read_npz(path).items() if k not in ("seal", "meta")}
    meta = json.loads(bytes(_read_npz(path)["meta"]).decode())
    meta.pop("seconds", None)
    out["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    return out


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def _warm_copy(baseline, which: str, tmp_path: Path, settings):
    cache = tmp_path / "cache"
    shutil.copytree(baseline[which]["cache"], cache)  # cache.key travels with it (mode kept)
    return cache, settings.model_copy(update={"cache_dir": cache})


def _assert_unchanged(graph, base: dict) -> None:
    assert _answer(graph) == base["answer"]
    assert counts(graph) == base["counts"]


@pytest.mark.parametrize("how", TAMPERS)
@pytest.mark.parametrize("kind", ["weights", "logits"])
def test_forged_profile_changes_no_answer(kind, how, baseline, settings, graph, tmp_path, caplog):
    """a1's profile replaced by a0's (its base: the forgery that fakes a perfect match)."""
    base = baseline["profiles"]
    cache, s = _warm_copy(baseline, "profiles", tmp_path, settings)
    victim = cache / "evidence" / kind / f"{base['keys']['a1'][kind]}.npz"
    donor = cache / "evidence" / kind / f"{base['keys']['a0'][kind]}.npz"
    genuine = _genuine(victim)
    assert not _same(genuine, _genuine(donor))  # the forgery plants different content
    # 1) a fresh graph: the profiles are built during the ingest, from the tampered cache
    _tamper_npz(victim, donor, how, cache)
    with caplog.at_level("WARNING", logger="lineage"):
        rep = ingest(base["manifest"], settings=s, extract_config=EXTRACT)
    assert rep.n_failed == 0, rep.failures
    _assert_unchanged(graph, base)
    assert str(victim) in caplog.text and "not trusted" in caplog.text
    assert _same(_genuine(victim), genuine)  # rebuilt from the model, not kept
    # 2) a rerun over models already in the graph: the analysis reads the profile back by its key
    caplog.clear()
    _tamper_npz(victim, donor, how, cache)
    with caplog.at_level("WARNING", logger="lineage"):
        rep = ingest(base["manifest"], settings=s, extract_config=EXTRACT)
    assert rep.n_skipped == 5
    _assert_unchanged(graph, base)
    assert str(victim) in caplog.text
    assert _same(_genuine(victim), genuine)


@pytest.mark.parametrize("how", TAMPERS)
def test_forged_answers_change_no_dna(how, baseline, settings, graph, tmp_path, caplog):
    """a1's cached answers replaced by c0's (the outsider's) or by edited text: trusted, they would
    change a1's DNA."""
    from lineage.dna.cache import ResponseCache

    base = baseline["answers"]
    cache, s = _warm_copy(baseline, "answers", tmp_path, settings)
    # the entry of each model is the one its answers fill: found by the model id the entry records
    entries = {json.loads(p.read_text())["model_id"]: p for p in (cache / "responses").glob("*.json")}
    victim, donor = entries["a1"], entries["c0"]
    genuine = json.loads(victim.read_text())["answers"]
    # the forgery plants different answers (random tiny models mostly answer alike; c0 does not)
    assert genuine != json.loads(donor.read_text())["answers"] and genuine != _forged_answers(len(genuine))
    _tamper_json(victim, donor, how)
    with caplog.at_level("WARNING", logger="lineage"):
        rep = ingest(base["manifest"], settings=s, extract_config=EXTRACT)
    assert rep.n_failed == 0, rep.failures
    _assert_unchanged(graph, base)
    assert str(victim) in caplog.text and "not trusted" in caplog.text
    assert ResponseCache(cache).load(victim.stem, len(genuine)) == genuine  # regenerated and sealed again


def test_a_forgery_sealed_with_the_real_key_would_change_the_dna(baseline, settings, graph, tmp_path, caplog):
    """The boundary, shown: an attacker who can read ``cache.key`` (the cache owner's own account)
    seals forged answers exactly as lineage does, and they are trusted, so a1's DNA changes. This
    is what the five tampers above are refused for: were the seal check not there, they would
    change the answer too, so the suite above tests something real."""
    from lineage.dna.cache import ResponseCache

    base = baseline["answers"]
    cache, s = _warm_copy(baseline, "answers", tmp_path, settings)
    entries = {json.loads(p.read_text())["model_id"]: p for p in (cache / "responses").glob("*.json")}
    victim = entries["a1"]
    mine = json.loads(victim.read_text())
    forged = _forged_answers(len(mine["answers"]))
    meta = {k: v for k, v in mine.items() if k not in ("format", "n_done", "answers", "seal")}
    ResponseCache(cache).save(victim.stem, forged, meta)  # the real key's seal
    with caplog.at_level("WARNING", logger="lineage"):
        rep = ingest(base["manifest"], settings=s, extract_config=EXTRACT)
    assert rep.n_failed == 0, rep.failures
    assert "not trusted" not in caplog.text  # accepted as genuine
    answer = _answer(graph)
    assert answer["dnas"].keys() == base["answer"]["dnas"].keys()
    assert not np.allclose(answer["dnas"]["a1"], base["answer"]["dnas"]["a1"])  # the forgery changed a1's DNA
    for other in ("a0", "b0", "b1", "c0"):
        assert np.allclose(answer["dnas"][other], base["answer"]["dnas"][other])
    assert ResponseCache(cache).load(victim.stem, len(forged)) == forged  # and it stays, trusted
