"""The next-token channel read from an OpenAI-compatible endpoint, against a real local HTTP server
whose ``/v1/completions`` runs a real tiny model teacher-forced on the prompt and answers echo
logprobs in OpenAI's format (decoded token strings, character offsets)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from lineage.core.channels.logits import _norm, compare_logits
from lineage.dna.extract import ExtractConfig
from lineage.dna.record import GenerationConfig
from lineage.errors import InputError
from lineage.evidence.logits import logits_profile
from lineage.evidence.profiles import model_evidence
from lineage.loaders.hf import HFSource
from lineage.manifest import ManifestEntry
from tests.helpers.tiny import build_tiny_model

KEY = "sk-logprobs-test-456"
SERVED = {"tiny", "tiny-copy", "tiny-k5"}  # the same model under three names; tiny-k5 allows 5 logprobs (OpenAI)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import torch

    root = tmp_path_factory.mktemp("logits-endpoint")
    folder = build_tiny_model(root / "served", arch="llama", seed=4, chat=True)
    other = build_tiny_model(root / "other", arch="llama", seed=9, chat=True)
    src = HFSource("served", path=folder, device="cpu", batch_size=1)
    src.load()
    model, tok = src.model, src.tokenizer
    lock = threading.Lock()
    state = {"echo": [], "auth": []}

    def echo(prompt: str, k: int) -> dict:
        enc = tok(prompt, add_special_tokens=False, return_offsets_mapping=True)
        ids, offs = enc["input_ids"], enc["offset_mapping"]
        with lock, torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), dim=-1)

        def top(row) -> dict:
            out: dict = {}
            for v, i in zip(*torch.topk(row, k)):
                out.setdefault(tok.decode([int(i)]), float(v))  # byte pieces decode alike: keep the likelier
            return out

        nxt = int(logp[-1].argmax())
        return {"tokens": [tok.decode([i]) for i in ids] + [tok.decode([nxt])],
                "token_logprobs": [None] + [float(logp[i, ids[i + 1]]) for i in range(len(ids) - 1)]
                + [float(logp[-1, nxt])],
                "top_logprobs": [None] + [top(logp[i]) for i in range(len(ids))],
                "text_offset": [o[0] for o in offs] + [len(prompt)]}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def reply(self, code: int, data: dict | None = None):
            raw = json.dumps(data or {}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state["auth"].append(self.headers.get("Authorization"))
            name = body["model"]
            if name not in SERVED | {"no-logprobs", "refuses"}:
                return self.reply(404, {"error": {"message": f"model {name} not found"}})
            if body.get("echo"):
                state["echo"].append(name)
                if name == "refuses":
                    return self.reply(400, {"error": {"message": "echo is not supported with logprobs"}})
                limit = 5 if name == "tiny-k5" else 20
                if body["logprobs"] > limit:
                    return self.reply(400, {"error": {"message": f"logprobs must be at most {limit}"}})
                if name == "no-logprobs":
                    return self.reply(200, {"choices": [{"text": body["prompt"] + " x"}]})
                return self.reply(200, {"choices": [{"text": body["prompt"] + " x",
                                                     "logprobs": echo(body["prompt"], body["logprobs"])}]})
            chat = self.path.endswith("/chat/completions")  # DNA answers, for the ingest test
            prompt = body["messages"][0]["content"] if chat else body["prompt"]
            out = []
            with lock:
                src.generate([prompt], [0], GenerationConfig(max_new_tokens=body["max_tokens"], chat_template=chat),
                             lambda i, a, n: out.append((a[0], n[0])))
            choice = {"message": {"content": out[0][0]}} if chat else {"text": out[0][0]}
            self.reply(200, {"choices": [choice], "usage": {"completion_tokens": out[0][1]}})

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{httpd.server_port}/v1", "folder": folder, "other": other, "state": state}
    httpd.shutdown()
    src.close()


def entry(server, name: str, model_id: str | None = None, **kw) -> ManifestEntry:
    return ManifestEntry(id=model_id or f"api-{name}", endpoint=server["url"], endpoint_model=name, **kw)


@pytest.fixture()
def key(monkeypatch):
    monkeypatch.setenv("LINEAGE_KEY_TINY", KEY)


def test_the_endpoint_profile_is_the_served_folder_s_profile(server, key, tmp_path):
    t0 = time.perf_counter()
    ep = model_evidence(entry(server, "tiny", api_key_env="LINEAGE_KEY_TINY"), cache_dir=tmp_path, on_error="raise").logits
    seconds = time.perf_counter() - t0
    local = logits_profile(server["folder"], cache_dir=tmp_path)
    # another id space: never compared by id with the local profile
    assert ep.tokenizer.startswith("endpoint:") and ep.tokenizer != local.tokenizer
    assert ep.topk_ids.shape == local.topk_ids.shape and ep.topk_ids.dtype == np.int64
    at = {(s, c): i for i, (s, c) in enumerate(zip(local.segment.tolist(), local.char_end.tolist()))}
    assert sorted(at) == sorted(zip(ep.segment.tolist(), ep.char_end.tolist()))  # the same positions
    rows = [at[(s, c)] for s, c in zip(ep.segment.tolist(), ep.char_end.tolist())]
    # the same top-1 token, as text, wherever the endpoint's is text (a random tiny model often
    # predicts lone bytes, which the local profile spells in the byte alphabet and the server as U+FFFD)
    text = [i for i, t in enumerate(ep.top1_text) if t]
    assert len(text) > 0.4 * len(rows)
    assert [_norm(ep.top1_text[i]) for i in text] == [_norm(local.top1_text[rows[i]]) for i in text]
    assert np.array_equal(ep.top1_correct[text], local.top1_correct[rows][text])
    assert np.allclose(ep.topk_logp[:, 0], local.topk_logp[rows, 0], atol=1e-4)  # and its log-probability
    same = compare_logits(ep, local)
    assert same.mode == "top1" and same.agreement == pytest.approx(1.0)
    assert same.n_both_wrong >= 30 and same.shared_errors == pytest.approx(1.0)
    stranger = compare_logits(ep, logits_profile(server["other"], cache_dir=tmp_path))
    assert stranger.mode == "top1" and stranger.agreement < 0.5 and stranger.shared_errors < 0.5
    # two endpoints serving the same tokenizer share the id space: Jensen-Shannon between them
    copy = model_evidence(entry(server, "tiny-copy", api_key_env="LINEAGE_KEY_TINY"), cache_dir=tmp_path).logits
    assert copy.tokenizer == ep.tokenizer and copy.key != ep.key
    pair = compare_logits(ep, copy)
    assert pair.mode == "jsd" and pair.distance == pytest.approx(0.0, abs=1e-6)
    print(f"endpoint next-token profile of the tiny test server: {seconds:.2f} s")


def test_a_server_allowing_five_logprobs_gives_a_top5_profile(server, key, tmp_path):
    ep = model_evidence(entry(server, "tiny-k5", api_key_env="LINEAGE_KEY_TINY"), cache_dir=tmp_path).logits
    assert ep.topk_ids.shape[1] == 5
    same = compare_logits(ep, logits_profile(server["folder"], cache_dir=tmp_path))
    assert same.agreement == pytest.approx(1.0)


def test_the_cache_is_reused_and_never_holds_the_key(server, key, tmp_path):
    e = entry(server, "tiny", api_key_env="LINEAGE_KEY_TINY")
    n0 = len(server["state"]["echo"])
    first = model_evidence(e, cache_dir=tmp_path).logits
    n1 = len(server["state"]["echo"])
    assert n1 - n0 == 30  # one request per paragraph
    again = model_evidence(e, cache_dir=tmp_path).logits
    assert len(server["state"]["echo"]) == n1  # the server is not asked again
    assert again.key == first.key and again.tokenizer == first.tokenizer
    assert np.array_equal(again.topk_ids, first.topk_ids) and again.top1_text == first.top1_text
    files = list((tmp_path / "evidence" / "logits").glob("*.npz"))
    assert len(files) == 1 and files[0].stem == first.key
    raw = files[0].read_bytes()
    assert KEY.encode() not in raw and server["url"].encode() not in raw
    assert server["state"]["auth"][-1] == f"Bearer {KEY}"


@pytest.mark.parametrize("name, why", [("no-logprobs", "without logprobs"), ("refuses", "HTTP 400")])
def test_a_server_without_logprobs_leaves_the_channel_absent_with_its_reason(server, tmp_path, settings, name, why):
    from lineage.pipeline.ingest import _weight_props

    for policy in ("raise", "record"):  # not an error under either policy
        ev = model_evidence(entry(server, name), cache_dir=tmp_path, on_error=policy)
        assert ev.logits is None and ev.weights is None and not ev.errors
        assert why in ev.notes["logits"] and ev.notes["logits"].startswith(f"model 'api-{name}'")
        assert "\n" not in ev.notes["logits"]
    props = _weight_props(entry(server, name), settings)
    assert props["weights_key"] is None and props["logits_key"] is None and why in props["logits_error"]
    assert not list((tmp_path / "evidence").rglob("*.npz"))  # nothing cached: a later server may answer


def test_a_missing_key_or_a_bad_url_is_a_one_line_user_error(server, tmp_path, monkeypatch):
    monkeypatch.delenv("LINEAGE_KEY_NO_SUCH", raising=False)
    with pytest.raises(InputError, match=r"LINEAGE_KEY_NO_SUCH.*\(logits channel\)$"):
        model_evidence(entry(server, "tiny", api_key_env="LINEAGE_KEY_NO_SUCH"), cache_dir=tmp_path, on_error="raise")
    ev = model_evidence(entry(server, "tiny", api_key_env="LINEAGE_KEY_NO_SUCH"), cache_dir=tmp_path, on_error="record")
    assert ev.logits is None and "LINEAGE_KEY_NO_SUCH" in ev.errors["logits"]
    bad = ManifestEntry(id="ftp", endpoint="ftp://127.0.0.1/v1", endpoint_model="tiny")
    with pytest.raises(InputError, match=r"^model 'ftp': endpoint .* is not an http\(s\) URL \(logits channel\)$"):
        model_evidence(bad, cache_dir=tmp_path, on_error="raise")


@pytest.mark.neo4j
def test_ingest_stores_the_endpoint_channel_and_the_population_reads_it(server, key, settings, graph, tmp_path):
    from lineage.pipeline.ingest import ingest, population_from_graph

    manifest = tmp_path / "m.yaml"
    manifest.write_text(json.dumps({"models": [
        {"id": "local", "path": str(server["folder"])},
        {"id": "other", "path": str(server["other"])},
        {"id": "api", "endpoint": server["url"], "endpoint_model": "tiny", "api_key_env": "LINEAGE_KEY_TINY"},
        {"id": "api-plain", "endpoint": server["url"], "endpoint_model": "no-logprobs"}]}))
    cfg = ExtractConfig(n_probes=6, generation=GenerationConfig(max_new_tokens=8), device="cpu", batch_size=1)
    rep = ingest(manifest, settings=settings, extract_config=cfg)
    assert rep.n_failed == 0, rep.failures
    keys = {r["id"]: r["logits_key"] for r in graph.query("population")}
    assert keys["api"] and keys["local"] and keys["api"] != keys["local"] and keys["api-plain"] is None
    pop = population_from_graph(graph, settings)
    lg = dict(zip(pop.ids, pop.logits))
    assert lg["api-plain"] is None and lg["api"].tokenizer.startswith("endpoint:")
    assert compare_logits(lg["api"], lg["local"]).agreement == pytest.approx(1.0)
