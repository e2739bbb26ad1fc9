"""The OpenAI-compatible endpoint adapter against a real local HTTP server that runs a tiny model."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from lineage.dna.record import GenerationConfig
from lineage.errors import GenerationError, ModelLoadError
from lineage.dna.extract import ExtractConfig, Extractor
from lineage.loaders.hf import HFSource
from lineage.manifest import ManifestEntry
from tests.helpers.tiny import build_tiny_model

CFG = ExtractConfig(n_probes=6, generation=GenerationConfig(max_new_tokens=8), device="cpu", batch_size=1)
KEY = "sk-test-123"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    model = build_tiny_model(tmp_path_factory.mktemp("srv") / "m", arch="llama", seed=4, chat=True)
    src = HFSource("served", path=model, device="cpu", batch_size=1)
    lock = threading.Lock()
    state = {"failed_once": set(), "auth": []}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state["auth"].append(self.headers.get("Authorization"))
            if body["model"] != "tiny":
                self.send_response(404), self.end_headers()
                return
            prompt = body["messages"][0]["content"]
            if prompt not in state["failed_once"]:  # every prompt fails once: the client must retry
                state["failed_once"].add(prompt)
                self.send_response(503), self.end_headers()
                return
            out = []
            gen = GenerationConfig(max_new_tokens=body["max_tokens"])
            with lock:
                src.generate([prompt], [0], gen, lambda i, a, n: out.append((a[0], n[0])))
            data = json.dumps({"choices": [{"message": {"content": out[0][0]}}],
                               "usage": {"completion_tokens": out[0][1]}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{httpd.server_port}/v1", "model": model, "state": state}
    httpd.shutdown()


def test_endpoint_dna_equals_local_dna(server, tmp_path, monkeypatch):
    monkeypatch.setenv("LINEAGE_KEY_TINY", KEY)
    ex = Extractor(CFG, tmp_path)
    entry = ManifestEntry(id="api-model", endpoint=server["url"], endpoint_model="tiny", api_key_env="LINEAGE_KEY_TINY")
    d_api = ex.extract(entry)
    d_local = ex.extract(server["model"])
    assert np.array_equal(d_api.vector, d_local.vector)  # same answers through HTTP as in-process
    assert all(a == f"Bearer {KEY}" for a in server["state"]["auth"])
    cached = "".join(p.read_text() for p in (tmp_path / "responses").glob("*.json"))
    assert KEY not in cached and KEY not in json.dumps(d_api.provenance.model_dump())


def test_missing_key_and_bad_model_are_clear(server, tmp_path, monkeypatch):
    monkeypatch.delenv("LINEAGE_KEY_NO_SUCH", raising=False)
    ex = Extractor(CFG, tmp_path)
    with pytest.raises(ModelLoadError, match="LINEAGE_KEY_NO_SUCH"):
        ex.extract(ManifestEntry(id="x", endpoint=server["url"], endpoint_model="tiny", api_key_env="LINEAGE_KEY_NO_SUCH"))
    with pytest.raises(GenerationError, match="HTTP 404"):
        ex.extract(ManifestEntry(id="y", endpoint=server["url"], endpoint_model="other"))
