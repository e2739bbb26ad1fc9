"""An OpenAI-compatible server as a slow or hostile one would behave (#21), through the real CLI
against a real local HTTP server: Ctrl-C while requests are in flight stops `lineage ingest` at
once (exit 130, the run marked `interrupted`, the response cache holding only whole, sealed
entries), and an answer larger than the cap fails that model alone, naming the endpoint and
the limit, without reading the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers.cli import run_cli
from tests.reliability._hostile import counts, jsonl


#: Requests answered at once before the server turns slow: one whole round of 8 x 4 prompts.
FAST = 32


@pytest.fixture()
def server():
    """``model`` ``good`` answers at once; ``slow`` answers FAST requests, then sleeps 60 s per request;
    ``declared`` announces a 500 MB body; ``endless`` streams without a length until the client leaves."""
    state = {"requests": 0, "slow_started": threading.Event(), "sent": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *a):
            pass

        def _answer(self, prompt: str):
            text = " ".join(reversed(prompt.split())) or "empty"
            data = json.dumps({"choices": [{"message": {"content": text}, "text": text}],
                               "usage": {"completion_tokens": 4}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            prompt = body["messages"][0]["content"] if "messages" in body else body["prompt"]
            if body.get("echo"):  # no next-token channel here: a 404 makes it absent, not a failure
                self.send_response(404)
                self.end_headers()
                return
            with lock:
                state["requests"] += 1
                n = state["requests"]
            model = body["model"]
            if model == "slow" and n > FAST:
                state["slow_started"].set()
                time.sleep(60)
            if model == "declared":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(500 * 2**20))
                self.end_headers()
                self.wfile.write(b"{" + b" " * 65536)
                return
            if model == "endless":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()  # no length: the body ends when the connection does
                chunk = b'{"choices": [{"text": "' + b"x" * 65536
                try:
                    while state["sent"] < 500 * 2**20:
                        self.wfile.write(chunk)
                        state["sent"] += len(chunk)
                except OSError:
                    return
                return
            self._answer(prompt)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{httpd.server_port}/v1", **state, "state": state}
    httpd.shutdown()


def _runs(graph) -> list[str]:
    return [r["s"] for r in graph.driver.execute_query("MATCH (r:Run) RETURN r.status AS s").records]


@pytest.mark.neo4j
def test_ctrl_c_with_requests_in_flight_stops_at_once_and_marks_the_run(server, tmp_path, graph):
    from lineage.dna.cache import _sealed_bytes
    from lineage.seal import Seal

    cache = tmp_path / "cache"
    manifest = jsonl(tmp_path / "m.jsonl", [{"id": "remote", "endpoint": server["url"], "endpoint_model": "slow"}])
    env = {**os.environ, "LINEAGE_CACHE_DIR": str(cache)}
    env.pop("LINEAGE_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-m", "lineage", "ingest", str(manifest), "--n-probes", "48",
                             "--max-new-tokens", "4"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert server["slow_started"].wait(120), "the ingest never reached the slow requests"
        time.sleep(0.5)  # every worker is now waiting on the server
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (proc.returncode, err)
    assert took < 5, f"Ctrl-C took {took:.1f} s"
    assert "Traceback" not in err and "Exception" not in err, err
    assert err.strip().splitlines()[-1] == "interrupted", err  # one line says what happened
    assert _runs(graph) == ["interrupted"]
    entries = list((cache / "responses").glob("*"))
    assert len(entries) == 1 and entries[0].suffix == ".json", entries  # no temporary file left
    data = json.loads(entries[0].read_text())
    assert data["n_done"] == FAST  # the whole first round, nothing of the one interrupted
    assert Seal(cache).verify(entries[0], data["seal"], _sealed_bytes(data))


@pytest.mark.neo4j
@pytest.mark.parametrize("kind", ["declared", "endless"])
def test_an_answer_over_the_size_cap_fails_that_model_alone(kind, server, tmp_path, graph):
    rows = [{"id": "good", "endpoint": server["url"], "endpoint_model": "good"},
            {"id": "huge", "endpoint": server["url"], "endpoint_model": kind}]
    t0 = time.monotonic()
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)), "--n-probes", "8", "--max-new-tokens", "4",
                   env={"LINEAGE_CACHE_DIR": str(tmp_path / "cache"), "LINEAGE_ENDPOINT_MAX_ANSWER_BYTES": "1048576"},
                   timeout=300)
    took = time.monotonic() - t0
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    bad = graph.query("model_info", model_id="huge")[0]
    assert bad["status"] == "failed", bad
    assert server["url"].split("/v1")[0] in bad["error"] and "1,048,576 bytes per answer" in bad["error"], bad
    assert graph.query("model_info", model_id="good")[0]["status"] == "ok"
    assert counts(graph)[("node", "Model")] == 2
    assert server["state"]["sent"] < 64 * 2**20, server["state"]["sent"]  # the rest of 500 MB was never read
    assert took < 120, took


def test_a_bad_answer_cap_setting_is_refused_naming_it(monkeypatch):
    from lineage.errors import ConfigError
    from lineage.loaders.endpoint import EndpointSource

    for bad in ("lots", "-1", "100"):
        monkeypatch.setenv("LINEAGE_ENDPOINT_MAX_ANSWER_BYTES", bad)
        with pytest.raises(ConfigError, match="LINEAGE_ENDPOINT_MAX_ANSWER_BYTES: needs a whole number of bytes"):
            EndpointSource("m", endpoint="http://127.0.0.1:9/v1", endpoint_model="m")
    monkeypatch.setenv("LINEAGE_ENDPOINT_MAX_ANSWER_BYTES", "8192")
    assert EndpointSource("m", endpoint="http://127.0.0.1:9/v1", endpoint_model="m").max_answer_bytes == 8192
