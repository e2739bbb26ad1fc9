"""One input must not poison the graph: extreme DNA values, ids too long for Neo4j's index,
YAML alias bombs, deep nesting, huge, non-UTF-8 or directory inputs. Each fails that item
(recorded as failed, exit 2) or the whole input (one line, exit 1, nothing written)."""

from __future__ import annotations

import time

import pytest

from tests.helpers.cli import assert_one_line_error, run_cli
from tests.reliability._hostile import counts, dna_file, jsonl, population

pytestmark = pytest.mark.neo4j

EXTREME = {"huge": 1e30, "just_over": 2e6, "negative_huge": -3.4e38}


@pytest.mark.parametrize("case", sorted(EXTREME))
def test_extreme_dna_values_fail_that_model_and_the_graph_stays_usable(case, tmp_path, graph):
    rows = population(tmp_path)
    vec = [0.1] * 128
    vec[7] = EXTREME[case]
    dna_file(tmp_path / "bad.json", "bad", vector=vec)
    rows.append({"id": "bad", "dna": "bad.json"})
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    info = graph.query("model_info", model_id="bad")[0]
    assert info["status"] == "failed" and not info["has_dna"] and "magnitude" in info["error"], info
    # the next ingest still works: no inf distance was stored
    more = population(tmp_path, n=2, prefix="later")
    proc = run_cli("ingest", str(jsonl(tmp_path / "m2.jsonl", more)))
    assert proc.returncode == 0, proc.stderr
    assert sum(r["status"] == "ok" for r in graph.query("models")) == 6


def test_non_finite_text_in_a_dna_file_is_refused(tmp_path, graph):
    rows = population(tmp_path, n=3)
    path = tmp_path / "nan.json"
    text = dna_file(path, "nan").read_text()
    start = text.index('"vector": [') + len('"vector": [')
    path.write_text(text[:start] + "Infinity," + text[text.index(",", start) + 1:])  # Python's json reads it
    rows.append({"id": "nan", "dna": "nan.json"})
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "infinite" in graph.query("model_info", model_id="nan")[0]["error"]


def test_id_too_long_for_the_index_is_refused_naming_the_entry(tmp_path, graph):
    rows = population(tmp_path)
    dna_file(tmp_path / "long.json", "long")
    rows.append({"id": "x" * 10_000, "dna": "long.json"})
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)))
    line = assert_one_line_error(proc, "entry 5", "at most 512 characters")
    assert len(line) < 300
    assert graph.query("graph_counts") == []


def test_parent_id_too_long_is_refused(tmp_path, graph):
    rows = population(tmp_path)
    rows[0]["base_model"] = "p" * 600
    assert_one_line_error(run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows))), "entry 1", "base_model")
    assert graph.query("graph_counts") == []


BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
models:
  - id: a
    dna: x.json
    family: *i
"""

HOSTILE_MANIFESTS = {
    "alias_bomb.yaml": (BOMB, "aliases"),
    "deep.yaml": ("models:\n  - id: a\n    dna: x.json\n    family: " + "[" * 5000 + "]" * 5000 + "\n",
                  "nested deeper than 32"),
    "deep.json": ('{"models": [{"id": "a", "dna": "x.json", "family": ' + "[" * 100_000 + "]" * 100_000 + "}]}",
                  "nested deeper than 32"),
    "deep_line.jsonl": ('{"id": "a", "dna": "x.json", "family": ' + "[" * 100_000 + "]" * 100_000 + "}\n",
                        "nested deeper than 32"),
    "latin1.yaml": ("models:\n  - id: caf\xe9\n    dna: x.json\n".encode("latin-1"), "not UTF-8"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_MANIFESTS))
def test_hostile_manifest_is_one_line_fast_and_writes_nothing(name, tmp_path, graph):
    content, needle = HOSTILE_MANIFESTS[name]
    path = tmp_path / name
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    t0 = time.monotonic()
    line = assert_one_line_error(run_cli("ingest", str(path), timeout=60), needle)
    assert time.monotonic() - t0 < 30
    assert name in line
    assert graph.query("graph_counts") == []


def test_oversized_manifest_is_refused(tmp_path, graph):
    path = tmp_path / "huge.yaml"
    with open(path, "w") as f:
        f.write("# " + "x" * (65 * 2**20) + "\n")
    assert_one_line_error(run_cli("ingest", str(path)), "larger than")
    assert graph.query("graph_counts") == []


def test_directory_given_as_manifest_or_dna_file(tmp_path, graph):
    assert_one_line_error(run_cli("ingest", str(tmp_path)), "is a directory")
    rows = population(tmp_path)
    (tmp_path / "dir.json").mkdir()
    rows.append({"id": "dir", "dna": "dir.json"})
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "is a directory" in graph.query("model_info", model_id="dir")[0]["error"]
    assert sum(r["status"] == "ok" for r in graph.query("models")) == 4


def test_non_utf8_dna_file_fails_that_model(tmp_path, graph):
    rows = population(tmp_path)
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00garbage")
    rows.append({"id": "bin", "dna": "bin.json"})
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "not UTF-8" in graph.query("model_info", model_id="bin")[0]["error"]


def _model_folder(path, card: str | bytes):
    """A model folder holding only a card: ingest reads its metadata, the DNA comes from a file."""
    path.mkdir()
    (path / "README.md").write_bytes(card if isinstance(card, bytes) else card.encode())
    return path


CARDS = {
    "alias_bomb": "---\n" + BOMB.split("models:")[0] + "license: *i\n---\n",
    "deep": "---\nfamily: " + "[" * 5000 + "]" * 5000 + "\n---\n",
    "bad_date": "---\nrelease_date: 2024-13-45\nlicense: mit\n---\n",
    "not_utf8": b"---\nlicense: caf\xe9\n---\n",
    "self_parent": "---\nbase_model: [carded, carded]\n---\n",
    "relation_list": "---\nbase_model_relation: [finetune]\n---\n",
}


@pytest.mark.parametrize("case", sorted(CARDS))
def test_hostile_model_card_is_ignored_with_a_warning(case, tmp_path, graph):
    rows = population(tmp_path)
    _model_folder(tmp_path / "carded", CARDS[case])
    dna_file(tmp_path / "carded.json", "carded")
    rows.append({"id": "carded", "path": "carded", "dna": "carded.json"})
    t0 = time.monotonic()
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)), timeout=120)
    assert time.monotonic() - t0 < 60
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "warning:" in proc.stderr or case == "relation_list", proc.stderr
    info = graph.query("model_info", model_id="carded")[0]
    assert info["status"] == "ok"
    assert counts(graph).get(("relationship", "DECLARED_PARENT"), 0) == 0
