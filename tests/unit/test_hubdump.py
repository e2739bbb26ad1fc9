"""The synthetic Hub dump: deterministic, at its stated proportions, dates consistent, no cycles,
and read back whole by the dump reader (JSONL and Parquet alike)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from lineage.loaders.hub_dump import read_hub_dump
from lineage.zoo import hubdump


@pytest.fixture(scope="module")
def dump():
    return hubdump.generate(20_000, seed=7)


def test_same_seed_same_dump_other_seed_other_dump():
    a, _ = hubdump.generate(500, seed=1)
    b, _ = hubdump.generate(500, seed=1)
    c, _ = hubdump.generate(500, seed=2)
    assert json.dumps(a) == json.dumps(b)
    assert json.dumps(a) != json.dumps(c)


def test_proportions_follow_the_constants(dump):
    records, stats = dump
    documented = sum(1 for r in records if any(t.startswith("base_model:") for t in r["tags"]))
    assert documented == stats.n_derived
    assert abs(1 - documented / len(records) - hubdump.UNDOCUMENTED_SHARE) < 0.01
    assert abs(stats.n_derived / stats.n_bases - hubdump.HUB_DERIVED / hubdump.HUB_BASES) < 5
    assert stats.quantized_leaf_share >= hubdump.QUANTIZED_LEAF_SHARE
    assert stats.depths[1] + stats.depths[2] > 0.8 * stats.n_derived and max(stats.depths) >= 5
    assert stats.max_children_per_base > 10 * stats.median_children_per_base  # heavy tail
    for rel, share in hubdump.RELATION_SHARES.items():
        assert abs(stats.relations[rel] / stats.n_derived - share) < 0.02, rel


def test_children_come_after_their_parents_and_merges_have_two(dump):
    records, _ = dump
    created = {r["id"]: datetime.fromisoformat(r["createdAt"].replace("Z", "+00:00")) for r in records}
    for r in records:
        parents = [t[len("base_model:"):] for t in r["tags"] if t.startswith("base_model:") and t.count(":") == 1]
        assert all(created[p] < created[r["id"]] for p in parents), r["id"]
        assert r["lastModified"] >= r["createdAt"]
        if r["id"].endswith("-merge"):
            assert len(parents) >= 2, r["id"]


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_the_reader_reads_what_the_generator_writes(tmp_path, suffix):
    records, stats = hubdump.generate(2_000, seed=3)
    path = hubdump.write_dump(records, tmp_path / f"hub.{suffix}")
    read = read_hub_dump(path)  # also checks ids unique and no declared cycle
    assert [r.id for r in read.records] == [r["id"] for r in records]
    assert sum(len(r.base_models) for r in read.records) == stats.n_edges
    assert read.n_unknown == 0
