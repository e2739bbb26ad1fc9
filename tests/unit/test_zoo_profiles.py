"""The zoo's recipes and corpora, without building models."""

from __future__ import annotations

import pytest

from lineage.errors import ConfigError
from lineage.zoo import corpus
from lineage.zoo.profiles import PROFILES, RELATION, SMOL_ROOT


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_recipes_are_ordered_parents_first_and_ids_unique(profile):
    seen: set[str] = set()
    for r in PROFILES[profile]:
        assert r.id not in seen
        assert all(p in seen for p in r.parents), r.id
        assert (r.op in ("scratch", "smollm2")) == (not r.parents), r.id
        if r.op == "merge":
            assert len(r.parents) == 2
        if r.declared not in ("documented", "undocumented"):
            assert r.declared in seen and r.declared not in r.parents, r.id
        seen.add(r.id)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_each_profile_hides_and_misstates_some_edges(profile):
    recipes = [r for r in PROFILES[profile] if r.parents]
    assert any(r.declared == "undocumented" for r in recipes)
    assert any(r.declared not in ("documented", "undocumented") for r in recipes)
    assert any(r.declared == "documented" for r in recipes)


def test_tiny_covers_every_operator_and_a_grandchild():
    ops = {r.op for r in PROFILES["tiny"]}
    assert set(RELATION) <= ops
    assert "smollm2" not in ops
    parents = {r.id: r.parents for r in PROFILES["tiny"]}
    assert any(parents.get(p[0]) for p in parents.values() if p)  # some model's parent has a parent


def test_smol_derives_smollm2_by_every_operator():
    recipes = PROFILES["smol"]
    roots = [r for r in recipes if not r.parents]
    assert {r.op for r in roots} == {"smollm2", "scratch"} and len(roots) >= 3
    archs = {r.kwargs.get("arch") for r in roots if r.op == "scratch"}
    assert archs == {"gpt2", "llama"}
    # independent labs differ in vocabulary, except the twin: the same recipe as another
    # root (data, architecture, sizes), trained from its own initialisation (seeded by its id)
    by_id = {r.id: r for r in roots}
    assert by_id["zoo-gpt2-text-twin"].kwargs == by_id["zoo-gpt2-text"].kwargs
    others = [r for r in roots if r.op == "scratch" and r.id != "zoo-gpt2-text-twin"]
    assert len({r.kwargs["vocab_size"] for r in others}) == len(others) >= 6
    family = {SMOL_ROOT}
    for r in recipes:
        if r.parents and r.parents[0] in family:
            family.add(r.id)
    derived = [r for r in recipes if r.id in family and r.parents]
    assert len(derived) >= 6
    # every operator except the derivations that hide, which only the tiny profile has so far
    assert {r.op for r in derived} == set(RELATION) - HIDING


HIDING = {"permute", "vocab", "upscale", "noise"}


def test_tiny_has_one_derivation_that_hides_of_each_kind():
    tiny = PROFILES["tiny"]
    hiding = [r for r in tiny if r.op in HIDING]
    assert sorted(r.op for r in hiding) == sorted(HIDING)
    roots = {r.id for r in tiny if not r.parents}
    family = {r.id: (r.id if not r.parents else None) for r in tiny}
    for r in tiny:
        if r.parents:
            family[r.id] = family[r.parents[0]]
    assert all(family[r.id] in roots for r in hiding)
    # a permuted or noised upload is made to hide its source: neither names it
    assert all(r.declared == "undocumented" for r in hiding if r.op in ("permute", "noise"))
    assert {RELATION[op] for op in HIDING} == {"permuted", "vocab", "upscaled", "finetune"}
    # the recipes before them are unchanged in number and order (their seeds derive from their ids)
    assert [r.id for r in tiny[:10]] == ["tiny-gpt2-text", "tiny-llama-system", "tiny-gpt2-text-maths",
                                        "tiny-gpt2-text-shout", "tiny-gpt2-text-polite-adapter",
                                        "tiny-gpt2-text-maths-bullets", "tiny-gpt2-text-merged",
                                        "tiny-gpt2-text-maths-int4", "tiny-llama-system-pruned",
                                        "tiny-llama-system-distilled"]


def test_corpora_are_distinct_deterministic_and_styled():
    a, b = corpus.text("text"), corpus.text("system")
    assert len(a.split()) > 5000 and len(b.split()) > 5000
    assert corpus.text("text") == a
    words_a, words_b = set(a.lower().split()), set(b.lower().split())
    assert len(words_a ^ words_b) > 0.3 * len(words_a | words_b)
    shout = corpus.text("text", "shout")
    assert shout == shout.upper() and shout != a
    qa = corpus.qa_pairs("maths", "bullets", limit=5)
    assert len(qa) == 5 and all(p.question.endswith(("?", ".")) and p.answer.startswith("* ") for p in qa)
    assert len(corpus.corpus_hash()) == 16


def test_unknown_topic_and_profile_are_refused(tmp_path):
    from lineage.zoo import build_zoo

    with pytest.raises(KeyError):
        corpus.text("poetry")
    with pytest.raises(ConfigError, match="unknown zoo profile 'huge'"):
        build_zoo("huge", out=tmp_path)
    with pytest.raises(ConfigError, match="non-negative integer"):
        build_zoo("tiny", seed=-1, out=tmp_path)
