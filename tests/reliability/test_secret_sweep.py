"""Secrets cannot be sent or stored: `api_key_env` names only allowed variables (a manifest from
someone else cannot send `AWS_SECRET_ACCESS_KEY` to its server), URLs that can carry a secret
are refused, and after a real ingest through an endpoint that needs a key, the key is found in
no node property, no provenance output, no export format, no report and no cache file."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.tiny import build_tiny_model
from tests.reliability._hostile import counts, jsonl

SECRET = "sk-PLANTED-7f3a9c-never-stored"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """A real OpenAI-compatible server running a tiny model, which answers only the planted key."""
    from lineage.dna.record import GenerationConfig
    from lineage.loaders.hf import HFSource

    root = tmp_path_factory.mktemp("sweep")
    src = HFSource("served", path=build_tiny_model(root / "served", arch="llama", seed=4, chat=True),
                   device="cpu", batch_size=1)
    lock = threading.Lock()
    seen = {"requests": 0, "auth": set()}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def _reply(self, code: int, payload: dict | None = None):
            data = json.dumps(payload or {}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen["requests"] += 1
            seen["auth"].add(self.headers.get("Authorization"))
            if self.headers.get("Authorization") != f"Bearer {SECRET}":
                return self._reply(401, {"error": {"message": "bad key"}})
            if not self.path.endswith("/chat/completions"):
                return self._reply(404, {"error": {"message": "no logprobs here"}})
            out = []
            with lock:
                src.generate([body["messages"][0]["content"]], [0], GenerationConfig(max_new_tokens=body["max_tokens"]),
                             lambda i, a, n: out.append((a[0], n[0])))
            self._reply(200, {"choices": [{"message": {"content": out[0][0]}}],
                              "usage": {"completion_tokens": out[0][1]}})

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{httpd.server_port}/v1", "root": root, "seen": seen}
    httpd.shutdown()


@pytest.mark.neo4j
def test_a_key_variable_without_the_allowed_prefix_is_never_sent(endpoint, tmp_path, graph):
    before = endpoint["seen"]["requests"]
    rows = [{"id": "remote", "endpoint": endpoint["url"], "endpoint_model": "m", "api_key_env": "AWS_SECRET_ACCESS_KEY"}]
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)), env={"AWS_SECRET_ACCESS_KEY": SECRET})
    assert_one_line_error(proc, "entry 1", "AWS_SECRET_ACCESS_KEY", "LINEAGE_KEY_")
    assert SECRET not in proc.stdout + proc.stderr
    assert endpoint["seen"]["requests"] == before  # nothing was sent anywhere
    assert counts(graph) == {}


def test_allowed_prefixes_come_from_settings(monkeypatch):
    from lineage.errors import ConfigError, ManifestError
    from lineage.manifest import parse_manifest
    from lineage.settings import load_settings

    rows = [{"id": "r", "endpoint": "https://x.example/v1", "endpoint_model": "m", "api_key_env": "MYORG_TOKEN"}]
    with pytest.raises(ManifestError, match="does not start with LINEAGE_KEY_"):
        parse_manifest(rows)
    monkeypatch.setenv("LINEAGE_API_KEY_PREFIXES", '["MYORG_", "LINEAGE_KEY_"]')
    s = load_settings()
    assert s.api_key_prefixes == ["MYORG_", "LINEAGE_KEY_"]
    assert parse_manifest(rows, api_key_prefixes=s.api_key_prefixes).models[0].api_key_env == "MYORG_TOKEN"
    monkeypatch.setenv("LINEAGE_API_KEY_PREFIXES", '[""]')  # an empty prefix would allow every variable
    with pytest.raises(ConfigError, match="api_key_prefixes"):
        load_settings()


@pytest.mark.parametrize("name", ["", "1ABC", "LINEAGE_KEY_X;rm", "LINEAGE KEY"])
def test_a_key_variable_that_is_no_variable_name_is_refused(name):
    from lineage.errors import ManifestError
    from lineage.manifest import parse_manifest

    with pytest.raises(ManifestError, match="api_key_env"):
        parse_manifest([{"id": "r", "endpoint": "https://x.example/v1", "endpoint_model": "m", "api_key_env": name}])


def _sweep(graph, tmp_path, model_ids) -> dict[str, str]:
    """Everything lineage stores or prints about the graph, by where it came from."""
    seen = {"export_models": json.dumps(graph.query("export_models"), default=str),
            "population": json.dumps(graph.query("population"), default=str)}
    for m in model_ids:
        for q in ("provenance", "model_info"):
            proc = run_cli("query", q, "--param", f"model_id={m}", "--format", "json")
            assert proc.returncode == 0, proc.stderr
            seen[f"{q}:{m}"] = proc.stdout + proc.stderr
        proc = run_cli("report", m, "--out", str(tmp_path / f"{m}.html"))
        assert proc.returncode == 0, proc.stderr
        seen[f"report:{m}"] = (tmp_path / f"{m}.html").read_text() + proc.stderr
    for fmt in ("cyclonedx", "spdx", "graphml", "json"):
        proc = run_cli("export", "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        seen[f"export:{fmt}"] = proc.stdout + proc.stderr
    for fmt in ("table", "csv", "json"):
        seen[f"models:{fmt}"] = run_cli("query", "models", "--format", fmt).stdout
    return seen


@pytest.mark.neo4j
def test_after_a_real_ingest_with_a_key_the_key_is_nowhere(endpoint, tmp_path, graph):
    root = endpoint["root"]
    rows = [{"id": "local-a", "path": str(build_tiny_model(root / "a", arch="llama", seed=5, chat=True))},
            {"id": "local-b", "path": str(build_tiny_model(root / "b", arch="llama", seed=6, chat=True))},
            {"id": "remote", "endpoint": endpoint["url"], "endpoint_model": "tiny", "api_key_env": "LINEAGE_KEY_SWEEP"}]
    cache = tmp_path / "cache"
    env = {"LINEAGE_KEY_SWEEP": SECRET, "LINEAGE_CACHE_DIR": str(cache)}
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)), "--n-probes", "6", "--max-new-tokens", "6",
                   env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"Bearer {SECRET}" in endpoint["seen"]["auth"]  # the key was really used
    assert {r["model"]: r["status"] for r in graph.query("models")} == {"local-a": "ok", "local-b": "ok",
                                                                          "remote": "ok"}
    assert SECRET not in proc.stdout + proc.stderr
    seen = _sweep(graph, tmp_path, ["local-a", "local-b", "remote"])
    assert endpoint["url"] in seen["provenance:remote"]  # the sweep reads where the endpoint is recorded
    leaks = [where for where, text in seen.items() if SECRET in text]
    assert leaks == []
    cached = [p for p in cache.rglob("*") if p.is_file()]
    assert cached and not [p for p in cached if SECRET.encode() in p.read_bytes()]
