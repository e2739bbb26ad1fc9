"""Probe sets: determinism, hashing, files, the paper mix from local files."""

import hashlib
import json

import numpy as np
import pytest

from lineage.errors import InputError
from lineage.dna.probes import PAPER_SOURCES, load_probe_file, paper_probes, probe_hash, rand_probes, resolve_probes


def test_rand_is_deterministic_distinct_and_seeded():
    a, b = rand_probes(200, seed=0), rand_probes(200, seed=0)
    assert a.texts == b.texts and a.hash == b.hash
    assert len(set(a.texts)) == 200
    assert rand_probes(200, seed=1).texts != a.texts
    assert rand_probes(50, seed=0).texts == a.texts[:50]  # a shorter set is a prefix
    assert all(t[0].isupper() and t[-1] in ".?n" or t.endswith("then") for t in a.texts)


def test_hash_is_the_reference_formula_and_order_sensitive():
    texts = ["Où est la gare ?", "b"]
    expected = hashlib.sha256(json.dumps(texts, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()
    assert probe_hash(texts) == expected
    assert probe_hash(texts[::-1]) != expected


def test_txt_and_jsonl_files(tmp_path):
    t = tmp_path / "p.txt"
    t.write_text("first\n\nsecond\n", encoding="utf-8")
    assert load_probe_file(t).texts == ("first", "second")
    j = tmp_path / "p.jsonl"
    j.write_text('"a"\n{"prompt": "b"}\n{"question": "c"}\n', encoding="utf-8")
    assert resolve_probes(j, n_probes=2).texts == ("a", "b")


def test_bad_jsonl_line_is_named(tmp_path):
    j = tmp_path / "bad.jsonl"
    j.write_text('"a"\n{"nope": 1}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl:2"):
        load_probe_file(j)
    with pytest.raises(InputError, match="does not exist"):
        resolve_probes(tmp_path / "missing.txt")


def test_paper_mix_from_local_files_is_concatenated_then_shuffled(tmp_path):
    for *_, col, stem in PAPER_SOURCES:
        rows = [json.dumps({col: f"{stem} {i}"}) for i in range(5)]
        (tmp_path / f"{stem}.jsonl").write_text("\n".join(rows), encoding="utf-8")
    got = paper_probes(tmp_path, per_dataset=3)
    concat = [f"{stem} {i}" for *_, stem in PAPER_SOURCES for i in range(3)]
    np.random.seed(42)
    np.random.shuffle(concat)
    assert list(got.texts) == concat and len(got) == 18


def test_paper_mix_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="squad"):
        paper_probes(tmp_path)
