"""One bad input fails alone, in one line: a LoRA adapter whose config holds the wrong types fails
that model (the good one beside it lands, exit 2); a field too long for Neo4j's index, or a
release date written as a number, is refused with the manifest before anything is written (no
run is left `running`); a ground truth listing a model twice or an edge to a model it does not
list is refused naming the file."""

from __future__ import annotations

import json

import pytest

from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.tiny import build_tiny_model
from tests.reliability._hostile import counts, dna_file, jsonl, population

BAD_ADAPTER_CONFIGS = {
    "rank_text": ({"r": "abc"}, "positive whole rank r"),
    "rank_infinite": ({"r": float("inf")}, "positive whole rank r"),
    "rank_list": ({"r": [8]}, "positive whole rank r"),
    "rank_bool": ({"r": True}, "positive whole rank r"),
    "alpha_text": ({"r": 4, "lora_alpha": "big"}, "lora_alpha 'big'"),
    "alpha_nan": ({"r": 4, "lora_alpha": float("nan")}, "not a finite positive number"),
}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("base") / "base", arch="gpt2", seed=7)


@pytest.mark.neo4j
@pytest.mark.parametrize("case", sorted(BAD_ADAPTER_CONFIGS))
def test_an_adapter_config_of_the_wrong_types_fails_that_model_alone(case, base, tmp_path, graph):
    cfg, needle = BAD_ADAPTER_CONFIGS[case]
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    # Python's json writes Infinity and NaN, as some tools do; the reader must not trust them either
    (adapter / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "base_model_name_or_path": str(base),
                                                             "target_modules": ["c_attn"], **cfg}))
    (adapter / "adapter_model.safetensors").write_bytes(b"")
    rows = [{"id": "good", "path": str(base)}, {"id": "bad-adapter", "path": str(adapter)}]
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)), "--n-probes", "4", "--max-new-tokens", "4",
                   env={"LINEAGE_CACHE_DIR": str(tmp_path / "cache")})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    bad = graph.query("model_info", model_id="bad-adapter")[0]
    assert bad["status"] == "failed" and needle in bad["error"] and "adapter_config.json" in bad["error"], bad
    assert graph.query("model_info", model_id="good")[0]["status"] == "ok"
    assert counts(graph)[("node", "Model")] == 2 and counts(graph)[("node", "Run")] == 1


FIELDS = {
    "family": ("family", "f" * 100_000, "at most 512 characters"),
    "name": ("name", "n" * 10_000, "at most 512 characters"),
    "licence": ("licence", "l" * 600, "at most 512 characters"),
    "release_date_zero": ("release_date", 0, "YYYY-MM-DD, not a number"),
    "release_date_epoch": ("release_date", 1_700_000_000, "YYYY-MM-DD, not a number"),
}


@pytest.mark.neo4j
@pytest.mark.parametrize("case", sorted(FIELDS))
def test_a_field_that_cannot_be_stored_refuses_the_manifest_and_writes_nothing(case, tmp_path, graph):
    field, value, needle = FIELDS[case]
    rows = population(tmp_path)
    before = counts(graph)
    rows[2][field] = value
    line = assert_one_line_error(run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows))), "entry 3", field, needle)
    assert len(line) < 400  # the value is not echoed
    assert counts(graph) == before == {}  # no model, and no Run left 'running'


def _truth(tmp_path, models, edges):
    path = tmp_path / "truth.json"
    path.write_text(json.dumps({"models": [{"id": m, "family": "f"} for m in models],
                                "edges": [{"parent": p, "child": c, "relation": "finetune"} for p, c in edges]}))
    return path


TRUTHS = {
    "model_twice": (["m0", "m1", "m2", "m1"], [("m0", "m1")], "model 4: 'm1' is listed twice"),
    "dangling_parent": (["m0", "m1", "m2"], [("ghost", "m1")], "edge 1: its parent 'ghost' is not among"),
    "dangling_child": (["m0", "m1", "m2"], [("m0", "m1"), ("m1", "nobody")], "edge 2: its child 'nobody' is not among"),
}


@pytest.mark.parametrize("case", sorted(TRUTHS))
def test_a_ground_truth_that_contradicts_itself_is_refused(case, tmp_path):
    models, edges, needle = TRUTHS[case]
    files = [str(dna_file(tmp_path / f"m{i}.json", f"m{i}")) for i in range(3)]
    truth = _truth(tmp_path, models, edges)
    assert_one_line_error(run_cli("eval", "--truth", str(truth), *files), str(truth), needle)


@pytest.mark.neo4j
def test_ids_are_nfc_and_look_alikes_are_warned_about(tmp_path, graph):
    rows = population(tmp_path, n=3)
    rows[0]["id"] = "cafe\u0301"  # e + combining accent
    first = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)))
    assert first.returncode == 0, first.stderr
    assert [r["model"] for r in graph.query("models") if r["model"].startswith("caf")] == ["caf\u00e9"]
    before = counts(graph)
    again = [{"id": "caf\u00e9", "dna": rows[0]["dna"], "family": "f"},   # the same model, the other normal form
             {"id": "ok\u200b1", "dna": str(dna_file(tmp_path / "zw.json", "zw")), "family": "f"},  # zero-width space
             {"id": "\u043ek2", "dna": str(dna_file(tmp_path / "cy.json", "cy")), "family": "f"}]  # Cyrillic o
    proc = run_cli("ingest", str(jsonl(tmp_path / "m2.jsonl", again)))
    assert proc.returncode == 0, proc.stderr
    warnings = [ln for ln in proc.stderr.splitlines() if "looks like" in ln]
    assert len(warnings) == 2 and "'ok1'" in warnings[0] + warnings[1] and "'ok2'" in warnings[0] + warnings[1]
    assert "\\u200b" in proc.stderr and "\\u043e" in proc.stderr  # shown escaped, never as the look-alike
    assert counts(graph)[("node", "Model")] == before[("node", "Model")] + 2


@pytest.mark.neo4j
def test_ids_with_bidi_controls_or_emoji_codes_print_as_written(tmp_path, graph):
    rows = population(tmp_path, n=3)
    rows[0]["id"] = "evil\u202egpj.exe"
    rows[1]["id"] = "org:skull:model"
    assert run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows))).returncode == 0
    for fmt in ("table", "csv"):
        out = run_cli("query", "models", "--format", fmt, env={"COLUMNS": "200"}).stdout
        assert "\u202e" not in out and "evil\\u202egpj.exe" in out, out
        assert "org:skull:model" in out and "\U0001f480" not in out, out
    exact = json.loads(run_cli("query", "models", "--format", "json").stdout)
    assert "evil\u202egpj.exe" in {r["model"] for r in exact}  # JSON stays exact


def test_an_endpoint_that_never_answers_gives_up_at_its_deadline():
    """A server that accepts connections and never answers: before, each request waited 6 x 120 s."""
    import socket
    import time

    from lineage.dna.record import GenerationConfig
    from lineage.errors import GenerationError
    from lineage.loaders.endpoint import EndpointSource

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # connections complete in the backlog; nothing is ever read or answered
        src = EndpointSource("mute", endpoint=f"http://127.0.0.1:{silent.getsockname()[1]}/v1", endpoint_model="m",
                             timeout=60.0, retries=5, backoff=0.1, deadline=2.0, concurrency=1)
        t0 = time.monotonic()
        with pytest.raises(GenerationError, match=r"in 2 s at most"):
            src.generate(["hello"], [0], GenerationConfig(max_new_tokens=4), lambda *a: None)
        assert time.monotonic() - t0 < 10
        src.close()


@pytest.mark.neo4j
@pytest.mark.parametrize("address", ["127.0.0.1:99999", "127.0.0.1:0", "head", "ray://:10001", "host:port"])
def test_a_ray_address_that_names_no_cluster_is_refused_before_any_connect(address, tmp_path, graph):
    import time

    rows = population(tmp_path, n=3)
    t0 = time.monotonic()
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)), "--executor", "ray", "--address", address)
    # the option's own check catches a malformed address, the executor's a port out of range
    assert_one_line_error(proc, address, "not a Ray")
    assert time.monotonic() - t0 < 60  # refused at once: it once waited forever
    assert counts(graph) == {}
